"""One arch's recipe: its builder, default data and training settings, and
the store :func:`register` fills (from ``keras_arch/recipes.py``).

Builders and loaders are named by dotted path ("module:function") so that
listing and validating recipes never imports TensorFlow.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, Optional, Tuple


@dataclasses.dataclass(frozen=True)
class Recipe:
    name: str
    summary: str
    source: str  # document and section the builder reproduces
    builder: str  # "module:function" returning an uncompiled tf_keras.Model
    data: str  # "module:function" returning a keras_arch.data.Splits
    datasets: Tuple[str, ...] = ("default",)  # values accepted by --dataset
    builder_kwargs: Dict[str, Any] = dataclasses.field(default_factory=dict)
    epochs: int = 10
    batch_size: int = 64
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    lr_schedule: str = "constant"
    warmup_epochs: float = 0.0
    # Clip the gradients' global norm to this (None: no clipping). Recurrent
    # encoder-decoders need it: a rare exploding step undoes a run.
    clipnorm: Optional[float] = None
    augment_shift: int = 0  # random translation of training images, in pixels
    # Per-data changes to the training recipe, keyed by the data's family
    # ("digits", "mnist"): a 1.3k-image set needs more epochs than 54k images.
    by_data: Dict[str, Dict[str, Any]] = dataclasses.field(default_factory=dict)
    # Fewest epochs that learn the task, per data family, with the reason: a
    # shorter --epochs is run but warned about (the transformer on generated
    # reviews plateaus at about 0.58 until epoch 5-6).
    min_epochs: Dict[str, Tuple[int, str]] = dataclasses.field(default_factory=dict)
    loss: str = "sparse_categorical_crossentropy"
    # "module:Class": the keras_arch.tasks.base.Task that trains, evaluates
    # and serves the arch (how it differs from a one-fit classifier).
    task: str = "keras_arch.tasks.classification:ClassificationTask"
    # {option flag: why} this arch refuses beyond what its task refuses
    # (its data is generated only, its int8 conversion crashes, ...).
    refused: Dict[str, str] = dataclasses.field(default_factory=dict)
    # Names of the default serving signature's input and output tensors.
    serving_input: str = "inputs"
    serving_output: str = "probabilities"
    # Fixed batch size for TFLite conversion, for layers that need one (LSTM).
    tflite_batch: Optional[int] = None
    # {input: fixed length of its time axis} in the TFLite models (recurrent layers unroll over it).
    tflite_lengths: Dict[str, int] = dataclasses.field(default_factory=dict)
    # "module:function"(model, splits, directory) -> [png paths], for --plot.
    plot: str = ""
    # "module:function"(model, splits) -> {metric: value} the trainer adds to
    # its metrics, with "report_rows" [(label, text)] for the summary (MoE load).
    report: str = ""
    # Builder arguments for a structurally identical small model: what the
    # serving tests and the support matrix build (a tiny random BERT, say).
    small_builder_kwargs: Dict[str, Any] = dataclasses.field(default_factory=dict)

    def config(self) -> Dict[str, Any]:
        cfg = dataclasses.asdict(self)
        cfg["datasets"] = list(self.datasets)
        return cfg


_RECIPES: Dict[str, Recipe] = {}


def register(recipe: Recipe) -> Recipe:
    if recipe.name in _RECIPES:
        raise ValueError(f"arch {recipe.name!r} is registered twice")
    _RECIPES[recipe.name] = recipe
    return recipe
