"""``run transfer`` (document 000 §3.3, document 002 §3.4: knowledge
transfer): pretrain the document 000 CNN on digits 0-4, then learn digits 5-9
from ``labels_per_class`` labelled images each, first with the pretrained
conv trunk frozen (only a new head trains), then unfrozen at a tenth of the
learning rate, TARGET_STEPS steps per phase; compare with the same network
trained from scratch on the same labels for the same number of steps. Reported on the held-out 5-9 images.
"""
import numpy as np

from keras_arch import registry
from keras_arch.data.splits import batched, make_dataset, steps_per_epoch
from keras_arch.tasks.base import Fitted, Task

SOURCE, TARGET = (0, 1, 2, 3, 4), (5, 6, 7, 8, 9)
LABELS_PER_CLASS = {"digits": 20, "mnist": 100}
# A few labels make a few batches: the target phases are budgeted in steps.
TARGET_STEPS = 150


def subset(x, y, classes, per_class=None, seed=0):
    """Images of ``classes`` relabelled 0..len-1; ``per_class`` of each if given."""
    rng = np.random.default_rng(seed)
    keep = []
    for c in classes:
        idx = np.flatnonzero(y == c)
        keep.append(idx if per_class is None else rng.choice(idx, min(per_class, len(idx)), replace=False))
    keep = np.sort(np.concatenate(keep))
    remap = {c: i for i, c in enumerate(classes)}
    return x[keep], np.array([remap[int(v)] for v in y[keep]], np.int64)


def new_head(trunk_model, num_classes, trunk_end="flatten"):
    """The pretrained convolutional trunk (up to ``trunk_end``) + a fresh
    Dense(64) -> softmax head: the dense layers were fitted to the source
    classes and transfer worse than the conv features."""
    from keras_arch.backend import keras
    features = trunk_model.get_layer(trunk_end).output  # (batch, 576)
    hidden = keras.layers.Dense(64, activation="relu", name="target_dense")(features)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="target_probabilities")(hidden)
    return keras.Model(trunk_model.input, outputs, name="transfer")


def trunk_layers(model):
    return [layer for layer in model.layers if not layer.name.startswith("target_")]


def _accuracy(model, x, y):
    return float((model.predict(batched(x, 512), verbose=0).argmax(1) == y).mean())


class TransferTask(Task):
    """Four fits: pretrain on digits 0-4; new head on 5-9 with the trunk
    frozen; everything unfrozen at a tenth of the learning rate; the same
    network from scratch on the same labels and steps. The model it returns,
    evaluates and exports is the fine-tuned one.

    Args:
        recipe: the arch's recipe.
        config: the run's :class:`keras_arch.config.RunConfig`.
    """
    own_options = ("--labels-per-class",)
    no_resume = "four fits (source, frozen, fine-tuned, scratch) do not resume as one"
    no_full_batch = "its target phases are budgeted in steps over a few labels"
    refused = {"--lr-schedule": "constant rates per phase (the learning rate, then a tenth)"}
    no_compression = {flag: "the compression stages fine-tune on all ten digits; this model classifies 5-9"
                      for flag in ("--prune", "--qat", "--tflite")}

    def extra_settings(self, splits):
        return {"labels_per_class": self.config.labels_per_class or LABELS_PER_CLASS.get(splits.family, 20)}

    def build_model(self, splits, settings):
        return registry.resolve(self.recipe.builder)(
            **{**settings.builder_kwargs, "input_shape": splits.input_shape, "num_classes": len(SOURCE)})

    def _phase(self, fit, settings, model, x, y, epochs, learning_rate, label):
        from keras_arch.training.schedules import make_optimizer
        s = settings
        model.compile(optimizer=make_optimizer(s.optimizer, learning_rate, clipnorm=s.clipnorm),
                      loss=self.recipe.loss, metrics=["accuracy"], jit_compile=s.jit)
        train = make_dataset(x, y, s.batch_size, shuffle=True, seed=s.seed, shift=s.augment_shift, epochs=epochs)
        return fit(model, train, None, epochs, steps_per_epoch(len(y), s.batch_size), label=label)

    def fit(self, model, splits, settings, fit, start_epoch=0):
        from keras_arch.training.seeding import seed_everything
        s = settings
        per_class = s.extras["labels_per_class"]
        split, x_eval, y_eval = splits.eval_split()
        x_src, y_src = subset(splits.x_train, splits.y_train, SOURCE)
        x_few, y_few = subset(splits.x_train, splits.y_train, TARGET, per_class, seed=s.seed)
        x_test, y_test = subset(x_eval, y_eval, TARGET)
        x_src_test, y_src_test = subset(x_eval, y_eval, SOURCE)
        target_epochs = -(-TARGET_STEPS // -(-len(y_few) // s.batch_size))  # per phase
        lr = s.learning_rate

        self._phase(fit, s, model, x_src, y_src, s.epochs, lr, "source")
        transfer = new_head(model, len(TARGET))
        for layer in trunk_layers(transfer):
            layer.trainable = False
        frozen_history = self._phase(fit, s, transfer, x_few, y_few, target_epochs, lr, "frozen")
        frozen = _accuracy(transfer, x_test, y_test)
        for layer in transfer.layers:
            layer.trainable = True
        tuned_history = self._phase(fit, s, transfer, x_few, y_few, target_epochs, lr / 10, "fine-tuned")
        fine_tuned = _accuracy(transfer, x_test, y_test)

        seed_everything(s.seed, deterministic=not s.jit)
        scratch = registry.resolve(self.recipe.builder)(
            **{**s.builder_kwargs, "input_shape": splits.input_shape, "num_classes": len(TARGET)})
        self._phase(fit, s, scratch, x_few, y_few, 2 * target_epochs, lr, "scratch")
        results = {
            "labels_per_class": per_class, "target_train": len(y_few),
            "source_train": len(y_src), "target_eval": len(y_test),
            "source_accuracy": _accuracy(model, x_src_test, y_src_test), "frozen_trunk_accuracy": frozen,
            "fine_tuned_accuracy": fine_tuned, "scratch_accuracy": _accuracy(scratch, x_test, y_test),
            "target_epochs": target_epochs}
        results["transfer_gain"] = fine_tuned - results["scratch_accuracy"]
        # The target phases, one after the other: what --plot draws.
        history = {k: frozen_history[k] + tuned_history[k] for k in frozen_history}
        return Fitted(transfer, history, results)

    def evaluate(self, fitted, splits, settings):
        return dict(fitted.state)

    def data_row(self, splits, m):
        split = splits.eval_split()[0]
        return (f"{splits.name}: source digits 0-4 ({m['source_train']} images), target 5-9 "
                f"({m['labels_per_class']} labels per class), {split} {m['target_eval']} target images")

    def summary_rows(self, m):
        return [("source accuracy (0-4)", f"{m['source_accuracy']:.4f}"),
                ("target, frozen trunk", f"{m['frozen_trunk_accuracy']:.4f}"),
                ("target, fine-tuned", f"{m['fine_tuned_accuracy']:.4f}"),
                ("target, from scratch", f"{m['scratch_accuracy']:.4f}"),
                ("transfer gain", f"{m['transfer_gain']:+.4f}")]

    def epochs_row(self, m):
        t = m["target_epochs"]
        return f"pretrain {m['epochs']}, target {t} per phase (scratch {2 * t})"
