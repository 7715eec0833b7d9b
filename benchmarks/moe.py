"""Mixture of experts against a dense feed-forward with the same active
parameters (document 002 §3.4): ``run moe`` (4 experts of 128 hidden units,
top-1: each token uses one 64-128-64 expert) against ``run transformer`` (one
64-128-64 feed-forward), same data, same steps, same seed.

Anchor: Switch Transformer (Fedus et al. 2021) reports lower loss at equal
steps for the same active compute at scale; at this size the comparison is
about the implementation's cost (throughput ratio) and that routing stays
balanced."""
import os

from benchmarks import stats
from keras_arch.shared import data_path

NAME = "moe"
RT_DIR = data_path("text", "rt-polarity")


def run(quick=False, data_dir=None):
    from keras_arch.config import RunConfig
    from keras_arch.training.train_lib import train
    data_dir = data_dir or os.environ.get("KERAS_ARCH_RT_DIR", RT_DIR)
    data_dir = data_dir if os.path.isdir(data_dir) else None
    rows = {}
    for arch in ("transformer", "moe"):
        runs = []
        for seed in stats.SEEDS[:1] if quick else stats.SEEDS:
            _, m = train(arch, RunConfig(data_dir=data_dir, quiet=True, seed=seed, epochs=1 if quick else None))
            runs.append(m)
        split = m["eval_split"]
        accuracy = [r[f"{split}_accuracy"] for r in runs]
        rows[arch] = {"benchmark": NAME, "model": f"run {arch} ({len(runs)} seeds)", "data": m["data"]["name"],
                      f"{split}_accuracy": stats.spread(accuracy)["mean"], "spread": stats.text(accuracy),
                      "final_train_loss": m["history"]["loss"][-1],
                      "final_val_loss": m["history"]["val_loss"][-1], "epochs": m["epochs"],
                      "examples_per_second": m["samples_per_second"], "parameters": m["parameters"],
                      "anchor": "dense FF with the same active parameters"}
        load = [v for k, v in m.items() if k.endswith("_expert_load")]
        if load:
            rows[arch]["expert_load"] = "/".join(f"{v:.2f}" for v in load[0])
            rows[arch]["max_load_over_uniform"] = max(load[0]) * len(load[0])
    ratio = rows["moe"]["examples_per_second"] / rows["transformer"]["examples_per_second"]
    rows["moe"]["throughput_vs_dense"] = ratio
    return {"name": NAME, "rows": list(rows.values()),
            "checks": {"routing balanced (max load < 2x uniform)": rows["moe"]["max_load_over_uniform"] < 2.0,
                       "moe throughput >= 0.5x dense": ratio >= 0.5}}
