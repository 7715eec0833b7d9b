"""tensorflow-datasets (``--dataset mnist``, ``--dataset imdb``) that fails
fast without a network and leaves nothing behind.

Without a network, tfds retries each download for minutes and leaves
``<data_dir>/<name>/incomplete.*`` (and partial files under ``downloads/``).
Here, when the data set is not prepared in tfds's data directory yet, one
short TCP connection to the host tfds downloads from decides, before
tensorflow-datasets (and TensorFlow) is even imported: unreachable within
:data:`PROBE_SECONDS` is one line pointing to ``--data-dir``. If a download
does start and fails, everything it created under the data directory is
removed; what was there before is never touched.
"""
import glob
import os
import shutil
import socket
import threading

from keras_arch.errors import UsageError

PROBE_SECONDS = 3.0
# Where tfds 4.9 downloads each data set from (its builders' URLs).
HOSTS = {"mnist": ("storage.googleapis.com", 443), "imdb_reviews": ("ai.stanford.edu", 80)}


def data_root(data_dir=None):
    """tfds's data directory: ``data_dir``, else $TFDS_DATA_DIR, else ~/tensorflow_datasets."""
    return data_dir or os.environ.get("TFDS_DATA_DIR") or os.path.join(os.path.expanduser("~"), "tensorflow_datasets")


def prepared(name, data_dir=None):
    """Whether some version of ``name`` is already prepared under the data directory."""
    return bool(glob.glob(os.path.join(data_root(data_dir), name, "*", "dataset_info.json")))


def reachable(host, port, seconds=PROBE_SECONDS):
    """Whether a TCP connection to host:port opens within ``seconds``
    (name resolution included: it runs in a daemon thread, so a resolver that
    hangs cannot hold the caller)."""
    result = []

    def attempt():
        try:
            with socket.create_connection((host, port), timeout=seconds):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(seconds)
    return bool(result and result[0])


def _snapshot(root, name):
    """Entries under the places tfds writes to for ``name``."""
    out = set()
    for sub in (name, "downloads", os.path.join("downloads", "extracted"), os.path.join("downloads", "manual")):
        path = os.path.join(root, sub)
        if os.path.isdir(path):
            out |= {os.path.join(path, n) for n in os.listdir(path)}
    return out


def _remove_new(root, name, before, root_existed):
    """Remove what tfds created for ``name`` since ``before``."""
    for path in sorted(_snapshot(root, name) - before, key=len, reverse=True):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except OSError:
                pass
    # Directories tfds made on the way, if they are empty now.
    for sub in (os.path.join("downloads", "extracted"), os.path.join("downloads", "manual"), "downloads", name):
        path = os.path.join(root, sub)
        if path not in before and os.path.isdir(path) and not os.listdir(path):
            os.rmdir(path)
    if not root_existed and os.path.isdir(root) and not os.listdir(root):
        os.rmdir(root)


def load(name, flag, splits, data_dir=None, **kwargs):
    """``tfds.load(name, split=splits, **kwargs)``, offline-safe.

    Args:
        name: the tfds name ("mnist", "imdb_reviews").
        flag: how the user asked for it ("--dataset mnist"), for messages.
        splits: tfds split names, e.g. ["train", "test"].
        data_dir: tfds data directory (default: $TFDS_DATA_DIR or
            ~/tensorflow_datasets).
        **kwargs: passed to ``tfds.load`` (as_supervised=True...).

    Returns:
        What ``tfds.load`` returns: one tf.data.Dataset per split.

    Raises:
        UsageError: no network and no prepared copy (within a few seconds),
            or the download or preparation failed.
    """
    root = data_root(data_dir)
    host, port = HOSTS.get(name, ("storage.googleapis.com", 443))
    if not prepared(name, data_dir) and not reachable(host, port):
        raise UsageError(f"{flag}: tensorflow-datasets must download {name} from {host}, which cannot be reached "
                         f"(no network?); use --data-dir DIR with a local copy instead")
    before, root_existed = _snapshot(root, name), os.path.isdir(root)
    try:
        import tensorflow_datasets as tfds
        return tfds.load(name, split=splits, data_dir=root, **kwargs)
    except BaseException as e:
        _remove_new(root, name, before, root_existed)
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        first = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
        raise UsageError(f"{flag}: tensorflow-datasets could not load {name} ({type(e).__name__}: {first}); "
                         "use --data-dir DIR with a local copy instead") from None
