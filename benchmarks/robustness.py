"""Every recipe away from its defaults (issue 18: "a model must be right however
it is run"): the default run, a fifth and a half of its epochs, two other
seeds, and the other data set it supports, each as a user runs it
(``python -m keras_arch.run ARCH ... --metrics-json``, a fresh process).

Targets: half the epochs stays within 5 points of the default, a fifth within
15 (kg: 0.05 and 0.15 of MRR), another seed within 3; ``cnn`` on the digits
reaches 0.90 at 3 epochs and 0.95 at 6, and 0.98 on MNIST after 1 epoch.

Anchor: the recipe's own default run, measured in the same run.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

from keras_arch import registry
from keras_arch.shared import data_path

NAME = "robustness"
HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = data_path()
# The real data set each family of archs can also read (--data-dir).
OTHER_DATA = {"digits": os.path.join(SHARED, "mnist"), "generated": os.path.join(SHARED, "text", "rt-polarity"),
              "family": os.path.join(SHARED, "kg", "umls")}
SLOW_OTHER = {"bert"}  # rt-polarity takes ~5 min: measured by `benchmarks --only bert`


def score(m):
    """(name, value) of the number a run is judged on."""
    split = m.get("eval_split", "test")
    for key in ("eval_accuracy", "test_mrr", "fine_tuned_accuracy", f"{split}_accuracy_full",
                f"{split}_image_to_text_recall@1", f"{split}_digit_accuracy"):
        if key in m:
            return key, float(m[key])
    key = next(k for k in sorted(m) if k.startswith(split) and k.endswith("accuracy"))
    return key, float(m[key])


def run_cli(arch, *flags):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.json")
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "keras_arch.run", arch, "--quiet", "--metrics-json", path,
                               *flags], capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1], "wall_seconds": round(wall, 1)}
        m = json.load(open(path))
    key, value = score(m)
    return {"metric": key, "value": value, "epochs": m.get("epochs"), "wall_seconds": round(wall, 1)}


def variants(arch, quick):
    recipe = registry.get(arch)
    default_epochs = recipe.by_data.get(recipe.datasets[0], {}).get("epochs", recipe.epochs)
    out = [("default", ()),
           ("1/5 epochs", ("--epochs", str(max(1, round(default_epochs / 5))))),
           ("1/2 epochs", ("--epochs", str(max(1, round(default_epochs / 2)))))]
    if not quick:
        out += [("seed 1", ("--seed", "1")), ("seed 2", ("--seed", "2"))]
    other = OTHER_DATA.get(recipe.datasets[0])
    if other and os.path.isdir(other) and arch not in SLOW_OTHER and not quick:
        if recipe.datasets[0] != "generated" or "imdb" in recipe.datasets:
            out.append((f"--data-dir {os.path.basename(other)}", ("--data-dir", other)))
    if arch == "cnn":
        out += [("3 epochs", ("--epochs", "3")), ("6 epochs", ("--epochs", "6"))]
        if os.path.isdir(OTHER_DATA["digits"]):
            out.append(("mnist, 1 epoch", ("--data-dir", OTHER_DATA["digits"], "--epochs", "1")))
    return out


def checks_for(arch, results):
    default = results.get("default", {}).get("value")
    out = {}
    for label, r in results.items():
        if "error" in r:
            out[f"{arch} {label}: runs"] = False
            continue
        if default is None or label == "default" or label.startswith("--data-dir") or "mnist" in label:
            continue
        margin = {"1/5 epochs": 0.15, "1/2 epochs": 0.05}.get(label, 0.03)
        if label in ("3 epochs", "6 epochs"):
            continue
        out[f"{arch} {label}: within {margin:.2f} of default {default:.3f}"] = r["value"] >= default - margin
    if arch == "cnn":
        for label, target in (("3 epochs", 0.90), ("6 epochs", 0.95), ("mnist, 1 epoch", 0.98)):
            if label in results and "value" in results[label]:
                out[f"cnn {label} >= {target}"] = results[label]["value"] >= target
    return out


def run(quick=False, archs=None):
    rows, checks = [], {}
    for arch in archs or registry.names():
        results = {}
        for label, flags in variants(arch, quick):
            r = run_cli(arch, *flags)
            results[label] = r
            rows.append({"benchmark": NAME, "arch": arch, "run": label, **r})
            print(json.dumps(rows[-1]), flush=True)
        checks.update(checks_for(arch, results))
    return {"name": NAME, "rows": rows, "checks": checks}


if __name__ == "__main__":
    result = run(archs=sys.argv[1:] or None)
    print(json.dumps(result["checks"], indent=1))
