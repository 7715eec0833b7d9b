"""The recipe-driven trainer behind ``python -m keras_arch.run``."""
from __future__ import annotations

import dataclasses
import time
from typing import Optional

from keras_arch import registry
from keras_arch.errors import UsageError


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
                   builder=recipe.builder, builder_kwargs=dict(recipe.builder_kwargs),
                   source=recipe.source)
        return cfg


def seed_everything(seed):
    """Same seed, same metrics: Python/NumPy/TF seeds plus op determinism."""
    import tensorflow as tf
    from keras_arch.backend import keras
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def compile_model(model, cfg, steps_per_epoch, loss):
    from keras_arch.training import schedules
    total = cfg["epochs"] * steps_per_epoch
    warmup = int(cfg["warmup_epochs"] * steps_per_epoch)
    schedule = schedules.make_schedule(cfg["lr_schedule"], cfg["learning_rate"], total, warmup)
    model.compile(optimizer=schedules.make_optimizer(cfg["optimizer"], schedule),
                  loss=loss, metrics=["accuracy"])
    return model


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
    """Build, train and evaluate the registered arch ``name``; returns (model, metrics)."""
    options = options or RunOptions()
    recipe = registry.get(name)
    if recipe.runner:
        if options.full_batch:
            raise UsageError(f"--full-batch applies to single-fit archs; {name} runs its own schedule of fits")
        return registry.resolve(recipe.runner)(name, options)
    cfg = options.resolved(recipe)  # validates the options before any data is read
    splits = registry.resolve(recipe.data)(
        dataset=cfg["dataset"], data_dir=options.data_dir, test_dir=options.test_dir)
    cfg = options.resolved(recipe, splits.family)
    if options.full_batch:
        if options.batch_size:
            raise UsageError("--full-batch and --batch-size contradict each other; give one")
        cfg["batch_size"] = len(splits.y_train)

    seed_everything(options.seed)
    from keras_arch.data.splits import make_dataset
    train_ds = make_dataset(splits.x_train, splits.y_train, cfg["batch_size"], shuffle=True,
                            seed=options.seed, shift=cfg["augment_shift"])
    val_ds = make_dataset(splits.x_val, splits.y_val, cfg["batch_size"])
    steps = -(-len(splits.y_train) // cfg["batch_size"])

    model = registry.build(name, **splits.model_args())
    compile_model(model, cfg, steps, recipe.loss)
    callbacks = []
    if options.checkpoint_dir:
        from keras_arch.training import checkpoints
        callbacks += checkpoints.callbacks(options.checkpoint_dir, {
            "arch": name, "model_args": splits.model_args(), "config": cfg})
    verbose = 0 if options.quiet else 1
    start = time.perf_counter()
    history = model.fit(train_ds, validation_data=val_ds, epochs=cfg["epochs"], verbose=verbose,
                        callbacks=callbacks)
    seconds = time.perf_counter() - start

    _, x_eval, y_eval = splits.eval_split()
    loss, accuracy = model.evaluate(make_dataset(x_eval, y_eval, cfg["batch_size"]), verbose=0)
    metrics = run_metrics(name, splits, model, accuracy, loss, len(history.history["loss"]), seconds, cfg,
                          history.history)
    metrics["final_val_accuracy"] = float(history.history["val_accuracy"][-1])
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
            epochs=options.compress_epochs, verbose=verbose, per_channel=options.per_channel)
    if options.export:
        from keras_arch.serving.servable import export_arch
        metrics["export_path"] = export_arch(model, recipe, options.export, splits)
    return model, metrics
