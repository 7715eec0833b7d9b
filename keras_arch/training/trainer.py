"""One trainer for every arch: :class:`Trainer` runs a
:class:`keras_arch.tasks.base.Task` (what differs between archs lives in the
task; everything else is here, once).

Anchor: TF Model Garden ``official/core/base_trainer.py`` with
``official/core/train_lib.py``.
"""
from __future__ import annotations

import functools
import math
import os
import sys
import time

from keras_arch import registry
from keras_arch.config import RunConfig
from keras_arch.errors import TrainingError


def train(name, config: RunConfig = None):
    """Build, train and evaluate the registered arch ``name`` under the
    requested tf.distribute strategy; returns (model, metrics).

    Args:
        name: a registered arch.
        config: the run's :class:`keras_arch.config.RunConfig` (default: the
            recipe's settings on its embedded data).
    """
    from keras_arch.tasks.base import for_arch
    return Trainer(for_arch(name, config or RunConfig())).run()


class Trainer:
    """Runs one task: seed, strategy scope, build, fit with the standard
    callbacks, evaluate, metrics, summary, plots, compression, export.

    Args:
        task: a :class:`keras_arch.tasks.base.Task` instance.
    """

    def __init__(self, task):
        self.task, self.config = task, task.config
        self.start_epoch = 0  # epochs a --checkpoint-dir run finished before this process
        self.seconds = 0.0  # time spent in fit, every phase together
        self.phases = []  # (label, epochs) of every fit
        self.strategy_info = {}
        self.precision_reason = None
        self._run_info = None

    @property
    def verbose(self):
        return 0 if self.config.quiet else 1

    def run(self):
        from keras_arch.training import distribute
        task, config = self.task, self.config
        from keras_arch import options, precision
        options.check_config(task.name, config)  # the CLI has checked already; Python callers too
        config.settings(task.recipe)  # bad names and values fail here, before TensorFlow starts
        policy, self.precision_reason = precision.resolve(task.name, config.precision, config.compress)
        config = self.config = task.config = config.replace(precision=policy)  # Settings record the policy
        if config.strategy == "multi-worker":  # collective ops must exist before any TensorFlow op
            with distribute.scope(config) as strategy:
                return self._run(task.load_data(), strategy)
        splits = task.load_data()  # a bad path is one line, not TensorFlow's start-up chatter
        with distribute.scope(config) as strategy:
            return self._run(splits, strategy)

    def _run(self, splits, strategy):
        from keras_arch.training import checkpoints, distribute
        task, config = self.task, self.config
        self.strategy_info = {**distribute.describe(strategy, config), "precision": config.precision,
                              "precision_reason": self.precision_reason}
        settings = task.resolve(splits)
        if config.full_batch:  # --batch-size beside it was refused by options.check_config
            settings = task.settings = settings.replace(batch_size=len(splits.y_train))
        warning = short_run_warning(task.recipe, splits.family, settings.epochs)
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
        distribute.per_replica_batch(settings.batch_size, strategy)
        if config.checkpoint_dir:  # validate the directory before anything is written to it
            self._run_info = {"arch": task.name, "model_args": splits.model_args(structure_only=True),
                              "config": settings.as_dict()}
            checkpoints.check_same_run(config.checkpoint_dir, self._run_info)
            self.start_epoch = min(checkpoints.completed_epochs(config.checkpoint_dir), settings.epochs)
        seed_everything(settings.seed, replayable=bool(config.checkpoint_dir), deterministic=not config.jit)
        model = task.build_model(splits)
        history = task.fit(self, model, splits)
        metrics = self.metrics(model, splits, history)
        metrics.update(task.evaluate(model, splits))
        if config.plot:
            metrics["plots"] = self.plots(model, splits, metrics)
        if config.compress:
            from keras_arch.optimize.pipeline import compress
            model, metrics["stages"] = compress(task, task.serving_model(model), splits, self.verbose)
        metrics["summary"] = self.summary(splits, metrics)
        if config.export:
            from keras_arch.serving.servable import export_arch
            metrics["export_path"] = export_arch(task.serving_model(model), task.recipe, config.export, splits,
                                                 task=task)
        return task.serving_model(model), metrics

    def fit(self, model, train, val, epochs, steps=None, main=False, callbacks=(), label="train"):
        """``model.fit`` with the standard callbacks; returns its history
        dict. ``main``: the task's resumable fit, which gets the
        --checkpoint-dir callbacks (one per run)."""
        from keras_arch.training import checkpoints, distribute
        out = list(callbacks) + standard_callbacks(self.config)
        if main and self.config.checkpoint_dir:
            out += checkpoints.callbacks(self.config.checkpoint_dir, self._run_info, chief=distribute.is_chief())
        start = time.perf_counter()
        history = model.fit(train, validation_data=val, epochs=epochs, steps_per_epoch=steps,
                            verbose=self.verbose, callbacks=out)
        self.seconds += time.perf_counter() - start
        history = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        self.phases.append((label, len(history.get("loss", []))))
        return history

    def metrics(self, model, splits, history):
        """What every run reports (and --metrics-json writes)."""
        s = self.task.settings
        split = splits.eval_split()[0]
        ran = len(history.get("loss", [])) if history else s.epochs
        metrics = {"arch": self.task.name, "eval_split": split, "epochs": s.epochs, "epochs_this_run": ran,
                   "resumed_at_epoch": self.start_epoch, "train_seconds": round(self.seconds, 3),
                   "parameters": int(self.task.serving_model(model).count_params()),
                   "data": {"name": splits.name, **splits.sizes()}, "config": s.as_dict(),
                   "distribution": dict(self.strategy_info)}
        metrics["seconds_per_epoch"] = round(self.seconds / max(ran, 1), 3)
        if len(self.phases) == 1 and self.seconds > 0:
            metrics["samples_per_second"] = round(len(splits.y_train) * ran / self.seconds, 1)
        if len(self.phases) > 1:
            metrics["phases"] = [{"phase": label, "epochs": n} for label, n in self.phases]
        if history:
            metrics["history"] = history
            if "val_accuracy" in history:
                metrics["final_val_accuracy"] = history["val_accuracy"][-1]
        return metrics

    def plots(self, model, splits, metrics):
        from keras_arch import plots
        os.makedirs(self.config.plot, exist_ok=True)
        out = []
        if metrics.get("history"):
            out.append(plots.training_curves(metrics["history"], os.path.join(self.config.plot, "training.png"),
                                             self.task.name))
        return out + self.task.plots(model, splits, metrics, self.config.plot)

    def summary(self, splits, m):
        """The rows ``run`` prints."""
        rows = [("arch", m["arch"]), ("data", self.task.data_row(splits)), *self.task.summary_rows(m)]
        for stage, s in m.get("stages", {}).items():
            if stage == "tflite":
                rows.append(("tflite int8 / float", f"acc {s['int8_accuracy']:.4f} / {s['float_accuracy']:.4f}, "
                                                    f"{s['int8_bytes']:,} / {s['float_bytes']:,} bytes"))
            elif stage != "baseline":
                extra = f", sparsity {s['sparsity']:.3f}" if "sparsity" in s else ""
                rows.append((f"{stage} accuracy", f"{s['accuracy']:.4f}{extra}"))
        rows += [tuple(r) for r in m.get("report_rows", [])]
        rows += [("epochs", self.task.epochs_row(m)), ("training seconds", f"{m['train_seconds']:.1f}")]
        if "samples_per_second" in m:
            rows.append(("samples/s", f"{m['samples_per_second']:.0f}"))
        rows.append(("parameters", f"{m['parameters']:,}"))
        return rows


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


def short_run_warning(recipe, family, epochs):
    """The line to warn with when ``epochs`` is fewer than the recipe needs
    on this data family (``Recipe.min_epochs``), else None."""
    if family not in recipe.min_epochs or epochs >= recipe.min_epochs[family][0]:
        return None
    needed, why = recipe.min_epochs[family]
    return (f"{recipe.name} on {family} data needs at least {needed} epochs ({why}); "
            f"--epochs {epochs} will likely stop before it learns the task")


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


