"""CNN on real MNIST (issue: foundation) against the keras-io "Simple MNIST
convnet" recipe, both trained in this run on the same split.

Anchor: keras-io's recipe reaches 99.22% after 15 epochs (batch 128, Adam, 10%
validation split). Target: `run cnn` reaches >= 99.2% validation accuracy in at
most a third of that recipe's training time measured here.
"""
import os
import time

from benchmarks import stats
from keras_arch.shared import data_path

NAME = "cnn_mnist"
DEFAULT_DIR = data_path("mnist")


def _keras_io_baseline(splits, epochs, seed=0):
    from keras_arch.data.splits import make_dataset
    from keras_arch.models.cnn import simple_mnist_convnet
    from keras_arch.training.seeding import seed_everything
    seed_everything(seed)
    model = simple_mnist_convnet()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    train = make_dataset(splits.x_train, splits.y_train, 128, shuffle=True, seed=seed)
    start = time.perf_counter()
    model.fit(train, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(make_dataset(splits.x_val, splits.y_val, 512), verbose=0)
    return {"val_accuracy": float(accuracy), "train_seconds": seconds, "epochs": epochs,
            "parameters": model.count_params()}


def run(quick=False, data_dir=None):
    from keras_arch.data.images import load_mnist_dir
    from keras_arch.config import RunConfig
    from keras_arch.training.train_lib import train
    data_dir = data_dir or os.environ.get("KERAS_ARCH_MNIST_DIR", DEFAULT_DIR)
    if not os.path.isdir(data_dir):
        return {"name": NAME, "skipped": f"no MNIST IDX files at {data_dir}"}
    seeds = stats.SEEDS[:1] if quick else stats.SEEDS
    runs = [train("cnn", RunConfig(data_dir=data_dir, quiet=True, seed=seed))[1] for seed in seeds]
    baseline_epochs = 5 if quick else 15  # --quick: fewer epochs, time scaled to 15
    splits = load_mnist_dir(data_dir)
    bases = [_keras_io_baseline(splits, baseline_epochs, seed) for seed in seeds]
    ours = {k: stats.spread([r[k] for r in runs])["mean"] for k in ("val_accuracy", "train_seconds", "samples_per_second")}
    base = {k: stats.spread([b[k] for b in bases])["mean"] for k in ("val_accuracy", "train_seconds")}
    base_15 = base["train_seconds"] * 15 / baseline_epochs
    ratio = ours["train_seconds"] / base_15
    rows = [
        {"benchmark": NAME, "model": f"keras_arch cnn (run cnn --data-dir, {len(seeds)} seeds)",
         "val_accuracy": ours["val_accuracy"], "spread": stats.text([r["val_accuracy"] for r in runs]),
         "train_seconds": ours["train_seconds"],
         "epochs": runs[0]["epochs"], "samples_per_second": ours["samples_per_second"],
         "parameters": runs[0]["parameters"],
         "anchor": "keras-io Simple MNIST convnet: 99.22% after 15 epochs"},
        {"benchmark": NAME, "model": f"keras-io Simple MNIST convnet ({baseline_epochs} epochs, {len(seeds)} seeds)",
         "val_accuracy": base["val_accuracy"], "spread": stats.text([b["val_accuracy"] for b in bases]),
         "train_seconds": base["train_seconds"],
         "train_seconds_15_epochs": base_15, "epochs": baseline_epochs,
         "parameters": bases[0]["parameters"], "anchor": "keras-io: 99.22% after 15 epochs"},
    ]
    checks = {"mean val_accuracy >= 0.992": ours["val_accuracy"] >= 0.992,
              "time <= 1/3 of keras-io recipe": ratio <= 1 / 3}
    return {"name": NAME, "rows": rows, "time_ratio": ratio, "checks": checks}
