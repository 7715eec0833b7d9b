"""Export a Keras model to TF Serving's layout: BASE/<name>/<version>/.

The SavedModel is written into a hidden temporary directory beside the
versions (TF Serving only loads all-digit names) and renamed into place, so a
server polling BASE never sees half a version. The version is the next free
integer; an existing version is never overwritten, and two exports running at
once end with different versions.
"""
from __future__ import annotations

import errno
import os
import shutil
import tempfile

from keras_arch.errors import UsageError


def versions(model_dir):
    """The integer versions present under ``model_dir``, ascending."""
    if not os.path.isdir(model_dir):
        return []
    return sorted(int(n) for n in os.listdir(model_dir) if n.isdigit())


def serving_function(model, input_name, output_name):
    """A tf.function with an explicit, named, typed signature around ``model``."""
    import tensorflow as tf
    spec = tf.TensorSpec([None, *model.input_shape[1:]], model.inputs[0].dtype, name=input_name)

    @tf.function(input_signature=[spec])
    def serve(inputs):
        return {output_name: model(inputs, training=False)}

    return serve


def export_servable(model, base_dir, name, input_name="inputs", output_name="outputs",
                    signatures=None):
    """Write ``model`` as the next version of BASE/name; return its path."""
    if os.path.exists(base_dir) and not os.path.isdir(base_dir):
        raise UsageError(f"--export {base_dir}: exists and is not a directory")
    model_dir = os.path.join(base_dir, name)
    try:
        os.makedirs(model_dir, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--export {base_dir}: cannot create {model_dir} ({e.strerror})") from None
    if signatures is None:
        signatures = {"serving_default": serving_function(model, input_name, output_name)}
    tmp = tempfile.mkdtemp(prefix=".tmp-export-", dir=model_dir)
    try:
        model.save(tmp, save_format="tf", include_optimizer=False, signatures=signatures)
        while True:
            version = (versions(model_dir) or [0])[-1] + 1
            final = os.path.join(model_dir, str(version))
            try:
                os.rename(tmp, final)
                return final
            except OSError as e:  # another export took this version first
                if e.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
