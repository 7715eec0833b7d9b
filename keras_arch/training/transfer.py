"""``run transfer`` (document 000 §3.3, document 002 §3.4: knowledge
transfer): pretrain the document 000 CNN on digits 0-4, then learn digits 5-9
from ``labels_per_class`` labelled images each, first with the pretrained
conv trunk frozen (only a new head trains), then unfrozen at a tenth of the
learning rate, TARGET_STEPS steps per phase; compare with the same network
trained from scratch on the same labels for the same number of steps. Reported on the held-out 5-9 images.
"""
import time

import numpy as np

from keras_arch import registry

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


def _fit(model, x, y, cfg, epochs, learning_rate, seed, verbose):
    from keras_arch.data.splits import make_dataset
    from keras_arch.training import schedules
    model.compile(optimizer=schedules.make_optimizer(cfg["optimizer"], learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(make_dataset(x, y, cfg["batch_size"], shuffle=True, seed=seed, shift=cfg["augment_shift"]),
              epochs=epochs, verbose=verbose)
    return model


def _accuracy(model, x, y):
    return float((model.predict(x, batch_size=512, verbose=0).argmax(1) == y).mean())


def run(name, options):
    from keras_arch.training.trainer import finish, prepare, seed_everything
    recipe, cfg, splits = prepare(name, options)
    per_class = options.labels_per_class or LABELS_PER_CLASS.get(splits.family, 20)
    verbose = 0 if options.quiet else 1
    split, x_eval, y_eval = splits.eval_split()
    x_src, y_src = subset(splits.x_train, splits.y_train, SOURCE)
    x_few, y_few = subset(splits.x_train, splits.y_train, TARGET, per_class, seed=options.seed)
    x_test, y_test = subset(x_eval, y_eval, TARGET)
    x_src_test, y_src_test = subset(x_eval, y_eval, SOURCE)
    epochs, lr = cfg["epochs"], cfg["learning_rate"]
    target_epochs = -(-TARGET_STEPS // -(-len(y_few) // cfg["batch_size"]))  # per phase
    start = time.perf_counter()

    seed_everything(options.seed)
    source = _fit(registry.build(name, input_shape=splits.input_shape, num_classes=len(SOURCE)),
                  x_src, y_src, cfg, epochs, lr, options.seed, verbose)
    transfer = new_head(source, len(TARGET))
    for layer in trunk_layers(transfer):
        layer.trainable = False
    _fit(transfer, x_few, y_few, cfg, target_epochs, lr, options.seed, verbose)
    frozen = _accuracy(transfer, x_test, y_test)
    for layer in transfer.layers:
        layer.trainable = True
    _fit(transfer, x_few, y_few, cfg, target_epochs, lr / 10, options.seed, verbose)
    fine_tuned = _accuracy(transfer, x_test, y_test)

    seed_everything(options.seed)
    scratch = _fit(registry.build(name, input_shape=splits.input_shape, num_classes=len(TARGET)),
                   x_few, y_few, cfg, 2 * target_epochs, lr, options.seed, verbose)
    from_scratch = _accuracy(scratch, x_test, y_test)
    seconds = time.perf_counter() - start
    metrics = {"arch": name, "eval_split": split, "labels_per_class": per_class, "target_train": len(y_few),
               "source_accuracy": _accuracy(source, x_src_test, y_src_test), "frozen_trunk_accuracy": frozen,
               "fine_tuned_accuracy": fine_tuned, "scratch_accuracy": from_scratch,
               "transfer_gain": fine_tuned - from_scratch, "epochs": epochs, "target_epochs": target_epochs, "train_seconds": round(seconds, 3),
               "parameters": int(transfer.count_params()), "data": {"name": splits.name, **splits.sizes()},
               "config": cfg}
    metrics["summary"] = [
        ("arch", name), ("data", f"{splits.name}: source digits 0-4 ({len(y_src)} images), target 5-9 "
                                 f"({per_class} labels per class), {split} {len(y_test)} target images"),
        ("source accuracy (0-4)", f"{metrics['source_accuracy']:.4f}"),
        ("target, frozen trunk", f"{frozen:.4f}"), ("target, fine-tuned", f"{fine_tuned:.4f}"),
        ("target, from scratch", f"{from_scratch:.4f}"), ("transfer gain", f"{fine_tuned - from_scratch:+.4f}"),
        ("epochs", f"pretrain {epochs}, target {target_epochs} per phase (scratch {2 * target_epochs})"), ("training seconds", f"{seconds:.1f}")]
    return finish(name, transfer, recipe, splits, options, metrics)
