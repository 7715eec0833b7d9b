"""The recipe-driven trainer behind ``python -m keras_arch.run``."""
from __future__ import annotations

import dataclasses
import functools
import math
import sys
import time
from typing import Optional

from keras_arch import registry
from keras_arch.errors import TrainingError, UsageError


TRAINING_KEYS = ("dataset", "epochs", "batch_size", "learning_rate", "optimizer", "lr_schedule")


@dataclasses.dataclass
class RunOptions:
    """What the CLI (or a notebook) may override in a recipe. None = recipe's value."""
    dataset: Optional[str] = None
    data_dir: Optional[str] = None
    test_dir: Optional[str] = None
    epochs: Optional[int] = None
    batch_size: Optional[int] = None
    learning_rate: Optional[float] = None
    optimizer: Optional[str] = None
    lr_schedule: Optional[str] = None
    seed: int = 0
    export: Optional[str] = None
    checkpoint_dir: Optional[str] = None
    plot: Optional[str] = None
    prune: Optional[float] = None
    qat: bool = False
    tflite: Optional[str] = None
    compress_epochs: int = 2
    per_channel: bool = False
    pretrained: Optional[str] = None
    max_length: int = 128
    freeze_encoder: bool = False
    combine: Optional[str] = None  # kg: "concat" or "sum" (None: the recipe's)
    negatives: Optional[int] = None  # kg: train with K sampled negatives instead of 1-N scoring
    labels_per_class: Optional[int] = None  # transfer: labelled target images per class
    full_batch: bool = False  # one gradient step per epoch over all training examples
    strategy: Optional[str] = None  # auto | one-device | mirrored | multi-worker
    mixed_precision: bool = False
    jit: bool = False  # XLA-compile the train step
    logdir: Optional[str] = None  # TensorBoard scalars (and pruning summaries)
    strategy_info: dict = dataclasses.field(default_factory=dict)  # filled in by distribute.scope
    quiet: bool = False

    def resolved(self, recipe, data_family=None):
        """The full configuration of a run: options over the recipe's defaults
        for this data family over the recipe's defaults."""
        cfg = {k: getattr(self, k) for k in TRAINING_KEYS}
        defaults = {k: getattr(recipe, k) for k in TRAINING_KEYS if k != "dataset"}
        defaults.update(recipe.by_data.get(data_family, {}), dataset=recipe.datasets[0])
        cfg = {k: (defaults[k] if v is None else v) for k, v in cfg.items()}
        if cfg["dataset"] not in recipe.datasets:
            raise UsageError(f"--dataset {cfg['dataset']!r} is not available for {recipe.name}; "
                             f"choose from {', '.join(recipe.datasets)}")
        for key in ("epochs", "batch_size"):
            if cfg[key] <= 0:
                raise UsageError(f"--{key.replace('_', '-')} must be positive, got {cfg[key]}")
        if cfg["learning_rate"] <= 0:
            raise UsageError(f"--learning-rate must be positive, got {cfg['learning_rate']}")
        cfg.update(arch=recipe.name, seed=self.seed, data_dir=self.data_dir,
                   test_dir=self.test_dir,
                   warmup_epochs=recipe.by_data.get(data_family, {}).get("warmup_epochs", recipe.warmup_epochs),
                   augment_shift=recipe.by_data.get(data_family, {}).get("augment_shift", recipe.augment_shift),
                   clipnorm=recipe.clipnorm,
                   builder=recipe.builder, builder_kwargs=dict(recipe.builder_kwargs),
                   source=recipe.source, jit=self.jit, mixed_precision=self.mixed_precision,
                   strategy=self.strategy or "auto")
        return cfg


def seed_everything(seed, replayable=False, deterministic=True):
    """Same seed, same metrics: Python/NumPy/TF seeds plus op determinism.

    ``replayable`` (runs with --checkpoint-dir): dropout & co. draw from
    tf.random.Generators, which EpochSeeds rewinds at every epoch, so a resumed
    run draws what an uninterrupted one would have. (Keras's legacy random ops
    keep hidden state that no checkpoint holds.)"""
    import tensorflow as tf
    from keras_arch.backend import keras
    if replayable:
        keras.backend.experimental.enable_tf_random_generator()
    else:
        keras.backend.experimental.disable_tf_random_generator()
    keras.utils.set_random_seed(seed)
    if deterministic:  # XLA (--jit) has no deterministic MaxPool gradient: --jit trades this away
        tf.config.experimental.enable_op_determinism()


def prepare(name, options):
    """(recipe, cfg, splits) of a run: the recipe, its data, and the options
    resolved over the recipe's defaults for that data. Runners start here."""
    recipe = registry.get(name)
    cfg = options.resolved(recipe)  # validates the options before any data is read
    splits = registry.resolve(recipe.data)(dataset=cfg["dataset"], data_dir=options.data_dir,
                                           test_dir=options.test_dir)
    cfg = options.resolved(recipe, splits.family)
    warning = short_run_warning(recipe, splits.family, cfg["epochs"])
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    return recipe, cfg, splits


