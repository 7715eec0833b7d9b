"""Knowledge transfer (document 000 §3.3, document 002 §3.4): ``run transfer``
on MNIST with 10 and 100 labels per target class, and on the embedded digits
with 20; fine-tuned vs trained from scratch on the same labels and steps.
Target: transfer beats scratch with <= 100 labels per class. Anchor: none
published for this split (digits 0-4 -> 5-9); the comparison is side by side."""
import os

NAME = "transfer"
MNIST_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mnist")


def run(quick=False, data_dir=None):
    from keras_arch.training.trainer import RunOptions, train
    data_dir = data_dir or os.environ.get("KERAS_ARCH_MNIST_DIR", MNIST_DIR)
    runs = [("digits", None, 20)]
    if os.path.isdir(data_dir):
        runs += [("mnist", data_dir, 10), ("mnist", data_dir, 100)]
    rows, checks = [], {}
    for label, directory, per_class in runs:
        _, m = train("transfer", RunOptions(data_dir=directory, labels_per_class=per_class, quiet=True,
                                            epochs=1 if quick and directory else None))
        rows.append({"benchmark": NAME, "model": "run transfer", "data": label, "labels_per_class": per_class,
                     "frozen_trunk_accuracy": m["frozen_trunk_accuracy"], "fine_tuned_accuracy": m["fine_tuned_accuracy"],
                     "scratch_accuracy": m["scratch_accuracy"], "source_accuracy": m["source_accuracy"],
                     "train_seconds": m["train_seconds"], "anchor": "scratch on the same labels and steps"})
        checks[f"transfer beats scratch ({label}, {per_class}/class)"] = (
            max(m["fine_tuned_accuracy"], m["frozen_trunk_accuracy"]) > m["scratch_accuracy"])
    return {"name": NAME, "rows": rows, "checks": checks}
