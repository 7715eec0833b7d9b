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


@pytest.mark.slow  # a fresh process or a whole export: runs in CI, not in the fast suite
@pytest.mark.skipif(os.path.exists("/proc/driver/nvidia"), reason="with a GPU driver TensorFlow prints no cudart line")
def test_import_tensorflow_after_keras_arch_prints_no_log_noise():
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    code = "import keras_arch, tensorflow, sys; sys.stderr.write('real line\\n')"
    err = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True).stderr
    assert err == "real line\n"
    env["TF_CPP_MIN_LOG_LEVEL"] = "0"  # asked for: the lines come back (so the test above saw a real filter)
    err = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True).stderr
    assert "cudart_stub" in err and err.endswith("real line\n")


def test_keras_step_function_retracing_is_filtered_user_functions_are_not(caplog, monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    quiet.install()
    logger = logging.getLogger("tensorflow")
    keras_own = ("5 out of the last 5 calls to <function Model.make_predict_function.<locals>.predict_function at "
                 "0x7f36d978b380> triggered tf.function retracing. Tracing is expensive")
    users = "6 out of the last 6 calls to <function step at 0x7f36d978b380> triggered tf.function retracing."
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        logger.warning(keras_own)
        logger.warning(users)
    assert [r.getMessage() for r in caplog.records] == [users]


def test_tqdm_iprogress_warning_is_ignored_after_import_keras_arch():
    code = ("import warnings, keras_arch\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.warn('IProgress not found. Please update jupyter and ipywidgets.')\n"
            "    warnings.warn('another warning')\n"
            "print([str(x.message) for x in w])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True).stdout
    assert out.strip() == "['another warning']"


@pytest.mark.slow  # two fresh processes (about 8 s); CI runs it
def test_interactive_sessions_get_tensorflow_logs_at_warning_unless_logs_are_asked_for():
    """TensorFlow puts its logger at INFO on stdout in interactive sessions
    (Jupyter, python -i); keras_arch puts it back at WARNING."""
    code = ("import logging, sys; sys.ps1 = '>>> '; {pre}import keras_arch, tensorflow as tf; "
            "tf.distribute.MirroredStrategy(); print(logging.getLevelName(tf.get_logger().level))")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    run = lambda pre, env: subprocess.run([sys.executable, "-c", code.format(pre=pre)], cwd=ROOT,  # noqa: E731
                                          env=env, capture_output=True, text=True).stdout.strip()
    assert run("", env) == "WARNING"  # no "INFO:tensorflow:Using MirroredStrategy ..." above it
    # Logs asked for: TensorFlow's interactive INFO stays, and shows.
    assert run("", {**env, "TF_CPP_MIN_LOG_LEVEL": "0"}).endswith("Using MirroredStrategy with devices "
                                                                   "('/job:localhost/replica:0/task:0/device:CPU:0',)\nINFO")
