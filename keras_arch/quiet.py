"""Silence the known harmless log lines of TensorFlow, LiteRT and their
friends at the source, so CLI users and notebook readers see only what
matters. No TensorFlow import here.

Three kinds of noise:

- Native (C++) lines written straight to file descriptor 2 before any
  logging is configured. ``TF_CPP_MIN_LOG_LEVEL`` cannot hide them: absl
  prints "WARNING: All log messages before absl::InitializeLog() ..." and
  then cudart_stub's "Could not find cuda drivers" (twice, at
  ``import tensorflow``, on every machine without a GPU); LiteRT prints
  "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." when an
  interpreter is built. :func:`native_stderr` captures fd 2 around such a
  call and writes back every line that is not one of :data:`HARMLESS`.
- Python-side INFO/WARNING records of the ``tensorflow`` logger. INFO
  ("Assets written to ...", "Using MirroredStrategy ...") only shows where
  TensorFlow itself raised its logger to INFO, in interactive sessions:
  :func:`after_tensorflow_import` puts it back at WARNING. The retracing
  warning of a function traced once per submodel on purpose:
  :func:`tf_logger_level` raises the level around the call that emits it. Keras's own per-model step functions
  (``predict_function``, ``test_function``, ``train_function``) are traced
  once per model, so a process that trains several models (a notebook, a
  benchmark) trips TensorFlow's "N out of the last M calls ... triggered
  tf.function retracing" warning, which is meant for user functions traced
  in a loop: :func:`install` filters that record for those three only.
- tqdm's "IProgress not found" warning when transformers is imported in a
  Jupyter kernel without ipywidgets (transformers uses tqdm only for
  downloads, which never run here): :func:`install` ignores it.

All of it applies only while the user has not asked for TensorFlow's logs
(``TF_CPP_MIN_LOG_LEVEL`` unset, or 1 and above, which ``import keras_arch``
sets by default); with ``TF_CPP_MIN_LOG_LEVEL=0`` everything shows.
"""
import contextlib
import logging
import os
import re
import sys
import tempfile

HARMLESS = (
    re.compile(rb"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR\s*$"),
    re.compile(rb"^I\d{4} [\d:. ]+\d+ cudart_stub\.cc:\d+\] Could not find cuda drivers on your machine"),
    re.compile(rb"^INFO: Created TensorFlow Lite XNNPACK delegate for CPU\.\s*$"),
)


def wanted():
    """Whether to filter: the user has not asked for TensorFlow's INFO logs."""
    level = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "1")
    try:
        return int(level) >= 1
    except ValueError:
        return True


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a closed or odd stream must not break an import
            pass


@contextlib.contextmanager
def native_stderr(patterns=HARMLESS):
    """Capture what is written to file descriptor 2 inside the block and write
    back every line that matches none of ``patterns`` (compiled bytes regexes).

    Args:
        patterns: the lines to drop; :data:`HARMLESS` by default.
    """
    if not wanted():
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


_LEVEL_UNSET = False  # the tensorflow logger had no level when keras_arch was imported


def after_tensorflow_import():
    """Once TensorFlow is imported (``keras_arch/_autoregister.py``): in an
    interactive session (Jupyter, ``python -i``) TensorFlow sets its logger
    to INFO on stdout the first time it is used, and every fit, save or
    strategy then prints "INFO:tensorflow:Using MirroredStrategy ...",
    "Reduce to ... then broadcast", "Assets written to ...". Put it at
    WARNING, TensorFlow's own level outside interactive sessions, unless
    the user had set a level before importing keras_arch."""
    if not (wanted() and _LEVEL_UNSET):
        return
    import tensorflow as tf
    tf.get_logger().setLevel(logging.WARNING)  # get_logger() first: it sets INFO when first called


def install():
    """At ``import keras_arch`` (no TensorFlow import): the retracing filter
    on the ``tensorflow`` logger and the tqdm warning filter, unless TensorFlow's
    logs were asked for (``TF_CPP_MIN_LOG_LEVEL=0``). Safe to call twice."""
    if not wanted():
        return
    import warnings
    warnings.filterwarnings("ignore", message="IProgress not found")
    global _LEVEL_UNSET
    logger = logging.getLogger("tensorflow")
    _LEVEL_UNSET = logger.level == logging.NOTSET
    if not any(isinstance(f, KerasStepRetracing) for f in logger.filters):
        logger.addFilter(KerasStepRetracing())


@contextlib.contextmanager
def tf_logger_level(level=logging.ERROR):
    """Raise the ``tensorflow`` Python logger to ``level`` inside the block.

    Args:
        level: the lowest level still shown (ERROR by default).
    """
    if not wanted():
        yield
        return
    logger = logging.getLogger("tensorflow")
    before = logger.level
    logger.setLevel(max(level, before))
    try:
        yield
    finally:
        logger.setLevel(before)
