"""Knowledge transfer (document 000 §3.3, document 002 §3.4): ``run transfer``
on MNIST with 10 and 100 labels per target class, and on the embedded digits
with 20; fine-tuned vs trained from scratch on the same labels and steps.
Target: transfer beats scratch with <= 100 labels per class. Anchor: none
published for this split (digits 0-4 -> 5-9); the comparison is side by side."""
import os

from benchmarks import stats
from keras_arch.shared import data_path

NAME = "transfer"
MNIST_DIR = data_path("mnist")


def run(quick=False, data_dir=None):
    from keras_arch.config import RunConfig
    from keras_arch.training.train_lib import train
    data_dir = data_dir or os.environ.get("KERAS_ARCH_MNIST_DIR", MNIST_DIR)
    runs = [("digits", None, 20)]
    if os.path.isdir(data_dir):
        runs += [("mnist", data_dir, 10), ("mnist", data_dir, 100)]
    rows, checks = [], {}
    for label, directory, per_class in runs:
        runs = []
        for seed in stats.SEEDS[:1] if quick else stats.SEEDS:
            _, m = train("transfer", RunConfig(data_dir=directory, labels_per_class=per_class, quiet=True, seed=seed,
                                                epochs=1 if quick and directory else None))
            runs.append(m)
        mean = {k: stats.spread([r[k] for r in runs])["mean"] for k in
                ("frozen_trunk_accuracy", "fine_tuned_accuracy", "scratch_accuracy", "source_accuracy", "train_seconds")}
        rows.append({"benchmark": NAME, "model": f"run transfer ({len(runs)} seeds)", "data": label,
                     "labels_per_class": per_class, **mean,
                     "fine_tuned_spread": stats.text([r["fine_tuned_accuracy"] for r in runs]),
                     "scratch_spread": stats.text([r["scratch_accuracy"] for r in runs]),
                     "anchor": "scratch on the same labels and steps"})
        checks[f"transfer beats scratch ({label}, {per_class}/class, mean)"] = (
            max(mean["fine_tuned_accuracy"], mean["frozen_trunk_accuracy"]) > mean["scratch_accuracy"])
    return {"name": NAME, "rows": rows, "checks": checks}