def short_run_warning(recipe, family, epochs):
    """The line to warn with when ``epochs`` is fewer than the recipe needs
    on this data family (``Recipe.min_epochs``), else None."""
    if family not in recipe.min_epochs or epochs >= recipe.min_epochs[family][0]:
        return None
    needed, why = recipe.min_epochs[family]
    return (f"{recipe.name} on {family} data needs at least {needed} epochs ({why}); "
            f"--epochs {epochs} will likely stop before it learns the task")


def finish(name, model, recipe, splits, options, metrics, plot_fns=()):
    """--plot (training curves plus ``plot_fns``(directory) -> path) and
    --export, the common tail of every runner."""
    import os
    if options.plot and "history" in metrics:
        from keras_arch import plots
        os.makedirs(options.plot, exist_ok=True)
        metrics["plots"] = [plots.training_curves(metrics["history"], os.path.join(options.plot, "training.png"), name)]
        metrics["plots"] += [fn(options.plot) for fn in plot_fns]
    if options.export:
        from keras_arch.serving.servable import export_arch
        metrics["export_path"] = export_arch(model, recipe, options.export, splits)
    return model, metrics


def fit_outputs(model, splits, targets, cfg, options):
    """Fit a multi-output model on ``targets``(y) -> {output: labels}, with the
    recipe's shifts and the standard callbacks; returns (history dict, seconds)."""
    from keras_arch.data.splits import make_dataset
    start = time.perf_counter()
    history = model.fit(make_dataset(splits.x_train, targets(splits.y_train), cfg["batch_size"], shuffle=True,
                                     seed=options.seed, shift=cfg["augment_shift"]),
                        validation_data=make_dataset(splits.x_val, targets(splits.y_val), cfg["batch_size"]),
                        epochs=cfg["epochs"], verbose=0 if options.quiet else 1,
                        callbacks=standard_callbacks(options))
    seconds = time.perf_counter() - start
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}, seconds


def standard_callbacks(options):
    """What every fit gets: per-epoch random streams, a NaN guard, and
    TensorBoard with --logdir."""
    from keras_arch.backend import keras
    out = [EpochSeeds(options.seed), NaNGuard(options.checkpoint_dir)]
    if options.logdir:
        out.append(keras.callbacks.TensorBoard(options.logdir, update_freq="epoch"))
    return out


@functools.lru_cache(maxsize=None)
def _nan_guard_class():
    from keras_arch.backend import keras

    class NaNGuard(keras.callbacks.Callback):
        """Stop at an epoch whose loss is not finite by raising before the
        callbacks after it (BackupAndRestore, ModelCheckpoint) save anything.
        Checked per epoch, not per batch: a batch hook would make Keras fetch
        every batch's logs (15% slower on the CNN)."""
        def __init__(self, checkpoint_dir=None):
            super().__init__()
            self.checkpoint_dir = checkpoint_dir

        def on_epoch_end(self, epoch, logs=None):
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(loss):
                kept = (f"; the last good checkpoint in {self.checkpoint_dir} is kept"
                        if self.checkpoint_dir else "")
                raise TrainingError(f"the loss became {loss} in epoch {epoch + 1} "
                                    f"(learning rate too high?){kept}")
    return NaNGuard


@functools.lru_cache(maxsize=None)
def _epoch_seeds_class():
    from keras_arch.backend import keras

    class EpochSeeds(keras.callbacks.Callback):
        """Reseed every layer's random generator (dropout) from (seed, epoch,
        layer) at each epoch's start. BackupAndRestore saves weights and
        optimizer state but not generator state; this makes it unnecessary."""
        def __init__(self, seed):
            super().__init__()
            self.seed = seed

        def on_epoch_begin(self, epoch, logs=None):
            for index, module in enumerate(self.model.submodules):
                rng = getattr(module, "_random_generator", None)
                if rng is None or not hasattr(rng, "_maybe_init"):
                    continue
                rng._maybe_init()
                if getattr(rng, "_generator", None) is not None:
                    rng._generator.reset_from_seed(((self.seed * 100_003 + epoch) * 1_009 + index) % 2 ** 62)
    return EpochSeeds


def EpochSeeds(seed):  # noqa: N802
    return _epoch_seeds_class()(seed)


def NaNGuard(checkpoint_dir=None):  # noqa: N802  (a class built lazily: no TensorFlow at import)
    return _nan_guard_class()(checkpoint_dir)


def run_metrics(name, splits, model, accuracy, loss, epochs, seconds, cfg, history=None):
    """The metrics every runner reports (and --metrics-json writes)."""
    split = splits.eval_split()[0]
    metrics = {
        "arch": name, "eval_split": split, "eval_accuracy": float(accuracy), "eval_loss": float(loss),
        f"{split}_accuracy": float(accuracy), f"{split}_loss": float(loss), "epochs": epochs,
        "train_seconds": round(seconds, 3),
        "samples_per_second": round(len(splits.y_train) * epochs / seconds, 1),
        "parameters": int(model.count_params()), "data": {"name": splits.name, **splits.sizes()},
        "config": cfg,
    }
    if history is not None:
        metrics["history"] = {k: [float(v) for v in vals] for k, vals in history.items()}
    return metrics


