"""float32 against mixed_bfloat16 (``--precision``), side by side in one run
(issue #17): the same command, seed and data under both policies; training
examples/s (every phase's ``fit``, validation included), its ratio to
float32, and test accuracy.

- bert on the real sentence polarity data (``run bert --data-dir
  rt-polarity --max-length 64``, the recipe's 2 epochs);
- cnn on the real MNIST (``run cnn --data-dir mnist --epochs 1``);
- transformer on its embedded reviews (the recipe's defaults).

Where a data set is absent the row says so. Targets: bfloat16 BERT at least
1.6x float32's examples/s with accuracy within 0.5 point (on a CPU with
AVX512_BF16 or AMX; elsewhere bfloat16 is emulated and slower).
"""
import os
from keras_arch.shared import data_path

NAME = "precision"
SHARED = data_path()
POLICIES = ("float32", "mixed_bfloat16")
CASES = (  # arch, data label, data directory (None: embedded), run options
    ("bert", "rt-polarity", os.path.join(SHARED, "text", "rt-polarity"), {"max_length": 64}),
    ("cnn", "MNIST", os.path.join(SHARED, "mnist"), {"epochs": 1}),
    ("transformer", "embedded reviews", None, {}),
)


def run(quick=False, seed=0):
    from keras_arch import precision
    from keras_arch.config import RunConfig
    from keras_arch.training.train_lib import train
    native, why = precision.native_bfloat16()
    rows, ratios, accuracy_gap = [], {}, {}
    for arch, label, data_dir, options in CASES:
        if data_dir and not os.path.isdir(data_dir):
            rows.append({"benchmark": NAME, "model": f"{arch} on {label}", "skipped": f"no data at {data_dir}"})
            continue
        if quick:
            options = {**options, "epochs": 1}
        measured = {}
        for policy in POLICIES:
            _, m = train(arch, RunConfig(data_dir=data_dir, quiet=True, seed=seed, precision=policy, **options))
            measured[policy] = m
            rows.append({"benchmark": NAME, "model": f"{arch} on {label}", "precision": policy,
                         "epochs": m["epochs"], "train_seconds": m["train_seconds"],
                         "examples_per_second": m["samples_per_second"],
                         "speedup_vs_float32": m["samples_per_second"] / measured["float32"]["samples_per_second"],
                         "test_accuracy": m["eval_accuracy"]})
        ratios[arch] = rows[-1]["speedup_vs_float32"]
        accuracy_gap[arch] = measured["mixed_bfloat16"]["eval_accuracy"] - measured["float32"]["eval_accuracy"]
    checks = {}
    if "bert" in ratios:
        checks["bert bfloat16 >= 1.6x float32 examples/s"] = ratios["bert"] >= 1.6 if native else True
        checks["bert bfloat16 accuracy within 0.5 point of float32"] = abs(accuracy_gap["bert"]) <= 0.005
    return {"name": NAME, "rows": rows, "native_bfloat16": why, "speedups": ratios,
            "accuracy_gap": accuracy_gap, "checks": checks}
