import numpy as np
import pytest

from keras_arch.backend import keras
from keras_arch.models import cnn
from tests.helpers import run_model_test


def conv_params(k, c_in, c_out, bias=True):
    return k * k * c_in * c_out + (c_out if bias else 0)


def dense_params(n_in, n_out):
    return n_in * n_out + n_out


def test_doc000_cnn_parameter_count_matches_the_document_by_hand():
    # 28 -conv3-> 26 -pool-> 13 -conv3-> 11 -pool-> 5 -conv3-> 3; flatten 3*3*64 = 576.
    expected = (conv_params(3, 1, 32) + conv_params(3, 32, 64) + conv_params(3, 64, 64)
                + dense_params(576, 64) + dense_params(64, 10))
    assert expected == 93_322
    assert cnn.doc000_cnn().count_params() == expected


def test_doc000_cnn_with_batch_norm_drops_conv_bias_and_adds_bn():
    model = cnn.doc000_cnn(batch_norm=True)
    expected = (conv_params(3, 1, 32, False) + conv_params(3, 32, 64, False) + conv_params(3, 64, 64, False)
                + 4 * (32 + 64 + 64) + dense_params(576, 64) + dense_params(64, 10))
    assert model.count_params() == expected
    # ReLU after BN: the order TFMOT folds (Conv -> BN -> ReLU).
    names = [layer.name for layer in model.layers]
    assert names.index("conv1_bn") == names.index("conv1") + 1 == names.index("conv1_relu") - 1


def test_doc001_cnn_parameter_count_matches_the_document_by_hand():
    # 28 -conv3-> 26 -pool-> 13; flatten 13*13*32 = 5408 -> Dense(10).
    assert cnn.doc001_cnn().count_params() == conv_params(3, 1, 32) + dense_params(5408, 10) == 54_410


def test_doc001_cnn_as_written_fails():
    """The document passes the unapplied Dense layer as outputs=."""
    inputs = keras.layers.Input(shape=(28, 28, 1))
    keras.layers.Flatten()(keras.layers.MaxPooling2D((2, 2))(keras.layers.Conv2D(32, (3, 3))(inputs)))
    output_layer = keras.layers.Dense(10, activation="softmax")
    with pytest.raises((TypeError, ValueError, AttributeError)):
        keras.Model(inputs=inputs, outputs=output_layer)


def test_simple_mnist_convnet_parameter_count():
    # keras-io reports 34,826 trainable parameters for this recipe.
    assert cnn.simple_mnist_convnet().count_params() == 34_826


@pytest.mark.parametrize("builder", [cnn.doc000_cnn, cnn.doc001_cnn,
                                     lambda: cnn.doc000_cnn(batch_norm=True, dropout=0.25)])
def test_round_trip_and_probabilities(builder, tmp_path):
    model = builder()
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    out = run_model_test(model, x, (4, 10), tmp_path)
    np.testing.assert_allclose(np.sum(out, axis=-1), 1.0, rtol=1e-5)


def test_conv_layer_equals_formula_y_f_wx_plus_b():
    """Document 003 §3.1 (and document 001's y=f(w*x+b)): recompute a Conv2D
    output in NumPy from the layer's own kernel and bias."""
    rng = np.random.default_rng(1)
    layer = keras.layers.Conv2D(5, 3, activation="relu", bias_initializer="random_normal")
    x = rng.standard_normal((2, 7, 6, 3)).astype(np.float32)
    y = layer(x).numpy()
    w, b = layer.get_weights()  # w: (kh, kw, c_in, c_out)
    windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))  # (n, 5, 4, c_in, kh, kw)
    wx = np.einsum("nhwcij,ijcf->nhwf", windows, w)  # W x: cross-correlation, as Keras computes it
    expected = np.maximum(wx + b, 0.0)  # f = relu
    assert y.shape == expected.shape == (2, 5, 4, 5)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
