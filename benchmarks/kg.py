"""Knowledge-graph link prediction (document 004 §3.3/§4.3): the document's
MLP scorer (concat and sum) and the DistMult and TransE baselines, one trainer,
filtered MRR and Hits@1/3/10 over both directions on UMLS, Kinship and Nations.

Anchors: ConvE (Dettmers et al. 2018) filtered MRR UMLS 0.94, Kinship 0.83,
Nations 0.82; ER-MLP, the document's kind of model, Hits@10 0.969 on Kinship in
PyKEEN's benchmarking study (Ali et al. 2021). Targets for the MLP scorer:
UMLS >= 0.85, Kinship >= 0.75, Nations >= 0.70.

Scale: a generated family graph of about 35,000 entities and 340,000 training
triples, one epoch per objective in a fresh process (peak memory is the
process's own), through the same ``--data-dir`` path users take.
"""
import json
import os
import subprocess
import sys
import tempfile

from benchmarks import stats

NAME = "kg"
DEFAULT_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "kg")
ANCHOR_MRR = {"umls": 0.94, "kinship": 0.83, "nations": 0.82}
TARGET_MRR = {"umls": 0.85, "kinship": 0.75, "nations": 0.70}
MODELS = [("kg", {}), ("kg", {"combine": "sum"}), ("kg-distmult", {}), ("kg-transe", {})]


def _large_graph_rows(quick):
    from keras_arch.data import kg
    families = 200 if quick else 1000
    graph = kg.family_graph(families=families, valid_fraction=0.01, test_fraction=0.01)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        kg.write_graph_dir(graph, os.path.join(d, "family-large"))
        for arch, extra in (("kg", ["--negatives", "32", "--batch-size", "512"]),
                            ("kg-distmult", ["--batch-size", "256"]),
                            ("kg-distmult", ["--negatives", "32", "--batch-size", "512"])):
            out_json = os.path.join(d, "m.json")
            cmd = [sys.executable, "-m", "keras_arch.run", arch, "--data-dir", os.path.join(d, "family-large"),
                   "--epochs", "1", "--quiet", "--metrics-json", out_json, *extra]
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=3000)
            if done.returncode:
                rows.append({"benchmark": NAME, "model": " ".join(cmd[3:5] + extra), "error": done.stderr[-300:]})
                continue
            m = json.load(open(out_json))
            rows.append({"benchmark": NAME, "model": f"run {arch} {' '.join(extra)}", "data": "generated family",
                         "entities": m["data"]["entities"], "train_triples": m["data"]["train"],
                         "objective": m["objective"], "seconds_per_epoch": m["seconds_per_epoch"],
                         "eval_seconds": m["eval_seconds"], "peak_rss_mb": m["peak_rss_mb"],
                         "test_mrr_after_1_epoch": m["test_mrr"]})
    return rows


def run(quick=False, data_dir=None):
    from keras_arch.config import RunConfig
    from keras_arch.data import kg
    from keras_arch.tasks.kg import train_on_graph
    data_dir = data_dir or os.environ.get("KERAS_ARCH_KG_DIR", DEFAULT_DIR)
    if not os.path.isdir(data_dir):
        return {"name": NAME, "skipped": f"no knowledge graphs at {data_dir}"}
    rows, checks = [], {}
    for dataset in ("umls", "kinship", "nations"):
        graph = kg.read_graph_dir(os.path.join(data_dir, dataset))
        for arch, extra in MODELS:
            runs = [train_on_graph(arch, graph, RunConfig(quiet=True, seed=seed, epochs=30 if quick else None, **extra),
                                   eval_every=10)[1]
                    for seed in (stats.SEEDS[:1] if quick else stats.SEEDS)]
            m = {k: stats.spread([r[k] for r in runs])["mean"] if isinstance(runs[0][k], float) else runs[0][k]
                 for k in ("test_mrr", "test_hits@1", "test_hits@3", "test_hits@10", "epochs", "train_seconds")}
            label = f"run {arch}" + "".join(f" --{k} {v}" for k, v in extra.items()) + f" ({len(runs)} seeds)"
            rows.append({"benchmark": NAME, "model": label, "data": dataset, "test_mrr": m["test_mrr"],
                         "mrr_spread": stats.text([r["test_mrr"] for r in runs]),
                         "hits@1": m["test_hits@1"], "hits@3": m["test_hits@3"], "hits@10": m["test_hits@10"],
                         "epochs": m["epochs"], "train_seconds": m["train_seconds"],
                         "anchor": f"ConvE MRR {ANCHOR_MRR[dataset]}"
                                   + ("; ER-MLP Hits@10 0.969 (PyKEEN)" if dataset == "kinship" else "")})
            if arch == "kg" and not extra:
                checks[f"kg MRR on {dataset} >= {TARGET_MRR[dataset]}"] = m["test_mrr"] >= TARGET_MRR[dataset]
    rows += _large_graph_rows(quick)
    checks["large graph trains (every objective)"] = all("error" not in r for r in rows)
    return {"name": NAME, "rows": rows, "checks": checks}
