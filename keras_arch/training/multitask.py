"""``run multitask``: the shared-trunk CNN trained on digit + parity with
weighted losses L = w_digit · CE(digit) + w_parity · CE(parity)."""

from keras_arch import registry

LOSS_WEIGHTS = {"digit": 1.0, "parity": 0.5}


def targets(y):
    return {"digit": y, "parity": y % 2}


def run(name, options, loss_weights=None):
    from keras_arch.data.splits import make_dataset
    from keras_arch.training.trainer import finish, fit_outputs, prepare, seed_everything
    from keras_arch.training.schedules import optimizer_for
    loss_weights = dict(loss_weights or LOSS_WEIGHTS)
    recipe, cfg, splits = prepare(name, options)
    seed_everything(options.seed, deterministic=not options.jit)
    model = registry.build(name, **splits.model_args())
    model.compile(optimizer=optimizer_for(cfg, -(-len(splits.y_train) // cfg["batch_size"])),
                  loss={"digit": "sparse_categorical_crossentropy", "parity": "sparse_categorical_crossentropy"},
                  loss_weights=loss_weights, metrics={"digit": ["accuracy"], "parity": ["accuracy"]},
                  jit_compile=bool(cfg.get("jit")))
    history, seconds = fit_outputs(model, splits, targets, cfg, options)
    split, x, y = splits.eval_split()
    result = model.evaluate(make_dataset(x, targets(y), 256), verbose=0, return_dict=True)
    metrics = {"arch": name, "eval_split": split, "loss_weights": loss_weights,
               f"{split}_digit_accuracy": result["digit_accuracy"], f"{split}_parity_accuracy": result["parity_accuracy"],
               f"{split}_loss": result["loss"], "epochs": cfg["epochs"], "train_seconds": round(seconds, 3),
               "parameters": int(model.count_params()), "data": {"name": splits.name, **splits.sizes()},
               "history": history, "config": cfg}
    metrics["summary"] = [
        ("arch", name), ("data", f"{splits.name} (train {len(splits.y_train)}, {split} {len(y)})"),
        ("loss weights", ", ".join(f"{k} {v:g}" for k, v in loss_weights.items())),
        (f"{split} digit accuracy", f"{result['digit_accuracy']:.4f}"),
        (f"{split} parity accuracy", f"{result['parity_accuracy']:.4f}"),
        ("epochs", cfg["epochs"]), ("training seconds", f"{seconds:.1f}"), ("parameters", f"{model.count_params():,}")]
    return finish(name, model, recipe, splits, options, metrics)


def signatures(model, recipe):
    """serving_default: image -> digit and parity probabilities."""
    from keras_arch.serving.signatures import single_input_outputs
    return single_input_outputs(model, "image", {"probabilities": "digit", "parity_probabilities": "parity"})
