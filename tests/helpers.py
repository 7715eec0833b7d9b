"""Shared checks, run for every model and layer (keras-hub's run_layer_test style)."""
import os

import numpy as np

from keras_arch.backend import keras


def run_model_test(model, inputs, expected_output_shape, tmp_path, custom_objects=None):
    """Shapes, get_config round trip, and save/load with identical outputs in
    both formats users meet: .keras and SavedModel."""
    out = model(inputs, training=False)
    assert tuple(out.shape) == tuple(expected_output_shape)

    clone = keras.Model.from_config(model.get_config(), custom_objects=custom_objects)
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(inputs, training=False), out, rtol=1e-6, atol=1e-6)
    assert clone.count_params() == model.count_params()

    for path in (os.path.join(tmp_path, "model.keras"), os.path.join(tmp_path, "saved")):
        model.save(path)
        loaded = keras.models.load_model(path, custom_objects=custom_objects)
        np.testing.assert_allclose(loaded(inputs, training=False), out, rtol=1e-6, atol=1e-6)
    return out


def _functional(layer, inputs):
    many = isinstance(inputs, list)
    spec = [keras.Input(batch_shape=(None,) + np.shape(i)[1:], dtype=np.asarray(i).dtype.name)
            for i in (inputs if many else [inputs])]
    return keras.Model(spec, layer(spec if many else spec[0]))


def run_layer_test(layer, inputs, tmp_path, mixed_tolerance=0.05):
    """A layer inside a functional model: get_config round trip, .keras and
    SavedModel save/load give the same outputs (one tensor or several), and
    the same layer rebuilt under the mixed_bfloat16 policy with the same
    weights computes in bfloat16, keeps float32 variables and gives the
    float32 outputs to within ``mixed_tolerance`` of their largest magnitude
    (bfloat16 keeps 8 bits of mantissa)."""
    import tensorflow as tf
    model = _functional(layer, inputs)
    assert layer.__class__.from_config(layer.get_config()).get_config() == layer.get_config()
    expected = [np.asarray(t) for t in tf.nest.flatten(model(inputs))]
    for path in (os.path.join(tmp_path, "layer.keras"), os.path.join(tmp_path, "layer_saved")):
        model.save(path)
        got = tf.nest.flatten(keras.models.load_model(path)(inputs))
        assert len(got) == len(expected)
        for a, b in zip(got, expected):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        config = {k: v for k, v in layer.get_config().items() if k != "dtype"}
        mixed_layer = layer.__class__.from_config(config)
        mixed = _functional(mixed_layer, inputs)
        assert mixed_layer.compute_dtype == "bfloat16"
    finally:
        keras.mixed_precision.set_global_policy("float32")
    mixed.set_weights(model.get_weights())
    assert all(w.dtype == tf.float32 for w in mixed.weights), "variables must stay float32"
    for a, b in zip(tf.nest.flatten(mixed(inputs)), expected):
        a = np.asarray(tf.cast(a, tf.float32))
        assert np.all(np.isfinite(a))
        np.testing.assert_allclose(a, b, rtol=0, atol=mixed_tolerance * max(float(np.abs(b).max()), 1e-3))
    return expected if len(expected) > 1 else expected[0]


def tree_digest(root):
    """Paths, contents and mtimes of everything under ``root``: equal digests
    mean nothing there was touched."""
    import hashlib
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in sorted(os.walk(root)):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            h.update(path.encode())
            h.update(open(path, "rb").read())
            h.update(str(os.stat(path).st_mtime_ns).encode())
    return h.hexdigest()
