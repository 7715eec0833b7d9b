"""--dataset NAME without a network: one line pointing to --data-dir within
10 s, and nothing left in tfds's data directory (issue 16)."""
import os
import subprocess
import sys
import time

import pytest

from keras_arch.data import tfds as tfds_offline
from keras_arch.errors import UsageError
from tests.conftest import ROOT
from tests.helpers import tree_digest

NO_NETWORK = ("import socket, sys\n"
              "def refuse(*args, **kwargs):\n"
              "    raise OSError(101, 'Network is unreachable')\n"
              "socket.create_connection = refuse\n"
              "from keras_arch.run import main\n"
              "sys.exit(main(sys.argv[1:]))\n")


@pytest.mark.parametrize("arch, dataset", [("cnn", "mnist"), ("attention", "imdb")])
def test_dataset_without_network_fails_fast_in_one_line_and_leaves_nothing(tmp_path, arch, dataset):
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home)}
    env.pop("TFDS_DATA_DIR", None)  # tfds's default: ~/tensorflow_datasets, here under the fake HOME
    start = time.monotonic()
    out = subprocess.run([sys.executable, "-c", NO_NETWORK, arch, "--dataset", dataset, "--epochs", "1"],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    seconds = time.monotonic() - start
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "--data-dir" in lines[0] and f"--dataset {dataset}" in lines[0], out.stderr
    assert seconds < 20, seconds  # refused at once; 20 s leaves room for a loaded CI machine
    # no ~/tensorflow_datasets, no incomplete.* (~/.keras is tf_keras's own config, written when it is imported)
    assert [p for p in os.listdir(home) if p != ".keras"] == []


def test_this_machine_really_offline_is_refused_by_the_probe_in_seconds(tmp_path):
    host, port = tfds_offline.HOSTS["mnist"]
    if tfds_offline.reachable(host, port):
        pytest.skip(f"{host} is reachable from here: the offline path cannot be shown for real")
    start = time.monotonic()
    with pytest.raises(UsageError, match=r"--dataset mnist: .* cannot be reached .*use --data-dir"):
        tfds_offline.load("mnist", "--dataset mnist", ["train"], str(tmp_path / "tfds"))
    assert time.monotonic() - start < tfds_offline.PROBE_SECONDS + 1
    assert os.listdir(tmp_path) == []


def test_a_failed_download_removes_only_what_it_created(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds
    root = tmp_path / "tfds"
    (root / "mnist" / "2.0.0").mkdir(parents=True)  # someone else's, before
    (root / "mnist" / "2.0.0" / "keep.txt").write_text("keep")
    (root / "downloads").mkdir()
    (root / "downloads" / "other.zip").write_text("keep")
    before = tree_digest(str(root))

    def failing_load(name, split, data_dir, **kwargs):  # what tfds leaves when a download dies
        (root / "mnist" / "incomplete.XYZ" / "mnist-train.tfrecord").parent.mkdir(parents=True)
        (root / "mnist" / "incomplete.XYZ" / "mnist-train.tfrecord").write_text("half")
        (root / "downloads" / "storage.googleapis.com_cvdf-mnist.tmp.123").write_text("half")
        (root / "downloads" / "extracted").mkdir()
        raise ConnectionError("Connection reset by peer")

    monkeypatch.setattr(tfds_offline, "reachable", lambda *a, **k: True)
    monkeypatch.setattr(tfds, "load", failing_load)
    with pytest.raises(UsageError, match=r"--dataset mnist: tensorflow-datasets could not load mnist "
                                         r"\(ConnectionError: Connection reset by peer\); use --data-dir"):
        tfds_offline.load("mnist", "--dataset mnist", ["train"], str(root))
    assert tree_digest(str(root)) == before
    assert sorted(os.listdir(root / "mnist")) == ["2.0.0"] and os.listdir(root / "downloads") == ["other.zip"]


def test_a_prepared_copy_loads_without_asking_the_network(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds
    (tmp_path / "mnist" / "3.0.1").mkdir(parents=True)
    (tmp_path / "mnist" / "3.0.1" / "dataset_info.json").write_text("{}")
    monkeypatch.setattr(tfds_offline, "reachable", lambda *a, **k: pytest.fail("probed the network"))
    monkeypatch.setattr(tfds, "load", lambda name, split, data_dir, **kw: ("loaded", name, split, data_dir))
    assert tfds_offline.load("mnist", "--dataset mnist", ["train"], str(tmp_path)) == (
        "loaded", "mnist", ["train"], str(tmp_path))
