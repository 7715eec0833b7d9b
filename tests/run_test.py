import json
import os
import subprocess
import sys
import time

import pytest

from keras_arch import run
from tests.conftest import ROOT, run_cli
from tests.helpers import tree_digest
from tests.data.idx_test import make_mnist_dir, write_idx


def test_help_list_and_unknown_arch_do_not_import_tensorflow():
    code = ("import sys, contextlib, io\n"
            "from keras_arch import run\n"
            "for argv in (['--list'], ['nope']):\n"
            "    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
            "        run.main(argv)\n"
            "try:\n"
            "    with contextlib.redirect_stdout(io.StringIO()):\n"
            "        run.main(['--help'])\n"
            "except SystemExit:\n"
            "    pass\n"
            "print('tensorflow' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "False", out.stderr


def test_help_is_fast():
    start = time.perf_counter()
    out = run_cli("--help")
    assert out.returncode == 0 and "--export" in out.stdout
    assert time.perf_counter() - start < 5  # the figure (under 0.3 s) is measured in docs/measurements.md


def test_list_names_every_registered_arch():
    out = run_cli("--list")
    assert out.returncode == 0
    archs, errata = out.stdout.split("\n\n", 1)
    listed = [line.split()[0] for line in archs.splitlines()]
    assert listed == run.registry.names() and "cnn" in listed
    assert errata.startswith("Errata") and errata.count("\n      -> ") == 14


def _one_line_exit_2(out, needle):
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert needle in lines[0], lines[0]


@pytest.mark.parametrize("argv, needle", [
    (["nope"], "unknown arch 'nope'"),
    (["cnn", "--bogus"], "unrecognized arguments: --bogus"),
    (["cnn", "--epochs", "0"], "expected a positive integer, got 0"),
    (["cnn", "--batch-size", "-3"], "expected a positive integer, got -3"),
    (["cnn", "--learning-rate", "abc"], "expected a positive number"),
    (["cnn", "--dataset", "imagenet"], "--dataset 'imagenet' is not available"),
    (["cnn", "--data-dir", "/nonexistent/mnist"], "no such directory"),
    ([], "an ARCH is required"),
])
def test_bad_input_gets_one_line_and_exit_2(argv, needle):
    _one_line_exit_2(run_cli(*argv), needle)


def test_corrupt_data_dir_gets_one_line_and_is_not_modified(tmp_path):
    root = str(tmp_path)
    images, _ = make_mnist_dir(root)
    write_idx(os.path.join(root, "train-images-idx3-ubyte.gz"), images, truncate=50)
    before = tree_digest(root)
    out = run_cli("cnn", "--data-dir", root, "--epochs", "1", "--export", os.path.join(root, "x"))
    _one_line_exit_2(out, "truncated or corrupt")
    assert tree_digest(root) == before


@pytest.mark.slow  # a CLI run that trains (about 10 s); CI runs it
def test_train_on_idx_dir_writes_metrics_and_leaves_data_untouched(tmp_path):
    data = str(tmp_path / "data")
    make_mnist_dir(data, n=200)
    before = tree_digest(data)
    metrics_path = str(tmp_path / "m.json")
    out = run_cli("cnn", "--data-dir", data, "--epochs", "2", "--batch-size", "32", "--quiet",
                  "--metrics-json", metrics_path, "--export", str(tmp_path / "servables"))
    assert out.returncode == 0, out.stderr
    assert tree_digest(data) == before
    m = json.load(open(metrics_path))
    assert m["epochs"] == 2 and m["eval_split"] == "val" and m["data"]["train"] == 180
    assert m["config"]["batch_size"] == 32 and m["config"]["data_dir"] == data
    assert m["parameters"] == 93_802 and m["samples_per_second"] > 0 and m["train_seconds"] > 0
    # The reported accuracy and loss, recomputed from the exported model on the 20 held-out images.
    import numpy as np
    import tensorflow as tf
    from keras_arch.data.images import load_mnist_dir
    splits = load_mnist_dir(data)
    assert len(splits.y_val) == 20
    served = tf.saved_model.load(m["export_path"]).signatures["serving_default"]
    p = served(image=tf.constant(splits.x_val))["probabilities"].numpy().astype(np.float64)
    assert m["val_accuracy"] == pytest.approx(np.mean(p.argmax(1) == splits.y_val), abs=1e-6)
    assert m["val_loss"] == pytest.approx(-np.mean(np.log(p[np.arange(20), splits.y_val])), rel=1e-4)
    assert "val accuracy" in out.stdout  # the summary table
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".metrics-")]  # atomic write left nothing


@pytest.mark.slow  # an end-to-end run of 15-70 s here (issue 18: the fast suite)
def test_same_seed_same_metrics(tmp_path):
    results = []
    for i in range(2):
        path = str(tmp_path / f"m{i}.json")
        out = run_cli("cnn", "--epochs", "2", "--quiet", "--seed", "7", "--metrics-json", path)
        assert out.returncode == 0, out.stderr
        results.append(json.load(open(path)))
    assert results[0]["history"] == results[1]["history"]
    assert results[0]["test_accuracy"] == results[1]["test_accuracy"]
    assert results[0]["test_loss"] == results[1]["test_loss"]


@pytest.mark.slow
def test_run_cnn_reaches_098_on_embedded_digits(tmp_path):
    """The README's first command: `run cnn` on the embedded digits."""
    path = str(tmp_path / "m.json")
    out = run_cli("cnn", "--quiet", "--metrics-json", path, "--export", str(tmp_path / "servables"))
    assert out.returncode == 0, out.stderr
    m = json.load(open(path))
    assert m["eval_split"] == "test" and m["data"]["test"] == 360
    assert m["test_accuracy"] >= 0.98
    assert os.path.isfile(os.path.join(m["export_path"], "saved_model.pb"))
