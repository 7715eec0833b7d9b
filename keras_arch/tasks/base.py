"""The Task: what differs between arch families, and nothing else.

A Task says how to read its data, resolve its settings, build and compile its
model, feed ``fit``, evaluate, summarise, plot and serve, and which ``run``
options it does not honour (and why). The rest is done once, for every arch:
:mod:`keras_arch.training.train_lib` sequences a run (data, settings, build,
fit, evaluate, plots, compression, export) and
:class:`keras_arch.training.trainer.Trainer` fits (standard callbacks, timing).

A task instance holds only what it was made with (the recipe and the
:class:`~keras_arch.config.RunConfig`). Everything a run produces is passed
along as arguments and returned as results: :meth:`Task.settings` returns the
resolved :class:`~keras_arch.config.Settings`; :meth:`Task.fit` returns a
:class:`Fitted` (the model to evaluate, compress and export, its history, and
whatever :meth:`Task.evaluate` needs from the fit); :meth:`Task.evaluate`
takes it.

Anchor: TF Model Garden ``official/core/base_task.py`` (build_model,
build_inputs, build_losses, build_metrics, ...) with
``official/nlp/tasks/sentence_prediction.py``.

Task modules import TensorFlow only inside methods: ``run`` reads the
declared refusals (:meth:`Task.refusals`) before any data is read.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict

from keras_arch import registry
from keras_arch.config import RunConfig, Settings, dataset_name, resolve_settings
from keras_arch.data.splits import make_dataset, steps_per_epoch
from keras_arch.reasons import BERT_ONLY, KG_ONLY, NO_COMPRESSION, TRANSFER_ONLY

# Options only one family of tasks has: every other task refuses them.
FAMILY_OPTIONS = {"--pretrained": BERT_ONLY, "--max-length": BERT_ONLY, "--freeze-encoder": BERT_ONLY,
                  "--combine": KG_ONLY, "--negatives": KG_ONLY, "--labels-per-class": TRANSFER_ONLY}
COMPRESSION = ("--prune", "--qat", "--tflite")


@dataclasses.dataclass
class Fitted:
    """What :meth:`Task.fit` hands to the rest of the run.

    Args:
        model: the model the run evaluates, compresses and exports.
        history: {metric: per-epoch values} of the fit the curves show.
        state: what :meth:`Task.evaluate` needs from the fit (kg: the best
            validation MRR; transfer: its four accuracies; distill: the teacher's).
    """
    model: Any
    history: Dict[str, list]
    state: Dict[str, Any] = dataclasses.field(default_factory=dict)


class Task:
    """Base task: a classifier on ``(x, y)`` arrays trained by one ``fit``.

    Subclasses override the steps that differ. Multi-phase tasks (distill,
    transfer) override :meth:`fit` and :meth:`evaluate`.

    Args:
        recipe: the arch's :class:`keras_arch.recipe.Recipe`.
        config: the run's :class:`keras_arch.config.RunConfig`.
    """

    #: the family options (FAMILY_OPTIONS) this task honours.
    own_options = ()
    #: why --checkpoint-dir is refused (None: honoured: one epoch-keyed fit that resumes exactly).
    no_resume = None
    #: why --full-batch is refused (None: honoured).
    no_full_batch = None
    #: why each of --prune, --qat, --tflite is refused ({}: all honoured).
    no_compression: Dict[str, str] = {}
    #: drop each epoch's last, smaller batch (a contrastive loss needs full batches).
    drop_remainder = False
    #: further {option: why} refusals of the whole task.
    refused: Dict[str, str] = {}
    #: why the task trains in float32 only (None: --precision's mixed policies are honoured).
    float32_only = None
    #: the compression stages (--prune, --qat) fine-tune at this fraction of the recipe's learning rate.
    compress_learning_rate_factor = 0.1
    #: --qat fine-tunes for this share of --compress-epochs (at least one epoch).
    qat_epoch_share = 0.5
    #: TFLite ops the int8 model (--tflite) keeps float (selective quantization).
    tflite_float_ops = ()

    @classmethod
    def refusals(cls, recipe):
        """{option flag: why it is refused} for ``recipe``'s arch: the task's
        declarations plus the recipe's own (``Recipe.refused``). Every other
        option is honoured; ``run`` refuses these before reading any data, and
        the arch x option table (docs/options.md) is rendered from them."""
        out = {k: v for k, v in FAMILY_OPTIONS.items() if k not in cls.own_options}
        if cls.no_full_batch:
            out["--full-batch"] = cls.no_full_batch
        if cls.no_resume:
            out["--checkpoint-dir"] = cls.no_resume
        out.update(cls.no_compression)
        out.update(cls.refused)
        out.update(recipe.refused)
        if all(flag in out for flag in COMPRESSION):
            out.update({"--per-channel": NO_COMPRESSION, "--compress-epochs": NO_COMPRESSION})
        return out

    def __init__(self, recipe, config):
        self.recipe, self.config = recipe, config

    @property
    def name(self):
        return self.recipe.name

    def check(self):
        """Refuse, with one line, what the options alone show this task
        cannot do (a ``--pretrained`` directory it cannot read, say): called
        by :func:`keras_arch.experiment.prepare` before any data is read.
        TensorFlow-free."""

    # --- data and settings -------------------------------------------------------------------

    def load_data(self):
        """The run's :class:`keras_arch.data.splits.Splits`."""
        return registry.resolve(self.recipe.data)(dataset=dataset_name(self.config, self.recipe),
                                                  data_dir=self.config.data_dir, test_dir=self.config.test_dir)

    def settings(self, splits, precision="float32") -> Settings:
        """The run's settings for the data read (recipes differ per data
        family), resolved once. ``--full-batch`` makes the batch the whole
        training set.

        Args:
            splits: the data :meth:`load_data` read.
            precision: the policy the run trains under (``auto`` resolved).
        """
        settings = resolve_settings(self.config, self.recipe, splits.family, precision, self.extra_settings(splits))
        if self.config.full_batch:  # --batch-size beside it was refused up front
            settings = settings.replace(batch_size=len(splits.y_train))
        return settings

    def extra_settings(self, splits):
        """The task's own settings, recorded beside the common ones."""
        return {}

    # --- model ---------------------------------------------------------------------------------

    def build_model(self, splits, settings):
        return registry.resolve(self.recipe.builder)(**{**settings.builder_kwargs, **splits.model_args()})

    def compile_model(self, model, settings, steps_per_epoch):
        from keras_arch.training.schedules import compile_model
        return compile_model(model, settings, steps_per_epoch, self.recipe.loss)

    # --- training ------------------------------------------------------------------------------

    def datasets(self, splits, settings, start_epoch=0):
        """(train dataset, validation dataset or None, steps per epoch)."""
        s = settings
        train = make_dataset(splits.x_train, self.targets(splits.y_train), s.batch_size, shuffle=True,
                             seed=s.seed, shift=s.augment_shift, epochs=s.epochs, start_epoch=start_epoch,
                             drop_remainder=self.drop_remainder)
        val = self.dataset(splits.x_val, splits.y_val, s)
        return train, val, steps_per_epoch(len(splits.y_train), s.batch_size, self.drop_remainder)

    def dataset(self, x, y, settings, batch_size=None):
        """Batches of (model inputs, targets) of ``x`` and ``y`` in order:
        evaluation, calibration, the TFLite checks.

        Args:
            x, y: inputs and labels as the data loader gives them.
            settings: the run's settings (the batch size by default).
            batch_size: another batch size.
        """
        return make_dataset(x, self.targets(y), batch_size or settings.batch_size)

    def targets(self, y):
        """What the model's outputs are fitted to, from the labels."""
        return y

    def fit(self, model, splits, settings, fit, start_epoch=0, phase=None) -> Fitted:
        """Train ``model`` by one fit: the run's resumable fit, or with
        ``phase`` (a label) a phase of another task's run (distill's
        teacher), which neither resumes nor checkpoints.

        Args:
            model: the built, uncompiled model.
            splits: the run's data.
            settings: the run's :class:`~keras_arch.config.Settings`.
            fit: the trainer's fit function, ``fit(model, train, val, epochs,
                steps, label=..., resumable=..., callbacks=...) -> history``:
                Keras's ``fit`` with the standard callbacks.
            start_epoch: epochs a ``--checkpoint-dir`` run finished before
                this process (the data pipeline starts there).
            phase: the label of a phase of another task's run.
        """
        train, val, steps = self.datasets(splits, settings, 0 if phase else start_epoch)
        self.compile_model(model, settings, steps)
        return Fitted(model, fit(model, train, val, settings.epochs, steps, label=phase or "train",
                                 resumable=phase is None))

    def tflite_lengths(self, settings):
        """{input name: length} the TFLite models fix (None: as the Keras model): the recipe's."""
        return dict(self.recipe.tflite_lengths) or None

    def tflite_dataset(self, x, y, settings, batch_size):
        """What the TFLite models are calibrated and scored on: :meth:`dataset`
        at the lengths :meth:`tflite_lengths` fixes."""
        return self.dataset(x, y, settings, batch_size=batch_size)

    def scored(self, x, y):
        """Which labels of a batch count towards accuracy outside Keras (the
        TFLite models' scores): a boolean array shaped like ``y``, or None for
        all. Keras's own accuracy follows the model's mask; a task whose model
        masks says the same here."""
        return None

    # --- evaluation and reporting --------------------------------------------------------------

    def evaluate(self, fitted, splits, settings):
        """{metric: value} on the evaluation split (test, else validation)."""
        split, x, y = splits.eval_split()
        loss, accuracy = fitted.model.evaluate(self.dataset(x, y, settings), verbose=0)
        out = {"eval_accuracy": float(accuracy), "eval_loss": float(loss),
               f"{split}_accuracy": float(accuracy), f"{split}_loss": float(loss)}
        if self.recipe.report:
            out.update(registry.resolve(self.recipe.report)(fitted.model, splits))
        return out

    def summary_rows(self, metrics):
        """The rows ``run`` prints between "data" and "epochs"."""
        split = metrics["eval_split"]
        return [(f"{split} accuracy", f"{metrics['eval_accuracy']:.4f}"),
                (f"{split} loss", f"{metrics['eval_loss']:.4f}")]

    def epochs_row(self, metrics):
        return metrics["epochs"]

    def data_row(self, splits, metrics):
        d = splits.sizes()
        return f"{splits.name} (train {d['train']}, val {d['val']}, test {d['test']})"

    def plots(self, model, splits, metrics, directory):
        """PNG paths beyond the training curves (attention maps, ...)."""
        if self.recipe.plot:
            return list(registry.resolve(self.recipe.plot)(model, splits, directory))
        return []

    # --- serving ------------------------------------------------------------------------------

    def signatures(self, model):
        """{name: tf.function} of the export (unguarded: ``export_servable``
        guards them). Default: one input, one output, named by the recipe."""
        from keras_arch.serving.signatures import single_input
        return single_input(model, self.recipe.serving_input, self.recipe.serving_output)

    def serving_samples(self, splits, n=8):
        """{signature: {input: array}} of real examples (warmup requests, checks)."""
        _, x, _ = splits.eval_split()
        return {"serving_default": {self.recipe.serving_input: x[:n]}}


def task_class(recipe):
    """The Task class of ``recipe`` (TensorFlow-free)."""
    return registry.resolve(recipe.task)


def for_arch(name, config=None):
    """An instance of ``name``'s task for ``config`` (default: a RunConfig
    with every option at the recipe's value)."""
    recipe = registry.get(name)
    return task_class(recipe)(recipe, config or RunConfig())
