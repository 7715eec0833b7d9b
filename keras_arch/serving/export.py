"""Export to TF Serving's layout, BASE/<name>/<version>/, and load it back.

Each version holds saved_model.pb, variables/, assets/ and
assets.extra/tf_serving_warmup_requests. It is written into a hidden
temporary directory beside the versions (TF Serving only loads all-digit
names) and renamed into place, so a server polling BASE never sees half a
version. The version is the next free integer; an existing version is never
overwritten, and two exports running at once end with different versions.
"""
from __future__ import annotations

import errno
import os
import shutil

from keras_arch.errors import UsageError
from keras_arch.io import staging_dir
from keras_arch.serving import warmup


STAGING = ".tmp-export-"  # + the exporting process's pid + "-": hidden from TF Serving (not all digits)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_abandoned_staging(model_dir):
    """Delete the staging directories of exports whose process is gone (killed
    mid-export): they would otherwise stay beside the versions forever."""
    if not os.path.isdir(model_dir):
        return
    for name in os.listdir(model_dir):
        if not name.startswith(STAGING):
            continue
        pid = name[len(STAGING):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(os.path.join(model_dir, name), ignore_errors=True)


def versions(model_dir):
    """The integer versions present under ``model_dir``, ascending."""
    if not os.path.isdir(model_dir):
        return []
    return sorted(int(n) for n in os.listdir(model_dir) if n.isdigit())


def export_servable(model, base_dir, name, signatures, warmup_requests=(), checks=True):
    """Write ``model`` with ``signatures`` as the next version of BASE/name; return its path.

    Args:
        model: the tf_keras model (its variables are saved once, shared by
            every signature).
        base_dir: TF Serving's base directory; created if missing.
        name: the model's name under BASE (and in models.config).
        signatures: {signature name: tf.function with a named input_signature};
            each is wrapped with the serving input contract
            (:func:`keras_arch.serving.signatures.guard`) unless ``checks`` is False.
        warmup_requests: (signature_name, {input_name: array}) pairs recorded in
            assets.extra for the server to replay at load time.
        checks: False exports the signatures as given (for measuring the checks' cost).

    Returns:
        The new version directory.
    """
    if os.path.exists(base_dir) and not os.path.isdir(base_dir):
        raise UsageError(f"export base {base_dir}: exists and is not a directory")
    model_dir = os.path.join(base_dir, name)
    try:
        os.makedirs(model_dir, exist_ok=True)
    except OSError as e:
        raise UsageError(f"export base {base_dir}: cannot create {model_dir} ({e.strerror})") from None
    if checks:
        from keras_arch.serving.signatures import guard_all
        signatures = guard_all(signatures)
    remove_abandoned_staging(model_dir)
    tmp = staging_dir(model_dir, f"{STAGING}{os.getpid()}-")  # 0755 under umask 022: another user's server reads it
    try:
        model.save(tmp, save_format="tf", include_optimizer=False, signatures=signatures)
        if warmup_requests:
            os.makedirs(os.path.join(tmp, "assets.extra"))
            warmup.write(os.path.join(tmp, "assets.extra", warmup.WARMUP_FILE), name, warmup_requests)
        os.makedirs(os.path.join(tmp, "assets"), exist_ok=True)
        while True:
            final = os.path.join(model_dir, str((versions(model_dir) or [0])[-1] + 1))
            try:
                os.rename(tmp, final)
                return final
            except OSError as e:  # another export took this version first
                if e.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def resolve_version(path):
    """BASE/name (newest version) or BASE/name/version -> the version directory."""
    if not os.path.isdir(path):
        raise UsageError(f"{path}: no such export directory")
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    found = versions(path)
    if not found:
        raise UsageError(f"{path}: neither a SavedModel (no saved_model.pb) nor a model directory with numbered versions")
    return os.path.join(path, str(found[-1]))


def load_servable(path):
    """Load an export as TF Serving would (tf.saved_model.load), with clear errors."""
    import tensorflow as tf
    version_dir = resolve_version(path)
    if not os.path.isfile(os.path.join(version_dir, "saved_model.pb")):
        raise UsageError(f"{version_dir}: no saved_model.pb (incomplete or not an export)")
    _import_custom_ops()
    try:
        return tf.saved_model.load(version_dir)
    except Exception as e:  # corrupt protos and missing variables raise many types
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UsageError(f"{version_dir}: cannot load SavedModel ({first})") from None


def _import_custom_ops():
    """Register the TF-Text ops text-in exports use, before loading a graph."""
    try:
        import tensorflow_text  # noqa: F401
    except ImportError:
        pass
