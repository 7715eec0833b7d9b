"""The trainer: Keras's ``fit`` with the callbacks every run needs, and the
time it took. It fits and nothing else; :mod:`keras_arch.training.train_lib`
sequences a run around it, and tasks hand it what to fit.

Anchor: TF Model Garden ``official/core/base_trainer.py``.
"""
from __future__ import annotations

import math
import time

from keras_arch.backend import keras
from keras_arch.errors import TrainingError
from keras_arch.training import checkpoints


class Trainer:
    """Fits models with the standard callbacks and keeps the time and the
    epochs of every fit.

    Args:
        config: the run's :class:`keras_arch.config.RunConfig` (seed, quiet,
            logdir, checkpoint_dir).
        run_info: what ``--checkpoint-dir``'s run.json records (arch, model
            arguments, settings); None without ``--checkpoint-dir``.
        chief: whether this process writes checkpoints (multi-worker runs).
        resumed: the resumable fit continues an interrupted run.
    """

    def __init__(self, config, run_info=None, chief=True, resumed=False):
        self.config, self.run_info, self.chief, self.resumed = config, run_info, chief, resumed
        self.seconds = 0.0  # time spent in fit, every phase together
        self.phases = []  # (label, epochs) of every fit

    @property
    def verbose(self):
        return 0 if self.config.quiet else 1

    def fit(self, model, train, val, epochs, steps=None, label="train", resumable=False, callbacks=()):
        """``model.fit`` with the standard callbacks; returns its history dict.

        Args:
            model: a compiled model.
            train, val: datasets (val may be None).
            epochs, steps: epochs, and steps per epoch of an infinite dataset.
            label: the phase's name in the metrics (``teacher``, ``frozen``...).
            resumable: the run's resumable fit, which gets the
                ``--checkpoint-dir`` callbacks (one per run).
            callbacks: the task's own callbacks, run first.
        """
        out = list(callbacks) + standard_callbacks(self.config)
        if resumable and self.run_info is not None:
            out += checkpoints.callbacks(self.config.checkpoint_dir, self.run_info, chief=self.chief,
                                         resumed=self.resumed)
        start = time.perf_counter()
        history = model.fit(train, validation_data=val, epochs=epochs, steps_per_epoch=steps,
                            verbose=self.verbose, callbacks=out)
        self.seconds += time.perf_counter() - start
        history = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        self.phases.append((label, len(history.get("loss", []))))
        return history


def standard_callbacks(config):
    """What every fit gets: per-epoch random streams, a NaN guard, and
    TensorBoard with --logdir."""
    out = [EpochSeeds(config.seed), NaNGuard(config.checkpoint_dir)]
    if config.logdir:
        out.append(keras.callbacks.TensorBoard(config.logdir, update_freq="epoch"))
    return out


class NaNGuard(keras.callbacks.Callback):
    """Stop at an epoch whose loss is not finite by raising before the
    callbacks after it (BackupAndRestore, ModelCheckpoint) save anything.
    Checked per epoch, not per batch: a batch hook would make Keras fetch
    every batch's logs (15% slower on the CNN).

    Args:
        checkpoint_dir: the run's --checkpoint-dir, named in the message.
    """

    def __init__(self, checkpoint_dir=None):
        super().__init__()
        self.checkpoint_dir = checkpoint_dir

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            kept = f"; the last good checkpoint in {self.checkpoint_dir} is kept" if self.checkpoint_dir else ""
            raise TrainingError(f"the loss became {loss} in epoch {epoch + 1} (learning rate too high?){kept}")


class EpochSeeds(keras.callbacks.Callback):
    """Reseed every layer's random generator (dropout) from (seed, epoch,
    layer) at each epoch's start. BackupAndRestore saves weights and
    optimizer state but not generator state; this makes it unnecessary.

    Args:
        seed: the run's seed.
    """

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
