"""CNN on real MNIST (issue: foundation) against the keras-io "Simple MNIST
convnet" recipe, both trained in this run on the same split.

Anchor: keras-io's recipe reaches 99.22% after 15 epochs (batch 128, Adam, 10%
validation split). Target: `run cnn` reaches >= 99.2% validation accuracy in at
most a third of that recipe's training time measured here.
"""
import os
import time

NAME = "cnn_mnist"
DEFAULT_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mnist")


def _keras_io_baseline(splits, epochs):
    from keras_arch.data.splits import make_dataset
    from keras_arch.models.cnn import simple_mnist_convnet
    from keras_arch.training.trainer import seed_everything
    seed_everything(0)
    model = simple_mnist_convnet()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    train = make_dataset(splits.x_train, splits.y_train, 128, shuffle=True)
    start = time.perf_counter()
    model.fit(train, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(make_dataset(splits.x_val, splits.y_val, 512), verbose=0)
    return {"val_accuracy": float(accuracy), "train_seconds": seconds, "epochs": epochs,
            "parameters": model.count_params()}


def run(quick=False, data_dir=None):
    from keras_arch.data.images import load_mnist_dir
    from keras_arch.training.trainer import RunOptions, train
    data_dir = data_dir or os.environ.get("KERAS_ARCH_MNIST_DIR", DEFAULT_DIR)
    if not os.path.isdir(data_dir):
        return {"name": NAME, "skipped": f"no MNIST IDX files at {data_dir}"}
    _, ours = train("cnn", RunOptions(data_dir=data_dir, quiet=True))
    baseline_epochs = 5 if quick else 15  # --quick: fewer epochs, time scaled to 15
    base = _keras_io_baseline(load_mnist_dir(data_dir), baseline_epochs)
    base_15 = base["train_seconds"] * 15 / baseline_epochs
    ratio = ours["train_seconds"] / base_15
    rows = [
        {"benchmark": NAME, "model": "keras_arch cnn (run cnn --data-dir)",
         "val_accuracy": ours["val_accuracy"], "train_seconds": ours["train_seconds"],
         "epochs": ours["epochs"], "samples_per_second": ours["samples_per_second"],
         "parameters": ours["parameters"],
         "anchor": "keras-io Simple MNIST convnet: 99.22% after 15 epochs"},
        {"benchmark": NAME, "model": f"keras-io Simple MNIST convnet ({baseline_epochs} epochs)",
         "val_accuracy": base["val_accuracy"], "train_seconds": base["train_seconds"],
         "train_seconds_15_epochs": base_15, "epochs": base["epochs"],
         "parameters": base["parameters"], "anchor": "keras-io: 99.22% after 15 epochs"},
    ]
    checks = {"val_accuracy >= 0.992": ours["val_accuracy"] >= 0.992,
              "time <= 1/3 of keras-io recipe": ratio <= 1 / 3}
    return {"name": NAME, "rows": rows, "time_ratio": ratio, "checks": checks}
