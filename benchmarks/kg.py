"""Knowledge-graph link prediction (document 004 §3.3/§4.3): the document's
MLP scorer (concat and sum) and the DistMult and TransE baselines, one trainer,
filtered MRR and Hits@1/3/10 over both directions on UMLS, Kinship and Nations.

Anchors: ConvE (Dettmers et al. 2018) filtered MRR UMLS 0.94, Kinship 0.83,
Nations 0.82; ER-MLP, the document's kind of model, Hits@10 0.969 on Kinship in
PyKEEN's benchmarking study (Ali et al. 2021). Targets for the MLP scorer:
UMLS >= 0.85, Kinship >= 0.75, Nations >= 0.70.

Scale: every arch with the defaults it picks from the graph's size, on a
generated family graph of about 35,000 entities and 399,000 training triples
and on a sparse one of about 40,000 entities and 91,000 training triples
(WN18RR's size; DistMult's published MRR there is 0.43), each command in a
fresh process, timed whole; the target is 10 minutes.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from benchmarks import stats
from keras_arch.shared import data_path

NAME = "kg"
DEFAULT_DIR = data_path("kg")
ANCHOR_MRR = {"umls": 0.94, "kinship": 0.83, "nations": 0.82}
TARGET_MRR = {"umls": 0.85, "kinship": 0.75, "nations": 0.70}
MODELS = [("kg", {}), ("kg", {"combine": "sum"}), ("kg-distmult", {}), ("kg-transe", {})]


LARGE_GRAPHS = {  # name: family_graph arguments (quick: a tenth of the families)
    "generated family (35k entities, 399k train triples)": dict(families=1000, valid_fraction=0.01,
                                                                test_fraction=0.01),
    "generated sparse family (40k entities, 91k train triples: WN18RR's size)": dict(
        families=1200, keep=0.2, valid_fraction=0.033, test_fraction=0.033),
}
TEN_MINUTES = 600


def _large_graph_rows(quick):
    """Every KG arch with its defaults (chosen from the graph's size) on each
    large generated graph: the whole command's wall time, one process each
    (peak memory is the process's own), through ``--data-dir`` as users run it."""
    import time
    from keras_arch.data import kg
    rows, checks = [], {}
    with tempfile.TemporaryDirectory() as d:
        for label, kwargs in LARGE_GRAPHS.items():
            kwargs = {**kwargs, "families": kwargs["families"] // 10} if quick else kwargs
            path = kg.write_graph_dir(kg.family_graph(**kwargs), os.path.join(d, "graph"))
            for arch in ("kg", "kg-distmult", "kg-transe"):
                out_json = os.path.join(d, "m.json")
                cmd = [sys.executable, "-m", "keras_arch.run", arch, "--data-dir", path, "--quiet",
                       "--metrics-json", out_json]
                start = time.perf_counter()
                done = subprocess.run(cmd, capture_output=True, text=True, timeout=3000)
                wall = time.perf_counter() - start
                if done.returncode:
                    rows.append({"benchmark": NAME, "model": f"run {arch}", "data": label, "error": done.stderr[-300:]})
                    continue
                m = json.load(open(out_json))
                rows.append({"benchmark": NAME, "model": f"run {arch} (defaults)", "data": label,
                             "entities": m["data"]["entities"], "train_triples": m["data"]["train"],
                             "chosen": m["scale"] or m["objective"], "epochs": m["epochs"],
                             "wall_seconds": round(wall, 1), "seconds_per_epoch": m["seconds_per_epoch"],
                             "eval_seconds": m["eval_seconds"], "peak_rss_mb": m["peak_rss_mb"],
                             "test_mrr": m["test_mrr"], "hits@10": m["test_hits@10"],
                             "anchor": "DistMult on WN18RR: MRR 0.43 (Dettmers et al. 2018)"})
                if not quick:
                    checks[f"run {arch} on {label.split(' (')[0]} within 10 minutes"] = wall <= TEN_MINUTES
            shutil.rmtree(path)
    return rows, checks


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
    large, large_checks = _large_graph_rows(quick)
    rows += large
    checks.update(large_checks)
    checks["large graphs train (every arch)"] = all("error" not in r for r in large)
    return {"name": NAME, "rows": rows, "checks": checks}
