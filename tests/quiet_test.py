"""Known harmless native and Python log lines are dropped at the source;
everything else written meanwhile still reaches stderr."""
import logging
import os
import subprocess
import sys

import pytest

from keras_arch import quiet
from tests.conftest import ROOT

ABSL = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
CUDART = (b"I0000 00:00:1795554191.465966   27124 cudart_stub.cc:31] Could not find cuda drivers on your "
          b"machine, GPU will not be used.\n")
XNNPACK = b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n"


def test_native_stderr_drops_only_the_known_lines(capfd, monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    with quiet.native_stderr():
        os.write(2, ABSL + CUDART + b"E0000 a real error\n" + XNNPACK + b"last line without newline")
    err = capfd.readouterr().err
    assert err == "E0000 a real error\nlast line without newline"


def test_native_stderr_keeps_everything_when_logs_are_asked_for(capfd, monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    with quiet.native_stderr():
        os.write(2, ABSL + CUDART)
    assert capfd.readouterr().err.encode() == ABSL + CUDART


def test_native_stderr_restores_fd2_when_the_block_raises(capfd, monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    with pytest.raises(RuntimeError):
        with quiet.native_stderr():
            os.write(2, b"before the error\n")
            raise RuntimeError("boom")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "before the error\nafter\n"


def test_tf_logger_level_hides_info_then_restores(caplog, monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    logger = logging.getLogger("tensorflow")
    before = logger.level
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        with quiet.tf_logger_level():
            logger.info("Assets written to: /tmp/x")
            logger.error("a real error")
        logger.info("shown again")
    assert [r.getMessage() for r in caplog.records] == ["a real error", "shown again"]
    assert logger.level == before


@pytest.mark.skipif(os.path.exists("/proc/driver/nvidia"), reason="with a GPU driver TensorFlow prints no cudart line")
def test_import_tensorflow_after_keras_arch_prints_no_log_noise():
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    code = "import keras_arch, tensorflow, sys; sys.stderr.write('real line\\n')"
    err = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True).stderr
    assert err == "real line\n"
    env["TF_CPP_MIN_LOG_LEVEL"] = "0"  # asked for: the lines come back (so the test above saw a real filter)
    err = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True).stderr
    assert "cudart_stub" in err and err.endswith("real line\n")
