"""Scale-out (issue #8): training samples/s against the number of replicas,
``--strategy mirrored --logical-devices N``, for the CNN and the BERT model,
each in a fresh process (logical devices are fixed at TensorFlow start-up).

Here the replicas are logical CPU devices sharing the machine's cores, so the
numbers measure MirroredStrategy's overhead, not a speed-up; on a machine with
GPUs the same commands mirror over real GPUs (or one GPU split in N).
Anchor: ideal scaling is N x the one-replica rate on N real devices."""
import json
import os
import subprocess
import sys
import tempfile
from keras_arch.shared import data_path

NAME = "scaling"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST_DIR = data_path("mnist")


def _run(arch, replicas, extra):
    strategy = ["--strategy", "one-device"] if replicas == 1 else ["--strategy", "mirrored", "--logical-devices",
                                                                   str(replicas)]
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.json")
        cmd = [sys.executable, "-m", "keras_arch.run", arch, *strategy, "--quiet", "--metrics-json", path, *extra]
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800)
        if done.returncode:
            return {"error": done.stderr.strip().splitlines()[-1][:200]}
        return json.load(open(path))


def run(quick=False):
    cnn_data = ["--data-dir", MNIST_DIR] if os.path.isdir(MNIST_DIR) and not quick else []
    cases = [("cnn", ["--epochs", "1", "--batch-size", "256", *cnn_data]),
             ("bert", ["--epochs", "1", "--batch-size", "32", "--max-length", "32"])]
    rows, rates = [], {}
    for arch, extra in cases:
        for replicas in (1, 2):
            m = _run(arch, replicas, extra)
            if "error" in m:
                rows.append({"benchmark": NAME, "model": f"run {arch}", "replicas": replicas, "error": m["error"]})
                continue
            rate = m["samples_per_second"]
            rates[(arch, replicas)] = rate
            label = " ".join(extra).replace(MNIST_DIR, "../shared/data/mnist")
            rows.append({"benchmark": NAME, "model": f"run {arch} {label}", "data": m["data"]["name"],
                         "replicas": replicas, "devices": ", ".join(d.split("/")[-1] for d in m["distribution"]["devices"]),
                         "global_batch": m["config"]["batch_size"], "samples_per_second": rate,
                         "vs_one_replica": rate / rates[(arch, 1)] if (arch, 1) in rates else None,
                         "anchor": "ideal: N x one replica on N real devices"})
    return {"name": NAME, "rows": rows,
            "checks": {"every replica count trains": all("error" not in r for r in rows)}}
