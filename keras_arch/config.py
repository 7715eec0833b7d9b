"""A run's configuration, free of TensorFlow (``run --help`` stays instant).

- :class:`RunConfig`: what the user asked for. Its fields **are** the list of
  ``python -m keras_arch.run`` options: each field's :func:`option` metadata
  holds the flag, its group, type and help. The parser
  (:func:`keras_arch.options.build_parser`), :data:`keras_arch.options.ALL_OPTIONS`
  and the refusal table (``docs/options.md``) are all derived from it, so an
  option is added in exactly one place. ``None`` means "the recipe's value".
- :class:`Settings`: the training settings of one run, resolved once from the
  RunConfig over the recipe's defaults for the data family the run reads
  (:func:`resolve_settings`). Every step of the run reads them;
  ``--metrics-json`` and ``run.json`` record them.

Anchor: TF Model Garden's ``official/core/config_definitions.py`` (one typed
config per experiment, the task's part beside the trainer's).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Dict, Optional, Tuple

from keras_arch import cli
from keras_arch.errors import UsageError

# The options a recipe gives defaults for (and --metrics-json reports).
TRAINING_KEYS = ("dataset", "epochs", "batch_size", "learning_rate", "optimizer", "lr_schedule")

OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")
SCHEDULES = ("constant", "step", "exponential", "cosine", "warmup-cosine", "warmup-linear")
STRATEGIES = ("auto", "one-device", "mirrored", "multi-worker")
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")


@dataclasses.dataclass(frozen=True)
class Option:
    """How one RunConfig field appears on the command line.

    Args:
        flag: the long option ("--data-dir").
        group: the ``--help`` section it is listed under.
        help: its ``--help`` text.
        type: an argparse type (:mod:`keras_arch.cli`'s checked types).
        choices: the values it accepts.
        metavar: the value's name in ``--help``.
        switch: a flag without a value (store_true).
    """
    flag: str
    group: str
    help: str = ""
    type: Optional[Callable] = None
    choices: Optional[Tuple[str, ...]] = None
    metavar: Optional[str] = None
    switch: bool = False


GROUPS = ("data", "training", "pretrained encoders (bert)", "knowledge graphs (kg, kg-distmult, kg-transe)",
          "transfer", "compression (applied after training, in this order)", "distribution and devices", "output")


def option(flag, group, default=None, **kwargs):
    """A RunConfig field that is also a command-line option."""
    return dataclasses.field(default=default, metadata={"option": Option(flag, group, **kwargs)})


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """What a run was asked to do: ``run``'s options (or :func:`keras_arch.train`'s
    keywords), one field each; ``python -m keras_arch.run --help`` describes them.

    Args:
        dataset, data_dir, test_dir: the data.
        epochs, batch_size, learning_rate, optimizer, lr_schedule: training
            overrides; None keeps the recipe's value for the data family.
        full_batch: one optimizer step per epoch over all training examples.
        seed: Python/NumPy/TensorFlow seed; the same seed gives the same metrics.
        pretrained, max_length, freeze_encoder: the BERT task's options.
        combine, negatives: the knowledge-graph task's options.
        labels_per_class: the transfer task's labelled target images per class.
        prune, qat, tflite, per_channel, compress_epochs: compression after training.
        strategy, logical_devices, precision, jit: devices, numerics and compilation.
        export, checkpoint_dir, plot, logdir, metrics_json: outputs.
        quiet: no progress bar.
    """
    dataset: Optional[str] = option("--dataset", "data", help="named data set (default: the arch's embedded default)")
    data_dir: Optional[str] = option("--data-dir", "data",
                                     help="read the data set from this directory (e.g. MNIST IDX files)")
    test_dir: Optional[str] = option("--test-dir", "data", help="evaluate the final model on this directory's test files")
    epochs: Optional[int] = option("--epochs", "training", type=cli.positive_int)
    batch_size: Optional[int] = option("--batch-size", "training", type=cli.positive_int)
    learning_rate: Optional[float] = option("--learning-rate", "training", type=cli.positive_float)
    optimizer: Optional[str] = option("--optimizer", "training", choices=OPTIMIZERS)
    lr_schedule: Optional[str] = option("--lr-schedule", "training", choices=SCHEDULES)
    full_batch: bool = option("--full-batch", "training", False, switch=True,
                              help="full-batch gradient descent: one step per epoch over the whole training set")
    seed: int = option("--seed", "training", 0, type=cli.seed,
                       help="same seed, same metrics (0 .. 2**32-1, default 0)")
    pretrained: Optional[str] = option(
        "--pretrained", "pretrained encoders (bert)", metavar="DIR",
        help="a local Hugging Face BERT directory (config.json, vocab.txt, model.safetensors or tf_model.h5); "
             "default: the packaged all-MiniLM-L6-v2")
    max_length: Optional[int] = option(
        "--max-length", "pretrained encoders (bert)", type=cli.positive_int,
        help="tokens per sentence, [CLS] and [SEP] included (default 128; 3 .. the encoder's position table)")
    freeze_encoder: bool = option("--freeze-encoder", "pretrained encoders (bert)", False, switch=True,
                                  help="train only the classification head")
    combine: Optional[str] = option(
        "--combine", "knowledge graphs (kg, kg-distmult, kg-transe)", choices=("concat", "sum"),
        help="kg: how E(h), E(t), E(r) enter the MLP: concatenated (default) or added (document 004's text)")
    negatives: Optional[int] = option(
        "--negatives", "knowledge graphs (kg, kg-distmult, kg-transe)", type=cli.non_negative_int, metavar="K",
        help="train each triple against K sampled tails shared by its batch instead of scoring every entity "
             "(1-N); 0: 1-N. Default: 1-N, or sampled negatives on a graph too large for 1-N (the run says "
             "what it chose)")
    labels_per_class: Optional[int] = option(
        "--labels-per-class", "transfer", type=cli.positive_int, metavar="N",
        help="transfer: labelled target images per class (default 20 on digits, 100 on MNIST)")
    prune: Optional[Any] = option(
        "--prune", "compression (applied after training, in this order)", type=cli.sparsity, metavar="S|M:N",
        help="magnitude-prune to target sparsity S in (0, 1) along a PolynomialDecay schedule, or to the "
             "structured M:N pattern (2:4: two zeros in every four consecutive weights of each Dense and "
             "Conv2D kernel's input axis; other layers stay dense), fine-tuning meanwhile")
    qat: bool = option("--qat", "compression (applied after training, in this order)", False, switch=True,
                       help="quantization-aware fine-tuning (pruning-preserving after --prune)")
    tflite: Optional[str] = option("--tflite", "compression (applied after training, in this order)",
                                   metavar="PATH", help="write a full-int8 .tflite to PATH and a float one beside it")
    per_channel: bool = option("--per-channel", "compression (applied after training, in this order)", False,
                               switch=True,
                               help="quantize conv kernels per channel (default per tensor: a smaller .tflite)")
    compress_epochs: Optional[int] = option(
        "--compress-epochs", "compression (applied after training, in this order)", type=cli.positive_int,
        help="fine-tuning epochs for --prune (default 2; --qat uses half, bert all of them)")
    strategy: Optional[str] = option(
        "--strategy", "distribution and devices", choices=STRATEGIES,
        help="tf.distribute strategy (default auto: MirroredStrategy over several GPUs, else none); "
             "multi-worker reads TF_CONFIG")
    logical_devices: Optional[int] = option(
        "--logical-devices", "distribution and devices", type=cli.positive_int, metavar="N",
        help="split the CPU (or a single GPU) into N logical devices, e.g. to run mirrored on one machine")
    precision: str = option(
        "--precision", "distribution and devices", "float32", choices=PRECISIONS,
        help="float32 (default); mixed_bfloat16: bfloat16 compute, float32 weights, outputs, softmaxes and "
             "LayerNorm statistics (matmuls gain several times on CPUs with AMX, a whole BERT run far "
             "less, small models nothing: docs/measurements.md); mixed_float16 (GPUs with tensor "
             "cores; emulated and slower on CPU); "
             "auto: mixed_bfloat16 where the hardware has it and the run does not compress, else float32")
    jit: bool = option("--jit", "distribution and devices", False, switch=True,
                       help="XLA-compile the train step (GPUs; small models get slower on CPU)")
    export: Optional[str] = option("--export", "output", metavar="DIR",
                                   help="write a TF Serving SavedModel to DIR/<arch>/<version>/")
    checkpoint_dir: Optional[str] = option("--checkpoint-dir", "output", metavar="DIR",
                                           help="resume an interrupted run from DIR and keep the best weights there")
    plot: Optional[str] = option("--plot", "output", metavar="DIR",
                                 help="write training curves (and attention heat maps) as PNGs")
    logdir: Optional[str] = option("--logdir", "output", metavar="DIR",
                                   help="TensorBoard scalars (and pruning summaries with --prune)")
    metrics_json: Optional[str] = option("--metrics-json", "output", metavar="PATH",
                                         help="write metrics and the full config used as JSON")
    quiet: bool = option("--quiet", "output", False, switch=True, help="no progress bar")

    def __post_init__(self):
        """Python callers get the command line's value checks (the parser's types)."""
        for f in dataclasses.fields(self):
            spec, value = f.metadata["option"], getattr(self, f.name)
            if value is None or value == f.default:
                continue
            if spec.switch and not isinstance(value, bool):
                raise UsageError(f"{spec.flag} is a switch: True or False, got {value!r}")
            if spec.choices and value not in spec.choices:
                raise UsageError(f"{spec.flag} must be one of {', '.join(spec.choices)}, got {value!r}")
            if spec.type is not None:
                try:
                    spec.type(str(value))
                except Exception as e:  # argparse.ArgumentTypeError: the parser's own words
                    raise UsageError(f"{spec.flag}: {e}") from None
            if isinstance(value, str) and not value.strip():
                raise UsageError(f"{spec.flag}: expected a non-empty value, got {value!r}")

    @classmethod
    def from_args(cls, args) -> "RunConfig":
        """The RunConfig of ``run``'s parsed command line."""
        return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls)})

    @property
    def compress(self):
        return bool(self.prune or self.qat or self.tflite)

    def given(self):
        """The flags this config sets to something other than their default."""
        return [f.metadata["option"].flag for f in dataclasses.fields(self) if getattr(self, f.name) != f.default]

    def replace(self, **changes) -> "RunConfig":
        return dataclasses.replace(self, **changes)


