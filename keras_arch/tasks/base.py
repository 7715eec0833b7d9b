"""The Task: what differs between arch families, and nothing else.

A Task says how to read its data, build and compile its model, feed ``fit``,
evaluate, summarise, plot and serve, and which ``run`` options it does not
honour (and why). :class:`keras_arch.training.trainer.Trainer` does the rest,
once, for every arch: seed, strategy scope, ``fit`` with the standard
callbacks (progress bar, NaN guard, per-epoch random streams, TensorBoard,
BackupAndRestore + best weights on the chief), timing, the metrics dict,
summary, plots, compression, export.

Anchor: TF Model Garden ``official/core/base_task.py`` (build_model,
build_inputs, build_losses, build_metrics, ...) with
``official/nlp/tasks/sentence_prediction.py``.

Task modules import TensorFlow only inside methods: ``run`` reads the
declared refusals (:attr:`Task.refused`) before any data is read.
"""
from __future__ import annotations

from typing import Dict

from keras_arch import registry
from keras_arch.reasons import BERT_ONLY, KG_ONLY, NO_COMPRESSION, TRANSFER_ONLY

# Options only one family of tasks has: every other task refuses them.
FAMILY_OPTIONS = {"--pretrained": BERT_ONLY, "--max-length": BERT_ONLY, "--freeze-encoder": BERT_ONLY,
                  "--combine": KG_ONLY, "--negatives": KG_ONLY, "--labels-per-class": TRANSFER_ONLY}
COMPRESSION = ("--prune", "--qat", "--tflite")


class Task:
    """Base task: a classifier on ``(x, y)`` arrays trained by one ``fit``.

    Subclasses override the steps that differ. Multi-phase tasks (distill,
    transfer) override only :meth:`fit`.

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

    @classmethod
    def refusals(cls, recipe):
        """{option flag: why it is refused} for ``recipe``'s arch: the task's
        declarations plus the recipe's own (``Recipe.refused``). Every other
        option is honoured; ``run`` refuses these before reading any data, and
        README's arch x option table is rendered from them."""
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
        self.settings = None  # set by resolve()

    @property
    def name(self):
        return self.recipe.name

    # --- data and settings -------------------------------------------------------------------

    def load_data(self):
        """The run's :class:`keras_arch.data.splits.Splits`."""
        settings = self.config.settings(self.recipe)  # validates the options before reading
        return registry.resolve(self.recipe.data)(dataset=settings.dataset, data_dir=self.config.data_dir,
                                                  test_dir=self.config.test_dir)

    def resolve(self, splits):
        """Fix :attr:`settings` for the data read (recipes differ per data family)."""
        self.settings = self.config.settings(self.recipe, splits.family, **self.extra_settings(splits))
        return self.settings

    def extra_settings(self, splits):
        """The task's own settings, recorded beside the common ones."""
        return {}

    # --- model ---------------------------------------------------------------------------------

    def build_model(self, splits):
        return registry.resolve(self.recipe.builder)(**{**self.settings.builder_kwargs, **splits.model_args()})

    def compile_model(self, model, steps_per_epoch):
        from keras_arch.training.schedules import compile_model
        return compile_model(model, self.settings, steps_per_epoch, self.recipe.loss)

    # --- training ------------------------------------------------------------------------------

    def datasets(self, splits, start_epoch=0):
        """(train dataset, validation dataset or None, steps per epoch)."""
        from keras_arch.data.splits import make_dataset, steps_per_epoch
        s = self.settings
        train = make_dataset(splits.x_train, self.targets(splits.y_train), s.batch_size, shuffle=True,
                             seed=s.seed, shift=s.augment_shift, epochs=s.epochs, start_epoch=start_epoch,
                             drop_remainder=self.drop_remainder)
        val = make_dataset(splits.x_val, self.targets(splits.y_val), s.batch_size)
        return train, val, steps_per_epoch(len(splits.y_train), s.batch_size, self.drop_remainder)

    def targets(self, y):
        """What the model's outputs are fitted to, from the labels."""
        return y

    def fit(self, trainer, model, splits, phase=None):
        """Train ``model``; returns its history dict. One fit by default: the
        run's resumable fit, or with ``phase`` (a label) a phase of another
        task's run (distill's teacher), which neither resumes nor checkpoints."""
        train, val, steps = self.datasets(splits, 0 if phase else trainer.start_epoch)
        self.compile_model(model, steps)
        return trainer.fit(model, train, val, self.settings.epochs, steps, main=phase is None,
                           label=phase or "train")

    # --- evaluation and reporting --------------------------------------------------------------

    def evaluate(self, model, splits):
        """{metric: value} on the evaluation split (test, else validation)."""
        from keras_arch.data.splits import make_dataset
        split, x, y = splits.eval_split()
        loss, accuracy = model.evaluate(make_dataset(x, self.targets(y), self.settings.batch_size), verbose=0)
        out = {"eval_accuracy": float(accuracy), "eval_loss": float(loss),
               f"{split}_accuracy": float(accuracy), f"{split}_loss": float(loss)}
        if self.recipe.report:
            out.update(registry.resolve(self.recipe.report)(model, splits))
        return out

    def summary_rows(self, metrics):
        """The rows ``run`` prints between "data" and "epochs"."""
        split = metrics["eval_split"]
        return [(f"{split} accuracy", f"{metrics['eval_accuracy']:.4f}"),
                (f"{split} loss", f"{metrics['eval_loss']:.4f}")]

    def epochs_row(self, metrics):
        return metrics["epochs"]

    def data_row(self, splits):
        d = splits.sizes()
        return f"{splits.name} (train {d['train']}, val {d['val']}, test {d['test']})"

    def plots(self, model, splits, metrics, directory):
        """PNG paths beyond the training curves (attention maps, ...)."""
        if self.recipe.plot:
            return list(registry.resolve(self.recipe.plot)(model, splits, directory))
        return []

    # --- serving ------------------------------------------------------------------------------

    def serving_model(self, model):
        """The model the export and the compression stages work on."""
        return model

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
    from keras_arch.config import RunConfig
    recipe = registry.get(name)
    return task_class(recipe)(recipe, config or RunConfig())
