"""``run early-exit``: train the three-exit CNN (every head's cross-entropy,
equal weights), then measure accuracy against compute as the exit threshold
moves (document 002 §3.4, adaptive networks)."""
import os
import time

from keras_arch import registry
from keras_arch.models.early_exit import NUM_EXITS, tradeoff


def run(name, options):
    from keras_arch.data.splits import make_dataset
    from keras_arch.training import schedules
    from keras_arch.training.trainer import seed_everything, standard_callbacks
    recipe = registry.get(name)
    cfg = options.resolved(recipe)
    splits = registry.resolve(recipe.data)(dataset=cfg["dataset"], data_dir=options.data_dir,
                                           test_dir=options.test_dir)
    cfg = options.resolved(recipe, splits.family)
    seed_everything(options.seed)
    model = registry.build(name, **splits.model_args())
    heads = [f"exit_{i}" for i in range(1, NUM_EXITS + 1)]
    steps = -(-len(splits.y_train) // cfg["batch_size"])
    schedule = schedules.make_schedule(cfg["lr_schedule"], cfg["learning_rate"], cfg["epochs"] * steps,
                                       int(cfg["warmup_epochs"] * steps))
    model.compile(optimizer=schedules.make_optimizer(cfg["optimizer"], schedule),
                  loss={h: "sparse_categorical_crossentropy" for h in heads},
                  metrics={h: ["accuracy"] for h in heads})
    labels = lambda y: {h: y for h in heads}  # noqa: E731
    start = time.perf_counter()
    history = model.fit(make_dataset(splits.x_train, labels(splits.y_train), cfg["batch_size"], shuffle=True,
                                     seed=options.seed, shift=cfg["augment_shift"]),
                        validation_data=make_dataset(splits.x_val, labels(splits.y_val), cfg["batch_size"]),
                        epochs=cfg["epochs"], verbose=0 if options.quiet else 1,
                        callbacks=standard_callbacks(options))
    seconds = time.perf_counter() - start
    split, x, y = splits.eval_split()
    rows, flops = tradeoff(model, x, y)
    by_t = {r["threshold"]: r for r in rows}
    metrics = {"arch": name, "eval_split": split, "tradeoff": rows, **flops,
               f"{split}_accuracy_full": by_t[1.0]["accuracy"], f"{split}_accuracy_first_exit": by_t[0.0]["accuracy"],
               "epochs": cfg["epochs"], "train_seconds": round(seconds, 3), "parameters": int(model.count_params()),
               "data": {"name": splits.name, **splits.sizes()},
               "history": {k: [float(v) for v in vals] for k, vals in history.history.items()}, "config": cfg}
    metrics["summary"] = [("arch", name), ("data", f"{splits.name} ({split} {len(y)})"),
                          ("threshold", "accuracy / compute vs plain CNN / exits 1-2-3")]
    metrics["summary"] += [(f"  {r['threshold']:g}", f"{r['accuracy']:.4f} / {r['relative_compute']:.2f} / "
                                                      + "-".join(f"{s:.2f}" for s in r["exit_shares"])) for r in rows]
    metrics["summary"] += [("epochs", cfg["epochs"]), ("training seconds", f"{seconds:.1f}"),
                           ("parameters", f"{model.count_params():,}")]
    if options.plot:
        from keras_arch import plots
        os.makedirs(options.plot, exist_ok=True)
        metrics["plots"] = [plots.training_curves(metrics["history"], os.path.join(options.plot, "training.png"), name),
                            plots.early_exit_tradeoff(rows, os.path.join(options.plot, "early_exit.png"))]
    if options.export:
        from keras_arch.serving.servable import export_arch
        metrics["export_path"] = export_arch(model, recipe, options.export, splits)
    return model, metrics


def signatures(model, recipe):
    """serving_default: image -> probabilities of every exit (clients choose a threshold)."""
    import tensorflow as tf
    from keras_arch.serving.signatures import check_shape
    shape = [None, *model.input_shape[1:]]

    @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32, name="image")])
    def serve(image):
        out = model(check_shape(image, shape, "image"), training=False)
        return {"probabilities": out[f"exit_{NUM_EXITS}"], **out}

    return {"serving_default": serve}