def train(name, options: RunOptions = None):
    """Build, train and evaluate the registered arch ``name`` under the
    requested tf.distribute strategy; returns (model, metrics)."""
    from keras_arch.training import distribute
    options = options or RunOptions()
    recipe = registry.get(name)
    if recipe.runner and options.full_batch:
        raise UsageError(f"--full-batch applies to single-fit archs; {name} runs its own schedule of fits")
    options.resolved(recipe)  # bad names and values fail here, before TensorFlow starts
    if recipe.runner:
        with distribute.scope(options):
            model, metrics = registry.resolve(recipe.runner)(name, options)
    elif options.strategy == "multi-worker":  # collective ops must exist before any TensorFlow op
        with distribute.scope(options):
            model, metrics = _train_one_fit(name, recipe, options, _load(recipe, options))
    else:  # read the data first: a bad path is one line, not TensorFlow's start-up chatter
        splits = _load(recipe, options)
        with distribute.scope(options):
            model, metrics = _train_one_fit(name, recipe, options, splits)
    metrics["distribution"] = dict(options.strategy_info)
    return model, metrics


def _load(recipe, options):
    cfg = options.resolved(recipe)
    return registry.resolve(recipe.data)(dataset=cfg["dataset"], data_dir=options.data_dir, test_dir=options.test_dir)


def _train_one_fit(name, recipe, options, splits):
    cfg = options.resolved(recipe, splits.family)
    if options.full_batch:
        if options.batch_size:
            raise UsageError("--full-batch and --batch-size contradict each other; give one")
        cfg["batch_size"] = len(splits.y_train)

    import tensorflow as tf
    from keras_arch.data.splits import make_dataset, steps_per_epoch
    from keras_arch.training import checkpoints, distribute, schedules
    distribute.per_replica_batch(cfg["batch_size"], tf.distribute.get_strategy())
    seed_everything(options.seed, replayable=bool(options.checkpoint_dir), deterministic=not options.jit)
    callbacks = standard_callbacks(options)
    start_epoch = 0
    if options.checkpoint_dir:  # validate the directory before anything is written to it
        run_info = {"arch": name, "model_args": splits.model_args(structure_only=True), "config": cfg}
        checkpoints.check_same_run(options.checkpoint_dir, run_info)
        start_epoch = min(checkpoints.completed_epochs(options.checkpoint_dir), cfg["epochs"])
        callbacks += checkpoints.callbacks(options.checkpoint_dir, run_info, chief=distribute.is_chief())
    # Order and augmentation of epoch e depend on (seed, e) only, so a resumed run
    # continues exactly where the interrupted one stopped.
    train_ds = make_dataset(splits.x_train, splits.y_train, cfg["batch_size"], shuffle=True,
                            seed=options.seed, shift=cfg["augment_shift"], epochs=cfg["epochs"],
                            start_epoch=start_epoch)
    val_ds = make_dataset(splits.x_val, splits.y_val, cfg["batch_size"])
    steps = steps_per_epoch(len(splits.y_train), cfg["batch_size"])

    model = registry.build(name, **splits.model_args())
    schedules.compile_model(model, cfg, steps, recipe.loss)
    verbose = 0 if options.quiet else 1
    start = time.perf_counter()
    history = model.fit(train_ds, validation_data=val_ds, epochs=cfg["epochs"], steps_per_epoch=steps,
                        verbose=verbose, callbacks=callbacks)
    seconds = time.perf_counter() - start

    _, x_eval, y_eval = splits.eval_split()
    loss, accuracy = model.evaluate(make_dataset(x_eval, y_eval, cfg["batch_size"]), verbose=0)
    metrics = run_metrics(name, splits, model, accuracy, loss, len(history.history["loss"]), seconds, cfg,
                          history.history)
    metrics["epochs"] = cfg["epochs"]
    metrics["epochs_this_run"] = len(history.history["loss"])
    metrics["final_val_accuracy"] = float(history.history["val_accuracy"][-1])
    metrics["resumed_at_epoch"] = start_epoch
    if recipe.report:
        metrics.update(registry.resolve(recipe.report)(model, splits))
    if options.plot:
        import os
        from keras_arch import plots
        os.makedirs(options.plot, exist_ok=True)
        metrics["plots"] = [plots.training_curves(metrics["history"], os.path.join(options.plot, "training.png"), name)]
        if recipe.plot:
            metrics["plots"] += registry.resolve(recipe.plot)(model, splits, options.plot)
    if options.prune or options.qat or options.tflite:
        from keras_arch.optimize.pipeline import compress
        model, metrics["stages"] = compress(
            model, recipe, cfg, splits, prune=options.prune, qat=options.qat, tflite=options.tflite,
            epochs=options.compress_epochs, verbose=verbose, per_channel=options.per_channel,
            logdir=options.logdir)
    if options.export:
        from keras_arch.serving.servable import export_arch
        metrics["export_path"] = export_arch(model, recipe, options.export, splits)
    return model, metrics
