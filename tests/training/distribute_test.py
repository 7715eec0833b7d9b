"""tf.distribute: two-replica MirroredStrategy on logical CPUs matches one
device; a two-process MultiWorkerMirroredStrategy run on localhost."""
import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT

MIRRORED_CHECK = textwrap.dedent("""
    import json, sys
    import numpy as np
    from keras_arch.training import distribute
    distribute.configure_devices(2)  # before TensorFlow initialises
    from keras_arch.config import RunConfig
    from keras_arch.training.train_lib import train
    arch, epochs, optimizer = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    out = {}
    for strategy in ("one-device", "mirrored"):
        model, m = train(arch, RunConfig(strategy=strategy, epochs=epochs, batch_size=64, optimizer=optimizer,
                                          learning_rate=0.05 if optimizer == "sgd" else None, quiet=True))
        out[strategy] = {"loss": m["history"]["loss"], "replicas": m["distribution"]["replicas"],
                         "weights": [w.tolist() for w in model.get_weights()]}
    print("RESULT" + json.dumps(out))
""")


def run_python(code, *args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, env=env)


# SGD for the CNN: Adam divides by sqrt(v), which turns summation-order noise
# in near-zero gradients into lr-sized steps (measured: 1e-2 apart after 40
# steps); with SGD the two runs stay within 1e-3 and their losses within 1e-4.
@pytest.mark.parametrize("arch, epochs, optimizer, atol", [("cnn-doc000", 2, "sgd", 3e-3),
                                                           ("lstm-doc001", 1, "adam", 1e-4)])
@pytest.mark.slow  # an end-to-end run of 15-70 s here (issue 18: the fast suite)
def test_two_replica_mirrored_matches_one_device(arch, epochs, optimizer, atol):
    import numpy as np
    out = run_python(MIRRORED_CHECK, arch, str(epochs), optimizer)
    assert out.returncode == 0, out.stderr[-3000:]
    r = json.loads(out.stdout.split("RESULT", 1)[1])
    assert r["one-device"]["replicas"] == 1 and r["mirrored"]["replicas"] == 2
    # Same global batch, same seed: the same gradients, summed in another order.
    np.testing.assert_allclose(r["mirrored"]["loss"], r["one-device"]["loss"], rtol=1e-4)
    for a, b in zip(r["mirrored"]["weights"], r["one-device"]["weights"]):
        np.testing.assert_allclose(np.array(a), np.array(b), rtol=0, atol=atol)


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.mark.slow  # an end-to-end run of 15-70 s here (issue 18: the fast suite)
def test_two_workers_train_together_and_only_the_chief_writes(tmp_path):
    ports = free_ports(2)
    cluster = {"worker": [f"localhost:{p}" for p in ports]}
    procs = []
    for index in range(2):
        env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
        cmd = [sys.executable, "-m", "keras_arch.run", "cnn-doc000", "--strategy", "multi-worker", "--epochs", "2",
               "--batch-size", "64", "--quiet", "--metrics-json", str(tmp_path / f"worker{index}.json"),
               "--checkpoint-dir", str(tmp_path / "ckpt"), "--export", str(tmp_path / "serving")]
        procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        outs = [p.communicate(timeout=400) for p in procs]
    finally:
        for p in procs:  # bounded: nothing outlives the test
            p.kill()
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    m = [json.loads((tmp_path / f"worker{i}.json").read_text()) for i in range(2)]
    assert m[0]["distribution"]["strategy"] == "multi-worker" and m[0]["distribution"]["chief"]
    assert not m[1]["distribution"]["chief"] and m[0]["distribution"]["replicas"] == 2
    assert m[0]["history"]["loss"] == m[1]["history"]["loss"]  # one model, trained together
    assert m[0]["export_path"] and m[1].get("export_path") is None
    assert os.listdir(tmp_path / "serving" / "cnn-doc000") == ["1"]  # one export, the chief's
    ckpt = sorted(os.listdir(tmp_path / "ckpt"))
    assert ckpt == ["backup", "best.weights.h5", "history.csv", "run.json"], ckpt  # no worker temp dirs
    assert len((tmp_path / "ckpt" / "history.csv").read_text().splitlines()) == 3  # header + 2 epochs, once


@pytest.mark.slow  # an end-to-end run of 15-70 s here (issue 18: the fast suite)
def test_jit_and_mixed_precision_train(tmp_path):
    """--jit compiles the train step with XLA; --precision mixed_float16
    computes in float16 with float32 variables and dynamic loss scaling."""
    from tests.conftest import run_cli
    for flags, key, value in ((["--jit"], "jit", True), (["--precision", "mixed_float16"], "precision", "mixed_float16")):
        path = tmp_path / f"{key}.json"
        out = run_cli("cnn-doc000", *flags, "--epochs", "2", "--quiet", "--metrics-json", str(path))
        assert out.returncode == 0, out.stderr[-2000:]
        m = json.loads(path.read_text())
        assert m["config"][key] == value
        assert m["test_accuracy"] > 0.8, m["test_accuracy"]  # it learns (0.96 in float32)


@pytest.mark.slow  # two CLI processes that start TensorFlow (about 11 s); CI runs it
def test_strategy_errors_are_one_line():
    from tests.conftest import run_cli
    out = run_cli("cnn-doc000", "--strategy", "multi-worker", "--epochs", "1", env={**os.environ, "TF_CONFIG": ""})
    assert out.returncode == 2 and "needs TF_CONFIG" in out.stderr and "Traceback" not in out.stderr
    out = run_cli("cnn-doc000", "--strategy", "mirrored", "--logical-devices", "2", "--batch-size", "33", "--epochs", "1")
    assert out.returncode == 2 and "does not split over 2 replicas" in out.stderr
