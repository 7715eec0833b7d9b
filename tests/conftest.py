import os
import subprocess
import sys

import pytest

import keras_arch  # noqa: F401  (Keras 2 before TensorFlow loads)
from keras_arch.shared import ROOT, SHARED_DATA, data_path

MNIST_DIR = data_path("mnist")


def needs_shared(sub):
    path = os.path.join(SHARED_DATA, sub)
    return pytest.mark.skipif(not os.path.isdir(path),
                              reason=f"real data set not found at {path} (../shared/data is not in a user's clone)")


def run_cli(*args, timeout=300, env=None):
    """Run the CLI in a fresh process; returns CompletedProcess with text output."""
    return subprocess.run([sys.executable, "-m", "keras_arch.run", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT, env=env)


# The archs whose per-arch serving checks stay in the fast suite: one per
# serving path (an image, integer ids, text in through TextVectorization,
# several named outputs). Every arch still runs them in CI (marked slow).
SERVING_FAST = ("cnn", "kg-distmult", "transformer", "early-exit")


def arch_params(archs, fast=SERVING_FAST):
    """``archs`` as pytest params, those outside ``fast`` marked slow."""
    return [a if a in fast else pytest.param(a, marks=pytest.mark.slow) for a in archs]


REACHED = "train_lib.run was called"


@pytest.fixture
def main(monkeypatch, capsys):
    """run.main(argv) -> (exit code, stripped stderr); training replaced by a
    sentinel that ends the run with exit 2 and REACHED."""
    from keras_arch import run
    from keras_arch.errors import UsageError
    from keras_arch.training import train_lib

    def fake_run(*args, **kwargs):
        raise UsageError(REACHED)
    monkeypatch.setattr(train_lib, "run", fake_run)
    monkeypatch.setattr(run.quiet, "enable", lambda: None)

    def call(*argv):
        capsys.readouterr()
        code = run.main([str(a) for a in argv])
        return code, capsys.readouterr().err.strip()
    return call
