"""Where the real data sets live: ``../shared/data`` beside the repository
(read in place, never copied in), or ``$KERAS_ARCH_SHARED_DATA``. The one
place that knows it: tests, benchmarks and notebooks ask here. Anything that
needs a data set must cope with its absence (a user's clone has no
``../shared``): tests skip with the reason, benchmarks report it.
"""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.environ.get("KERAS_ARCH_SHARED_DATA", os.path.normpath(os.path.join(ROOT, "..", "shared", "data")))


def data_path(*parts):
    """The path of a shared data set (``data_path("text", "rt-polarity")``), present or not."""
    return os.path.join(SHARED_DATA, *parts)
