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
