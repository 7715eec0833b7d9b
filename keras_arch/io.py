"""Atomic writes: a reader never sees half a file, and a failed write leaves
what was there untouched."""
import os
import tempfile


def write_atomic(path, data):
    """Write ``data`` (str or bytes) to ``path`` through a temporary file in the
    same directory, then rename it into place."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
