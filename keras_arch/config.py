"""A run's configuration in two typed forms, free of TensorFlow (``run
--help`` stays instant):

- :class:`RunConfig`: what the user asked for (``run``'s options, or
  :func:`keras_arch.train`'s keywords); ``None`` means "the recipe's value";
- :class:`Settings`: the training settings of one run, resolved from the
  RunConfig over the recipe's defaults for the data family the run reads.
  Tasks read it; ``--metrics-json`` and ``run.json`` record it.

Anchor: TF Model Garden's ``official/core/config_definitions.py`` (one typed
config per experiment, the task's part beside the trainer's).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, Optional

from keras_arch.errors import UsageError

# The options a recipe gives defaults for (and --metrics-json reports).
TRAINING_KEYS = ("dataset", "epochs", "batch_size", "learning_rate", "optimizer", "lr_schedule")


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """What a run was asked to do.

    Args:
        dataset, data_dir, test_dir: the data (``--dataset`` ...).
        epochs, batch_size, learning_rate, optimizer, lr_schedule: training
            overrides; None keeps the recipe's value for the data family.
        full_batch: one optimizer step per epoch over all training examples.
        seed: Python/NumPy/TensorFlow seed; the same seed gives the same metrics.
        pretrained, max_length, freeze_encoder: the BERT task's options.
        combine, negatives: the knowledge-graph task's options.
        labels_per_class: the transfer task's labelled target images per class.
        prune, qat, tflite, per_channel, compress_epochs: compression after training.
        strategy, jit: devices and compilation.
        precision: the Keras mixed-precision policy, or "auto"
            (:mod:`keras_arch.precision`).
        export, checkpoint_dir, plot, logdir: outputs.
        quiet: no progress bar.
    """
    dataset: Optional[str] = None
    data_dir: Optional[str] = None
    test_dir: Optional[str] = None
    epochs: Optional[int] = None
    batch_size: Optional[int] = None
    learning_rate: Optional[float] = None
    optimizer: Optional[str] = None
    lr_schedule: Optional[str] = None
    full_batch: bool = False
    seed: int = 0
    pretrained: Optional[str] = None
    max_length: int = 128
    freeze_encoder: bool = False
    combine: Optional[str] = None
    negatives: Optional[int] = None
    labels_per_class: Optional[int] = None
    prune: Optional[float] = None
    qat: bool = False
    tflite: Optional[str] = None
    per_channel: bool = False
    compress_epochs: int = 2
    strategy: Optional[str] = None
    precision: str = "float32"
    jit: bool = False
    export: Optional[str] = None
    checkpoint_dir: Optional[str] = None
    plot: Optional[str] = None
    logdir: Optional[str] = None
    quiet: bool = False

    @classmethod
    def from_args(cls, args) -> "RunConfig":
        """The RunConfig of ``run``'s parsed command line (its options are
        these fields; an option left out keeps the field's default)."""
        values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)}
        return cls(**{k: v for k, v in values.items() if v is not None or cls.__dataclass_fields__[k].default is None})

    @property
    def compress(self):
        return bool(self.prune or self.qat or self.tflite)

    def replace(self, **changes) -> "RunConfig":
        return dataclasses.replace(self, **changes)

    def settings(self, recipe, data_family=None, **extras) -> "Settings":
        """The run's :class:`Settings`: these options over the recipe's
        defaults for ``data_family`` over the recipe's defaults. ``extras``
        are the task's own resolved settings (the kg task's negatives, ...)."""
        by_data = recipe.by_data.get(data_family, {})
        asked = {k: getattr(self, k) for k in TRAINING_KEYS}
        defaults = {k: getattr(recipe, k) for k in TRAINING_KEYS if k != "dataset"}
        defaults.update({k: v for k, v in by_data.items() if k in TRAINING_KEYS}, dataset=recipe.datasets[0])
        values = {k: (defaults[k] if v is None else v) for k, v in asked.items()}
        if values["dataset"] not in recipe.datasets:
            raise UsageError(f"--dataset {values['dataset']!r} is not available for {recipe.name}; "
                             f"choose from {', '.join(recipe.datasets)}")
        for key in ("epochs", "batch_size"):
            if values[key] <= 0:
                raise UsageError(f"--{key.replace('_', '-')} must be positive, got {values[key]}")
        if values["learning_rate"] <= 0:
            raise UsageError(f"--learning-rate must be positive, got {values['learning_rate']}")
        return Settings(
            arch=recipe.name, **values, seed=self.seed, data_dir=self.data_dir, test_dir=self.test_dir,
            warmup_epochs=by_data.get("warmup_epochs", recipe.warmup_epochs),
            augment_shift=by_data.get("augment_shift", recipe.augment_shift),
            clipnorm=recipe.clipnorm, builder=recipe.builder,
            builder_kwargs={**recipe.builder_kwargs, **by_data.get("builder_kwargs", {})},
            source=recipe.source, jit=self.jit, precision=self.precision,
            strategy=self.strategy or "auto", extras=dict(extras))


@dataclasses.dataclass(frozen=True)
class Settings:
    """The resolved training settings of one run.

    Args:
        arch: the registered arch.
        dataset, data_dir, test_dir: the data read.
        epochs, batch_size, learning_rate, optimizer, lr_schedule: training.
        warmup_epochs: warm-up of the warmup-* schedules, in epochs.
        augment_shift: random translation of training images, in pixels.
        clipnorm: global gradient-norm clipping (None: none).
        seed: the run's seed.
        builder, builder_kwargs, source: what builds the model, and which
            document section it reproduces.
        jit, strategy: compilation and devices.
        precision: the mixed-precision policy the run trains under: the
            asked one, or what ``auto`` resolved to (float32, mixed_bfloat16
            or mixed_float16).
        extras: the task's own settings (kg: negatives, combine, ...).
    """
    arch: str
    dataset: str
    epochs: int
    batch_size: int
    learning_rate: float
    optimizer: str
    lr_schedule: str
    seed: int = 0
    data_dir: Optional[str] = None
    test_dir: Optional[str] = None
    warmup_epochs: float = 0.0
    augment_shift: int = 0
    clipnorm: Optional[float] = None
    builder: str = ""
    builder_kwargs: Dict[str, Any] = dataclasses.field(default_factory=dict)
    source: str = ""
    jit: bool = False
    precision: str = "float32"
    strategy: str = "auto"
    extras: Dict[str, Any] = dataclasses.field(default_factory=dict)

    def replace(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> Dict[str, Any]:
        """Flat dict (extras beside the common settings): what --metrics-json
        and run.json record."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extras"}
        out["builder_kwargs"] = dict(self.builder_kwargs)
        return {**out, **self.extras}
