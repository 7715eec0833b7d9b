"""Atomic writes: a reader never sees half a file, and a failed write leaves
what was there untouched.

Files and directories are staged with ``tempfile``, which creates them 0600
and 0700 whatever the umask. Everything staged here is given the mode a plain
``open()`` or ``os.mkdir()`` would have made (0644 and 0755 under umask 022)
before it is renamed into place, so that a TF Serving process running as
another user can read exports, configs, .tflite files, metrics and plots.
"""
import os
import tempfile
import threading

_UMASK_LOCK = threading.Lock()


def current_umask():
    """The process umask, read without changing it.

    Linux reports it in /proc/self/status ("Umask:"); elsewhere it is read by
    setting and restoring it under a lock (other threads that create files in
    that instant are the only ones that could see a different umask).

    Returns:
        The umask as an int (e.g. 0o022).
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def file_mode():
    """The mode ``open(path, "w")`` gives a new file: 0o666 minus the umask."""
    return 0o666 & ~current_umask()


def dir_mode():
    """The mode ``os.mkdir(path)`` gives a new directory: 0o777 minus the umask."""
    return 0o777 & ~current_umask()


def write_atomic(path, data):
    """Write ``data`` to ``path`` through a temporary file in the same
    directory, then rename it into place, with the mode the umask gives a new file.
    A symbolic link is written through: the file it points to is replaced,
    the link stays.

    Args:
        path: destination file; its directory must exist.
        data: str (written as UTF-8) or bytes.

    Returns:
        ``path``.
    """
    path = os.path.realpath(path)  # through a link to its target
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        os.fchmod(fd, file_mode())  # mkstemp made it 0600
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def staging_dir(directory, prefix):
    """A new hidden directory in ``directory`` to build something in before
    renaming it into place, with the mode the umask gives a new directory.

    Args:
        directory: where to create it (the final location's parent, so that
            the rename is atomic).
        prefix: name prefix; start it with "." to keep it hidden from
            pollers such as TF Serving, which loads only all-digit names.

    Returns:
        The path of the new directory.
    """
    tmp = tempfile.mkdtemp(prefix=prefix, dir=directory)
    os.chmod(tmp, dir_mode())  # mkdtemp made it 0700
    return tmp
