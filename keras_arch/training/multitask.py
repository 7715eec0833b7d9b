"""``run multitask``: the shared-trunk CNN trained on digit + parity with
weighted losses L = w_digit · CE(digit) + w_parity · CE(parity)."""
import time

from keras_arch import registry

LOSS_WEIGHTS = {"digit": 1.0, "parity": 0.5}


def targets(y):
    return {"digit": y, "parity": y % 2}


def run(name, options, loss_weights=None):
    from keras_arch.data.splits import make_dataset
    from keras_arch.training import schedules
    from keras_arch.training.trainer import seed_everything, standard_callbacks
    loss_weights = dict(loss_weights or LOSS_WEIGHTS)
    recipe = registry.get(name)
    cfg = options.resolved(recipe)
    splits = registry.resolve(recipe.data)(dataset=cfg["dataset"], data_dir=options.data_dir,
                                           test_dir=options.test_dir)
    cfg = options.resolved(recipe, splits.family)
    seed_everything(options.seed)
    model = registry.build(name, **splits.model_args())
    steps = -(-len(splits.y_train) // cfg["batch_size"])
    schedule = schedules.make_schedule(cfg["lr_schedule"], cfg["learning_rate"], cfg["epochs"] * steps,
                                       int(cfg["warmup_epochs"] * steps))
    model.compile(optimizer=schedules.make_optimizer(cfg["optimizer"], schedule),
                  loss={"digit": "sparse_categorical_crossentropy", "parity": "sparse_categorical_crossentropy"},
                  loss_weights=loss_weights, metrics={"digit": ["accuracy"], "parity": ["accuracy"]})
    start = time.perf_counter()
    history = model.fit(make_dataset(splits.x_train, targets(splits.y_train), cfg["batch_size"], shuffle=True,
                                     seed=options.seed, shift=cfg["augment_shift"]),
                        validation_data=make_dataset(splits.x_val, targets(splits.y_val), cfg["batch_size"]),
                        epochs=cfg["epochs"], verbose=0 if options.quiet else 1,
                        callbacks=standard_callbacks(options))
    seconds = time.perf_counter() - start
    split, x, y = splits.eval_split()
    result = model.evaluate(make_dataset(x, targets(y), 256), verbose=0, return_dict=True)
    metrics = {"arch": name, "eval_split": split, "loss_weights": loss_weights,
               f"{split}_digit_accuracy": result["digit_accuracy"], f"{split}_parity_accuracy": result["parity_accuracy"],
               f"{split}_loss": result["loss"], "epochs": cfg["epochs"], "train_seconds": round(seconds, 3),
               "parameters": int(model.count_params()), "data": {"name": splits.name, **splits.sizes()},
               "history": {k: [float(v) for v in vals] for k, vals in history.history.items()}, "config": cfg}
    metrics["summary"] = [
        ("arch", name), ("data", f"{splits.name} (train {len(splits.y_train)}, {split} {len(y)})"),
        ("loss weights", ", ".join(f"{k} {v:g}" for k, v in loss_weights.items())),
        (f"{split} digit accuracy", f"{result['digit_accuracy']:.4f}"),
        (f"{split} parity accuracy", f"{result['parity_accuracy']:.4f}"),
        ("epochs", cfg["epochs"]), ("training seconds", f"{seconds:.1f}"), ("parameters", f"{model.count_params():,}")]
    if options.plot:
        import os
        from keras_arch import plots
        os.makedirs(options.plot, exist_ok=True)
        metrics["plots"] = [plots.training_curves(metrics["history"], os.path.join(options.plot, "training.png"), name)]
    if options.export:
        from keras_arch.serving.servable import export_arch
        metrics["export_path"] = export_arch(model, recipe, options.export, splits)
    return model, metrics


def signatures(model, recipe):
    """serving_default: image -> digit and parity probabilities."""
    import tensorflow as tf
    from keras_arch.serving.signatures import check_shape
    shape = [None, *model.input_shape[1:]]

    @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32, name="image")])
    def serve(image):
        out = model(check_shape(image, shape, "image"), training=False)
        return {"probabilities": out["digit"], "parity_probabilities": out["parity"]}

    return {"serving_default": serve}
