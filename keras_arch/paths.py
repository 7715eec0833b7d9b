"""Output paths checked before a run reads data or imports TensorFlow: a run
that could not write its results is refused at once, not after training.

Each check raises :class:`~keras_arch.errors.UsageError` with one line
``--flag PATH: reason`` and creates nothing.
"""
import os

from keras_arch.errors import UsageError


def tflite_float_path(path):
    """Where ``--tflite PATH`` writes the float model: beside the int8 one."""
    stem = path[:-len(".tflite")] if path.endswith(".tflite") else path
    return stem + "-float.tflite"


def _writable_dir(path):
    return os.access(path, os.W_OK | os.X_OK)


def _parent(flag, path):
    """The directory ``path`` would be created in: it must exist and be writable."""
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(parent):
        raise UsageError(f"{flag} {path}: directory {parent} does not exist")
    if not os.path.isdir(parent):
        raise UsageError(f"{flag} {path}: {parent} is a file, not a directory")
    if not _writable_dir(parent):
        raise UsageError(f"{flag} {path}: directory {parent} is not writable")
    return parent


def directory(flag, path):
    """A directory the run writes into: an existing writable directory, or a
    new one whose parent exists and is writable."""
    if os.path.isdir(path):
        if not _writable_dir(path):
            raise UsageError(f"{flag} {path}: directory is not writable")
        return
    if os.path.exists(path) or os.path.islink(path):
        raise UsageError(f"{flag} {path}: is a file, not a directory")
    _parent(flag, path)


def file(flag, path):
    """A file the run writes (atomically, through a temporary file beside it;
    through a symbolic link, to the file it points to): an existing regular
    file that is writable, or a new one whose directory exists and is writable.
    A device or a pipe (``/dev/stdout``) is refused: the atomic rename would
    replace it."""
    if os.path.isdir(path):
        raise UsageError(f"{flag} {path}: is a directory, not a file")
    target = os.path.realpath(path)
    special = any(p.startswith(("/dev/", "/proc/")) for p in (os.path.abspath(path), target))
    if special or (os.path.exists(target) and not os.path.isfile(target)):
        raise UsageError(f"{flag} {path}: not a regular file (a device, a pipe or a stream); give a file path")
    _parent(flag, target)
    if os.path.exists(target) and not os.access(target, os.W_OK):
        raise UsageError(f"{flag} {path}: file is not writable")


def export_base(flag, path, arch):
    """``--export DIR`` writes DIR/<arch>/<version>/."""
    directory(flag, path)
    inner = os.path.join(path, arch)
    if os.path.islink(inner) and not os.path.exists(inner):
        raise UsageError(f"{flag} {path}: {inner} is a link to nothing ({os.readlink(inner)})")
    if os.path.exists(inner) and not os.path.isdir(inner):
        raise UsageError(f"{flag} {path}: {inner} is a file, not a directory")
    if os.path.isdir(inner) and not _writable_dir(inner):
        raise UsageError(f"{flag} {path}: directory {inner} is not writable")


def tflite(flag, path):
    """``--tflite PATH``: the int8 model at PATH and the float one beside it."""
    file(flag, path)
    sibling = tflite_float_path(path)
    if os.path.isdir(sibling):
        raise UsageError(f"{flag} {path}: the float model's path {sibling} is a directory")
    if os.path.exists(sibling) and not os.access(sibling, os.W_OK):
        raise UsageError(f"{flag} {path}: the float model's path {sibling} is not writable")


def plot_directory(flag, path):
    """``--plot DIR``: a directory whose PNG names are free to be written."""
    directory(flag, path)
    if os.path.isdir(path):
        for name in sorted(os.listdir(path)):
            full = os.path.join(path, name)
            if name.endswith(".png") and (os.path.isdir(full) or not os.access(full, os.W_OK)):
                raise UsageError(f"{flag} {path}: {full} is {'a directory' if os.path.isdir(full) else 'not writable'}; "
                                 "the run writes its figures there")


def check_outputs(config, arch):
    """Every output path of a run (a :class:`keras_arch.config.RunConfig`),
    and that no two outputs are the same file."""
    if config.export:
        export_base("--export", config.export, arch)
    if config.tflite:
        tflite("--tflite", config.tflite)
    for flag, attr in (("--logdir", "logdir"), ("--checkpoint-dir", "checkpoint_dir")):
        if getattr(config, attr):
            directory(flag, getattr(config, attr))
    if config.plot:
        plot_directory("--plot", config.plot)
    if config.metrics_json:
        file("--metrics-json", config.metrics_json)
    files = [("--tflite", config.tflite), ("--tflite", config.tflite and tflite_float_path(config.tflite)),
             ("--metrics-json", config.metrics_json)]
    seen = {}
    for flag, path in files:
        if path:
            real = os.path.realpath(path)
            if real in seen:
                raise UsageError(f"{flag} {path}: the same file as {seen[real]}'s; each output needs its own")
            seen[real] = flag
