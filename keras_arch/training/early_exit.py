"""``run early-exit``: train the three-exit CNN (every head's cross-entropy,
equal weights), then measure accuracy against compute as the exit threshold
moves (document 002 §3.4, adaptive networks)."""
import os

from keras_arch import registry
from keras_arch.models.early_exit import NUM_EXITS, tradeoff


def run(name, options):
    from keras_arch.training.trainer import finish, fit_outputs, prepare, seed_everything
    from keras_arch.training.schedules import optimizer_for
    recipe, cfg, splits = prepare(name, options)
    seed_everything(options.seed, deterministic=not options.jit)
    model = registry.build(name, **splits.model_args())
    heads = [f"exit_{i}" for i in range(1, NUM_EXITS + 1)]
    model.compile(optimizer=optimizer_for(cfg, -(-len(splits.y_train) // cfg["batch_size"])),
                  loss={h: "sparse_categorical_crossentropy" for h in heads},
                  metrics={h: ["accuracy"] for h in heads}, jit_compile=bool(cfg.get("jit")))
    labels = lambda y: {h: y for h in heads}  # noqa: E731
    history, seconds = fit_outputs(model, splits, labels, cfg, options)
    split, x, y = splits.eval_split()
    rows, flops = tradeoff(model, x, y)
    by_t = {r["threshold"]: r for r in rows}
    metrics = {"arch": name, "eval_split": split, "tradeoff": rows, **flops,
               f"{split}_accuracy_full": by_t[1.0]["accuracy"], f"{split}_accuracy_first_exit": by_t[0.0]["accuracy"],
               "epochs": cfg["epochs"], "train_seconds": round(seconds, 3), "parameters": int(model.count_params()),
               "data": {"name": splits.name, **splits.sizes()},
               "history": history, "config": cfg}
    metrics["summary"] = [("arch", name), ("data", f"{splits.name} ({split} {len(y)})"),
                          ("threshold", "accuracy / compute vs plain CNN / exits 1-2-3")]
    metrics["summary"] += [(f"  {r['threshold']:g}", f"{r['accuracy']:.4f} / {r['relative_compute']:.2f} / "
                                                      + "-".join(f"{s:.2f}" for s in r["exit_shares"])) for r in rows]
    metrics["summary"] += [("epochs", cfg["epochs"]), ("training seconds", f"{seconds:.1f}"),
                           ("parameters", f"{model.count_params():,}")]
    from keras_arch import plots
    return finish(name, model, recipe, splits, options, metrics,
                  [lambda d: plots.early_exit_tradeoff(rows, os.path.join(d, "early_exit.png"))])


def signatures(model, recipe):
    """serving_default: image -> probabilities of every exit (clients choose a threshold)."""
    from keras_arch.serving.signatures import single_input_outputs
    heads = {f"exit_{i}": f"exit_{i}" for i in range(1, NUM_EXITS + 1)}
    return single_input_outputs(model, "image", {"probabilities": f"exit_{NUM_EXITS}", **heads})
