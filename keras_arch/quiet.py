"""Quiet TensorFlow's known harmless log lines, for programs that ask:
``python -m keras_arch.run``, ``python -m keras_arch.export``, the benchmarks
and the notebooks call :func:`enable`. Importing keras_arch never does: a
library caller's logging stays theirs.

What :func:`enable` does, unless TensorFlow's logs were asked for
(``TF_CPP_MIN_LOG_LEVEL=0``):

- sets ``TF_CPP_MIN_LOG_LEVEL`` (if unset) to 2, or to 3 where there is no
  NVIDIA driver (TensorFlow's "failed call to cuInit" ERROR is expected there);
- imports TensorFlow with file descriptor 2 filtered: its native libraries
  print, before any logging is configured and whatever
  ``TF_CPP_MIN_LOG_LEVEL`` says, absl's "WARNING: All log messages before
  absl::InitializeLog() ...", cudart_stub's "Could not find cuda drivers",
  ``cpu_feature_guard``'s instruction list and, where oneDNN is on (CPUs with
  AVX512_VNNI/BF16 or AMX, or ``TF_ENABLE_ONEDNN_OPTS=1``), "oneDNN custom
  operations are on" (each twice: two of TensorFlow's libraries print them);
- puts the ``tensorflow`` logger at WARNING (TensorFlow sets INFO on stdout
  in interactive sessions: "Using MirroredStrategy ...", "Assets written
  to ...") unless the caller set a level;
- drops TensorFlow's retracing warning about Keras's own per-model step
  functions (a process that trains several models trips it);
- ignores tqdm's "IProgress not found" warning (transformers' import in a
  Jupyter kernel without ipywidgets);
- filters LiteRT's "Created TensorFlow Lite XNNPACK delegate" line around
  interpreter creation (:func:`native_stderr`, used by keras_arch's TFLite
  runner, filters only once :func:`enable` was called).
"""
import contextlib
import logging
import os
import re
import sys
import tempfile
import warnings

HARMLESS = (
    re.compile(rb"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR\s*$"),
    re.compile(rb"^I\d{4} [\d:. ]+\d+ cudart_stub\.cc:\d+\] Could not find cuda drivers on your machine"),
    re.compile(rb"^I\d{4} [\d:. ]+\d+ port\.cc:\d+\] oneDNN custom operations are on"),
    re.compile(rb"^I\d{4} [\d:. ]+\d+ cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized"),
    re.compile(rb"^To enable the following instructions: .* in other operations, rebuild TensorFlow"),
    re.compile(rb"^INFO: Created TensorFlow Lite XNNPACK delegate for CPU\.\s*$"),
)

_enabled = False


def enabled():
    """Whether :func:`enable` was called and TensorFlow's logs were not asked for."""
    return _enabled and wanted()


def wanted():
    """Whether to filter: the user has not asked for TensorFlow's INFO logs."""
    level = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "1")
    try:
        return int(level) >= 1
    except ValueError:
        return True


def enable():
    """Quiet TensorFlow's known noise in this process (see the module
    docstring); imports TensorFlow. Safe to call twice."""
    global _enabled
    if not wanted():
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2" if os.path.exists("/proc/driver/nvidia") else "3")
    _enabled = True
    warnings.filterwarnings("ignore", message="IProgress not found")
    logger = logging.getLogger("tensorflow")
    level_unset = logger.level == logging.NOTSET
    if not any(isinstance(f, KerasStepRetracing) for f in logger.filters):
        logger.addFilter(KerasStepRetracing())
    if "tensorflow" not in sys.modules:
        with native_stderr():
            import tensorflow  # noqa: F401
    if level_unset:
        import tensorflow as tf
        tf.get_logger().setLevel(logging.WARNING)  # get_logger() first: it sets INFO when first called


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a closed or odd stream must not break the caller
            pass


@contextlib.contextmanager
def native_stderr(patterns=HARMLESS, force=False):
    """Capture what is written to file descriptor 2 inside the block and write
    back every line that matches none of ``patterns``. Does nothing unless
    :func:`enable` was called (or ``force``).

    Args:
        patterns: the lines to drop (compiled bytes regexes); :data:`HARMLESS` by default.
        force: filter even if :func:`enable` was not called (tests).
    """
    if not (wanted() and (_enabled or force)):
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 (some embedded interpreters): nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as captured:
        _flush()
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            _flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().splitlines(keepends=True)
                    if not any(p.search(line) for p in patterns)]
            if kept:
                os.write(2, b"".join(kept))


class KerasStepRetracing(logging.Filter):
    """Drops TensorFlow's retracing warning about Keras's per-model step functions."""

    def filter(self, record):
        message = record.getMessage()
        return not ("triggered tf.function retracing" in message and
                    re.search(r"<function Model\.make_(predict|test|train)_function\.<locals>", message))


@contextlib.contextmanager
def tf_logger_level(level=logging.ERROR):
    """Raise the ``tensorflow`` Python logger to ``level`` inside the block,
    once :func:`enable` was called.

    Args:
        level: the lowest level still shown (ERROR by default).
    """
    if not enabled():
        yield
        return
    logger = logging.getLogger("tensorflow")
    before = logger.level
    logger.setLevel(max(level, before))
    try:
        yield
    finally:
        logger.setLevel(before)
