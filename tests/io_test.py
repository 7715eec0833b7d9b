import os
import stat
import subprocess
import sys

import pytest

from keras_arch import io
from tests.conftest import ROOT


@pytest.fixture(params=[0o022, 0o027, 0o077])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_current_umask_reads_without_changing_it(umask):
    assert io.current_umask() == umask
    assert io.current_umask() == umask


def test_write_atomic_gives_the_mode_open_would(umask, tmp_path):
    # What a plain open() makes under this umask is the independent expectation.
    with open(tmp_path / "plain", "w") as f:
        f.write("x")
    io.write_atomic(str(tmp_path / "atomic"), "x")
    assert _mode(tmp_path / "atomic") == _mode(tmp_path / "plain")
    assert _mode(tmp_path / "atomic") == {0o022: 0o644, 0o027: 0o640, 0o077: 0o600}[umask]
    assert sorted(os.listdir(tmp_path)) == ["atomic", "plain"]  # no temporary left


def test_staging_dir_gives_the_mode_mkdir_would(umask, tmp_path):
    os.mkdir(tmp_path / "plain")
    staged = io.staging_dir(str(tmp_path), ".tmp-")
    assert _mode(staged) == _mode(tmp_path / "plain")
    assert _mode(staged) == {0o022: 0o755, 0o027: 0o750, 0o077: 0o700}[umask]


def test_replacing_a_file_keeps_it_readable(tmp_path):
    old = os.umask(0o022)
    try:
        path = str(tmp_path / "f.json")
        io.write_atomic(path, "1")
        io.write_atomic(path, b"2")
        assert open(path).read() == "2" and _mode(path) == 0o644
    finally:
        os.umask(old)


def _modes_under(root):
    """{relative path: mode} of every directory and file under root."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            out[os.path.relpath(path, root)] = _mode(path)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_every_kind_of_write_honours_the_umask(tmp_path, mask):
    """Train, checkpoint, plot, export, write .tflite and metrics, then
    models.config, in processes started under ``mask``: every directory must
    be 0777 & ~mask and every file 0666 & ~mask (what mkdir and open make)."""
    out = tmp_path / "out"
    out.mkdir()
    paths = {k: str(out / k) for k in ("servables", "ckpt", "plots", "tflite", "metrics")}
    for made_here in (paths["tflite"], paths["metrics"]):  # --tflite and --metrics-json need their directory
        os.mkdir(made_here)
        os.chmod(made_here, 0o777 & ~mask)
    run = [sys.executable, "-m", "keras_arch.run", "cnn-doc001", "--epochs", "1", "--quiet",
           "--export", paths["servables"], "--checkpoint-dir", paths["ckpt"], "--plot", paths["plots"],
           "--tflite", os.path.join(paths["tflite"], "m.tflite"),
           "--metrics-json", os.path.join(paths["metrics"], "m.json")]
    config = [sys.executable, "-m", "keras_arch.export", "--model-config", paths["servables"]]
    for cmd in (run, config):
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600,
                              preexec_fn=lambda: os.umask(mask))
        assert done.returncode == 0, done.stderr
    modes = _modes_under(str(out))
    expected = {"servables/cnn-doc001/1", "servables/cnn-doc001/1/saved_model.pb",
                "servables/cnn-doc001/1/variables", "servables/cnn-doc001/1/assets.extra",
                "servables/cnn-doc001/1/assets.extra/tf_serving_warmup_requests",
                "servables/models.config",
                "ckpt/best.weights.h5", "ckpt/run.json", "ckpt/history.csv",
                "plots/training.png", "tflite/m.tflite", "tflite/m-float.tflite", "metrics/m.json"}
    assert expected <= set(modes), sorted(expected - set(modes))
    wrong = {p: oct(m) for p, m in modes.items()
             if m != (0o777 if os.path.isdir(out / p) else 0o666) & ~mask}
    assert not wrong
