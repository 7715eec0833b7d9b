"""Quieting TensorFlow's known harmless log lines is asked for
(:func:`keras_arch.quiet.enable`: the command lines and the notebooks call
it); it drops only those lines, and ``import keras_arch`` alone quiets
nothing."""
import logging
import os
import subprocess
import sys
import warnings

import pytest

from keras_arch import quiet
from tests.conftest import ROOT

ABSL = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
CUDART = (b"I0000 00:00:1795554191.465966   27124 cudart_stub.cc:31] Could not find cuda drivers on your "
          b"machine, GPU will not be used.\n")
ONEDNN = (b"I0000 00:00:1796289738.310976    2348 port.cc:153] oneDNN custom operations are on. You may see "
          b"slightly different numerical results due to floating-point round-off errors from different "
          b"computation orders. To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.\n")
XNNPACK = b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n"


def _env(**changes):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env.update(changes)
    return env


def test_native_stderr_drops_only_the_known_lines(capfd, monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    with quiet.native_stderr(force=True):
        os.write(2, ABSL + CUDART + ONEDNN + b"E0000 a real error\n" + XNNPACK + b"last line without newline")
    assert capfd.readouterr().err == "E0000 a real error\nlast line without newline"


def test_native_stderr_filters_nothing_unless_quieting_was_asked_for(capfd, monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    monkeypatch.setattr(quiet, "_enabled", False)
    with quiet.native_stderr():
        os.write(2, ABSL + XNNPACK)
    assert capfd.readouterr().err.encode() == ABSL + XNNPACK


def test_native_stderr_keeps_everything_when_logs_are_asked_for(capfd, monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    with quiet.native_stderr(force=True):
        os.write(2, ABSL + CUDART)
    assert capfd.readouterr().err.encode() == ABSL + CUDART


def test_native_stderr_restores_fd2_when_the_block_raises(capfd, monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    with pytest.raises(RuntimeError):
        with quiet.native_stderr(force=True):
            os.write(2, b"before the error\n")
            raise RuntimeError("boom")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "before the error\nafter\n"


def test_keras_step_function_retracing_is_filtered_user_functions_are_not(caplog):
    logger = logging.getLogger("tensorflow.retracing_test")
    logger.addFilter(quiet.KerasStepRetracing())
    keras_own = ("5 out of the last 5 calls to <function Model.make_predict_function.<locals>.predict_function at "
                 "0x7f36d978b380> triggered tf.function retracing. Tracing is expensive")
    users = "6 out of the last 6 calls to <function step at 0x7f36d978b380> triggered tf.function retracing."
    with caplog.at_level(logging.WARNING, logger="tensorflow.retracing_test"):
        logger.warning(keras_own)
        logger.warning(users)
    assert [r.getMessage() for r in caplog.records] == [users]


def test_enable_ignores_tqdm_iprogress_and_keeps_other_warnings(monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")  # restored afterwards, like the flag below
    monkeypatch.setattr(quiet, "_enabled", False)
    with warnings.catch_warnings(record=True) as caught:  # restores the filters afterwards
        warnings.simplefilter("always")
        quiet.enable()
        warnings.warn("IProgress not found. Please update jupyter and ipywidgets.")
        warnings.warn("another warning")
    assert [str(w.message) for w in caught] == ["another warning"]


@pytest.mark.skipif(os.path.exists("/proc/driver/nvidia"), reason="with a GPU driver TensorFlow prints no cudart line")
def test_enable_then_tensorflow_prints_no_start_up_noise_and_without_it_the_noise_is_the_callers():
    """TF_ENABLE_ONEDNN_OPTS=1 turns oneDNN on whatever the CPU (it is on by
    default only on CPUs with AVX512_VNNI/BF16 or AMX), so its line is there
    to drop on every machine."""
    code = ("import sys, keras_arch{enable}\nimport tensorflow as tf\ntf.constant(1.0) + 1\n"
            "sys.stderr.write('real line\\n')\n")
    env = _env(TF_ENABLE_ONEDNN_OPTS="1")
    run = lambda enable, env: subprocess.run(  # noqa: E731
        [sys.executable, "-c", code.format(enable=enable)], cwd=ROOT, env=env, capture_output=True, text=True).stderr
    assert run(", keras_arch.quiet; keras_arch.quiet.enable()", env) == "real line\n"
    plain = run("", env)  # a library caller's logging stays theirs
    assert "cudart_stub" in plain and "oneDNN custom operations are on" in plain and plain.endswith("real line\n")
    asked = run(", keras_arch.quiet; keras_arch.quiet.enable()", {**env, "TF_CPP_MIN_LOG_LEVEL": "0"})
    assert "oneDNN custom operations are on" in asked and asked.endswith("real line\n")  # logs asked for: kept


def test_the_command_line_quiets_tensorflow_without_the_callers_help():
    """``python -m keras_arch.export --example-request`` imports TensorFlow
    (enable() does): nothing but its JSON comes out, oneDNN on or off."""
    for onednn in ("0", "1"):
        out = subprocess.run([sys.executable, "-m", "keras_arch.export", "--example-request", "cnn"], cwd=ROOT,
                             env=_env(TF_ENABLE_ONEDNN_OPTS=onednn), capture_output=True, text=True, timeout=300)
        assert out.returncode == 0 and out.stderr == "", (onednn, out.stderr)
        assert out.stdout.startswith('{"instances": [')


@pytest.mark.slow  # two fresh processes (about 8 s); CI runs it
def test_interactive_sessions_get_tensorflow_logs_at_warning_unless_logs_are_asked_for():
    """TensorFlow puts its logger at INFO on stdout in interactive sessions
    (Jupyter, python -i); enable() puts it back at WARNING."""
    code = ("import logging, sys; sys.ps1 = '>>> '; import keras_arch.quiet; keras_arch.quiet.enable(); "
            "import tensorflow as tf; tf.distribute.MirroredStrategy(); print(logging.getLevelName(tf.get_logger().level))")
    run = lambda env: subprocess.run([sys.executable, "-c", code], cwd=ROOT,  # noqa: E731
                                     env=env, capture_output=True, text=True).stdout.strip()
    assert run(_env()) == "WARNING"  # no "INFO:tensorflow:Using MirroredStrategy ..." above it
    # Logs asked for: TensorFlow's interactive INFO stays, and shows.
    assert run(_env(TF_CPP_MIN_LOG_LEVEL="0")).endswith("Using MirroredStrategy with devices "
                                                        "('/job:localhost/replica:0/task:0/device:CPU:0',)\nINFO")


@pytest.mark.slow  # a fresh process (about 5 s); CI runs it
def test_enable_hides_tensorflows_cuinit_error_where_no_nvidia_driver_is_installed():
    """Without a driver the "failed call to cuInit" ERROR is expected noise;
    a caller's own TF_CPP_MIN_LOG_LEVEL stays."""
    code = ("import os, keras_arch.quiet as q; q.enable(); import tensorflow as tf; tf.constant(1.0) + 1; "
            "print(os.environ['TF_CPP_MIN_LOG_LEVEL'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=_env(),
                         timeout=300)
    assert out.returncode == 0, out.stderr
    driver = os.path.exists("/proc/driver/nvidia")
    assert out.stdout.split() == ["2" if driver else "3"]
    if not driver:
        assert "cuInit" not in out.stderr and "E0000" not in out.stderr, out.stderr
    kept = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env=_env(TF_CPP_MIN_LOG_LEVEL="1"), timeout=300)
    assert kept.stdout.split() == ["1"], kept.stderr
