import numpy as np

from keras_arch.backend import keras
from keras_arch.layers.masked_mean import MaskedMean
from tests.helpers import run_layer_test


def test_the_mean_over_real_steps_and_zeros_for_a_row_without_any(tmp_path):
    """Padded steps (id 0) take no part; a row of padding only pools to zeros,
    where Keras's GlobalAveragePooling1D divides 0 by 0."""
    rng = np.random.default_rng(0)
    table = rng.normal(size=(9, 4)).astype(np.float32)
    ids = np.array([[3, 5, 0, 0], [1, 2, 8, 4], [0, 0, 0, 0]], np.int32)
    inputs = keras.Input((None,), dtype="int32")
    embedding = keras.layers.Embedding(9, 4, mask_zero=True, embeddings_initializer=keras.initializers.Constant(table))
    model = keras.Model(inputs, MaskedMean()(embedding(inputs)))
    out = model(ids).numpy()
    np.testing.assert_allclose(out[0], table[[3, 5]].mean(0), rtol=1e-6)
    np.testing.assert_allclose(out[1], table[[1, 2, 8, 4]].mean(0), rtol=1e-6)
    np.testing.assert_array_equal(out[2], np.zeros(4))
    keras_pool = keras.Model(inputs, keras.layers.GlobalAveragePooling1D()(embedding(inputs)))
    assert np.isnan(keras_pool(ids).numpy()[2]).all()  # what the layer replaces
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(run_layer_test(MaskedMean(), x, tmp_path), x.mean(1), rtol=1e-6)