def options():
    """(field name, :class:`Option`) of every ``run`` option, in order."""
    return [(f.name, f.metadata["option"]) for f in dataclasses.fields(RunConfig)]


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
            asked one, or what ``auto`` resolved to.
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


def dataset_name(config, recipe):
    """The data set a run of ``recipe`` reads (``--dataset`` or the recipe's
    first); an unknown name is refused here, before any data is read."""
    name = config.dataset or recipe.datasets[0]
    if name not in recipe.datasets:
        raise UsageError(f"--dataset {name!r} is not available for {recipe.name}; "
                         f"choose from {', '.join(recipe.datasets)}")
    return name


def resolve_settings(config, recipe, family=None, precision="float32", extras=None):
    """The run's :class:`Settings`: ``config``'s options over the recipe's
    defaults for ``family`` over the recipe's defaults.

    Args:
        config: the :class:`RunConfig`.
        recipe: the arch's :class:`keras_arch.recipe.Recipe`.
        family: the data family read ("digits", "mnist", "text", ...).
        precision: the policy the run trains under (``auto`` already resolved).
        extras: the task's own resolved settings.
    """
    by_data = recipe.by_data.get(family, {})
    defaults = {k: getattr(recipe, k) for k in TRAINING_KEYS if k != "dataset"}
    defaults.update({k: v for k, v in by_data.items() if k in TRAINING_KEYS})
    values = {k: (defaults[k] if getattr(config, k) is None else getattr(config, k))
              for k in TRAINING_KEYS if k != "dataset"}
    return Settings(
        arch=recipe.name, dataset=dataset_name(config, recipe), **values, seed=config.seed,
        data_dir=config.data_dir, test_dir=config.test_dir,
        warmup_epochs=by_data.get("warmup_epochs", recipe.warmup_epochs),
        augment_shift=by_data.get("augment_shift", recipe.augment_shift),
        clipnorm=recipe.clipnorm, builder=recipe.builder,
        builder_kwargs={**recipe.builder_kwargs, **by_data.get("builder_kwargs", {})},
        source=recipe.source, jit=config.jit, precision=precision,
        strategy=config.strategy or "auto", extras=dict(extras or {}))
