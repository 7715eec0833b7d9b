"""Training strategies (document 000 §3.2: gradient descent, SGD, learning-rate
decay): the document's CNN (``cnn-doc000``) on the embedded digits under each
optimizer, each learning-rate schedule, and full-batch against mini-batch
gradient descent; validation loss per epoch of every run on one chart.

Anchor: none published for these runs; the comparison is side by side in one
run on one machine (same seed, same epochs)."""
import datetime
import os

NAME = "strategies"
HERE = os.path.dirname(os.path.abspath(__file__))
ARCH = "cnn-doc000"

# (panel, label, options): learning rates are each optimizer's usual default.
RUNS = [
    ("optimizer (constant lr)", "sgd 0.05", dict(optimizer="sgd", learning_rate=0.05)),
    ("optimizer (constant lr)", "momentum 0.01", dict(optimizer="momentum", learning_rate=0.01)),
    ("optimizer (constant lr)", "adam 1e-3", dict(optimizer="adam", learning_rate=1e-3)),
    ("optimizer (constant lr)", "adamw 1e-3", dict(optimizer="adamw", learning_rate=1e-3)),
    ("schedule (adam 3e-3)", "constant", dict(lr_schedule="constant", learning_rate=3e-3)),
    ("schedule (adam 3e-3)", "step", dict(lr_schedule="step", learning_rate=3e-3)),
    ("schedule (adam 3e-3)", "exponential", dict(lr_schedule="exponential", learning_rate=3e-3)),
    ("schedule (adam 3e-3)", "cosine", dict(lr_schedule="cosine", learning_rate=3e-3)),
    ("schedule (adam 3e-3)", "warmup-cosine", dict(lr_schedule="warmup-cosine", learning_rate=3e-3)),
    ("batch (sgd 0.05)", "mini-batch 32", dict(optimizer="sgd", learning_rate=0.05, batch_size=32)),
    ("batch (sgd 0.05)", "full batch (GD)", dict(optimizer="sgd", learning_rate=0.05, full_batch=True)),
    ("batch (sgd 0.05)", "full batch, lr 0.5", dict(optimizer="sgd", learning_rate=0.5, full_batch=True)),
]


def chart(results, path):
    from keras_arch import plots
    plt = plots._plt()
    panels = list(dict.fromkeys(p for p, _, _ in results))
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4), sharey=True)
    for ax, panel in zip(axes, panels):
        for p, label, history in results:
            if p == panel:
                ax.plot(range(1, len(history) + 1), history, label=label)
        ax.set_title(panel), ax.set_xlabel("epoch"), ax.set_yscale("log"), ax.legend(fontsize=8)
    axes[0].set_ylabel("validation loss")
    fig.suptitle(f"{ARCH} on the embedded digits: convergence by strategy")
    return plots._save(fig, path)


def run(quick=False):
    from keras_arch.config import RunConfig
    from keras_arch.training.train_lib import train
    epochs = 8 if quick else 20
    rows, curves = [], []
    for panel, label, opts in RUNS:
        _, m = train(ARCH, RunConfig(quiet=True, epochs=epochs, **opts))
        curves.append((panel, label, m["history"]["val_loss"]))
        rows.append({"benchmark": NAME, "model": f"run {ARCH}", "strategy": f"{panel}: {label}",
                     "test_accuracy": m["test_accuracy"], "final_val_loss": m["history"]["val_loss"][-1],
                     "epochs": epochs, "steps_per_epoch": -(-m["data"]["train"] // m["config"]["batch_size"]),
                     "train_seconds": m["train_seconds"], "anchor": "side by side, same seed"})
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    png = chart(curves, os.path.join(HERE, "results", f"{datetime.date.today().isoformat()}-strategies.png"))
    by = {r["strategy"]: r for r in rows}
    return {"name": NAME, "rows": rows, "chart": os.path.relpath(png, HERE),
            "checks": {"mini-batch beats full-batch GD at equal epochs":
                       by["batch (sgd 0.05): mini-batch 32"]["final_val_loss"]
                       < by["batch (sgd 0.05): full batch (GD)"]["final_val_loss"]}}
