"""python -m benchmarks [--only NAME] [--quick]: run the benchmarks, write
benchmarks/results/<date>.json and <date>.md (atomically)."""
import argparse
import datetime
import importlib
import json
import os
import platform
import sys

import keras_arch  # noqa: F401  (Keras 2 before TensorFlow loads)
from keras_arch import precision, quiet
from keras_arch.io import write_atomic

ALL = ["cnn_mnist", "compression", "text_attention", "bert", "precision", "serving", "serving_contract", "crossmodal", "kg", "moe", "transfer", "strategies", "scaling", "flops", "step_anatomy", "iterator_teardown", "robustness"]
HERE = os.path.dirname(os.path.abspath(__file__))


def machine():
    import tensorflow as tf
    flags = precision.cpu_flags()
    return {"platform": platform.platform(), "python": platform.python_version(),
            "cpus": os.cpu_count(), "tensorflow": tf.__version__,
            "cpu_flags": " ".join(sorted(f for f in flags if f.startswith(("avx512", "amx")) or f == "avx2")),
            "gpus": [d.name for d in tf.config.list_physical_devices("GPU")]}


def _fmt(v):
    if isinstance(v, float) and abs(v) >= 1e5:
        return f"{v:.4g}"  # FLOP/s, examples/s: four significant digits
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def markdown(report):
    lines = [f"# Benchmarks {report['date']}", "", "Machine: " + ", ".join(
        f"{k} {v}" for k, v in report["machine"].items()), ""]
    for result in report["results"]:
        lines.append(f"## {result['name']}")
        if "skipped" in result:
            lines += [f"skipped: {result['skipped']}", ""]
            continue
        keys = list(dict.fromkeys(k for row in result["rows"] for k in row if k != "benchmark"))
        lines.append("| " + " | ".join(keys) + " |")
        lines.append("|" + "---|" * len(keys))
        for row in result["rows"]:
            lines.append("| " + " | ".join(_fmt(row.get(k, "")) for k in keys) + " |")
        for check, ok in result.get("checks", {}).items():
            # --quick trains with a fraction of the budget: targets are judged on full runs only.
            verdict = "PASS" if ok is True else ("below target at the --quick budget" if report["quick"] else "FAIL")
            lines.append(f"- {check}: {verdict}")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks")
    p.add_argument("--only", action="append", choices=ALL, help="run only this benchmark (repeatable)")
    p.add_argument("--quick", action="store_true", help="smaller budgets, for a quick check")
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    args = p.parse_args(argv)
    quiet.enable()
    report = {"date": datetime.date.today().isoformat(), "quick": args.quick,
              "machine": machine(), "results": []}
    for name in args.only or ALL:
        result = importlib.import_module(f"benchmarks.{name}").run(quick=args.quick)
        # NumPy bools would be written as the string "False" (truthy) by default=str.
        result["checks"] = {k: bool(v) for k, v in result.get("checks", {}).items()}
        report["results"].append(result)
        print(json.dumps(result, indent=1, default=str), flush=True)
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, report["date"] + ("-quick" if args.quick else ""))
    if args.only and os.path.exists(stem + ".json"):
        # A partial run updates the day's report instead of replacing it.
        ran = {r["name"] for r in report["results"]}
        earlier = json.load(open(stem + ".json"))["results"]
        report["results"] = [r for r in earlier if r["name"] not in ran] + report["results"]
        report["results"].sort(key=lambda r: ALL.index(r["name"]) if r["name"] in ALL else len(ALL))
    write_atomic(stem + ".json", json.dumps(report, indent=2, default=str))
    write_atomic(stem + ".md", markdown(report))
    print(markdown(report))
    failed = [c for r in report["results"] for c, ok in r.get("checks", {}).items() if ok is not True]
    return 1 if failed and not args.quick else 0


if __name__ == "__main__":
    sys.exit(main())
