import numpy as np
import pytest
import tensorflow as tf

from keras_arch.models import rnn
from tests.helpers import run_model_test
from keras_arch.reference import lstm, randomize, relu, softmax


def lstm_params(n_in, units):
    return 4 * (units * (n_in + units) + units)


def test_doc000_stacked_lstm_parameters_and_per_timestep_output(tmp_path):
    model = rnn.doc000_stacked_lstm()
    expected = lstm_params(64, 128) + lstm_params(128, 128) + (128 * 64 + 64) + (64 * 10 + 10)
    assert model.count_params() == expected == 239_306
    x = np.random.default_rng(0).normal(size=(2, 100, 64)).astype(np.float32)
    out = model(x, training=False)
    assert out.shape == (2, 100, 10)
    np.testing.assert_allclose(out.numpy().sum(-1), 1.0, rtol=1e-5)
    # one label per sequence, as the document's text implies, cannot train on per-timestep outputs
    model.compile("adam", "sparse_categorical_crossentropy")
    # a ValueError where the shapes are static, the kernel's InvalidArgumentError where they are not
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError), match="labels|Incompatible shapes"):
        model.fit(x, np.array([1, 2]), epochs=1, verbose=0)


@pytest.mark.slow  # SavedModel tracing of two stacked LSTMs: about 10 s
def test_doc000_stacked_lstm_round_trip(tmp_path):
    x = np.random.default_rng(0).normal(size=(2, 100, 64)).astype(np.float32)
    run_model_test(rnn.doc000_stacked_lstm(), x, (2, 100, 10), tmp_path)


@pytest.mark.slow  # a fresh process or a whole export: runs in CI, not in the fast suite
def test_doc001_lstm_classifier_takes_any_length(tmp_path):
    model = rnn.doc001_lstm_classifier(input_shape=(28, 28))
    assert model.count_params() == lstm_params(28, 64) + 64 * 10 + 10 == 24_458
    assert model.input_shape == (None, None, 28)
    rng = np.random.default_rng(1)
    for length in (5, 28, 40):
        assert model(rng.normal(size=(3, length, 28)).astype(np.float32)).shape == (3, 10)
    run_model_test(model, rng.normal(size=(2, 7, 28)).astype(np.float32), (2, 10), tmp_path)


def test_simple_rnn_equals_the_recurrence_formula():
    """Documents 001/003: h_t = f(W x_t + U h_{t-1} + b), y_t = g(W_y h_t + b_y), f = tanh, g = sigmoid."""
    model = rnn.simple_rnn_unit(units=5, input_dim=3)
    rng = np.random.default_rng(2)
    for w in model.weights:
        w.assign(rng.normal(0, 0.5, w.shape).astype(np.float32))
    x = rng.normal(size=(2, 6, 3)).astype(np.float32)
    W, U, b = model.get_layer("rnn").get_weights()
    W_y, b_y = model.get_layer("output").get_weights()
    h = np.zeros((2, 5), np.float32)
    ys = []
    for t in range(6):
        h = np.tanh(x[:, t] @ W + h @ U + b)
        ys.append(1 / (1 + np.exp(-(h @ W_y + b_y))))
    np.testing.assert_allclose(model(x), np.stack(ys, 1), rtol=1e-5, atol=1e-6)


def test_doc000_stacked_lstm_equals_the_gate_equations():
    """i, f, o = σ(x W + h U + b), g = tanh(...), c' = f c + i g, h' = o tanh(c'),
    two LSTMs deep, then Dense(64, relu) and a softmax at every timestep."""
    model = randomize(rnn.doc000_stacked_lstm(input_shape=(6, 5), num_classes=4), seed=3)
    x = np.random.default_rng(4).normal(size=(2, 6, 5)).astype(np.float32)
    first, _, _ = lstm(x, *model.get_layer("lstm1").get_weights())
    second, _, _ = lstm(first, *model.get_layer("lstm2").get_weights())
    w1, b1 = model.get_layer("dense").get_weights()
    w2, b2 = model.get_layer("probabilities").get_weights()
    expected = softmax(relu(second @ w1 + b1) @ w2 + b2)
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-4, atol=1e-5)


def test_doc001_lstm_classifier_equals_the_gate_equations():
    """The last hidden state h_T of one LSTM(64), then a softmax; variable length."""
    model = randomize(rnn.doc001_lstm_classifier(input_shape=(None, 3), num_classes=4), seed=5)
    rng = np.random.default_rng(6)
    for length in (1, 7):
        x = rng.normal(size=(2, length, 3)).astype(np.float32)
        _, h, _ = lstm(x, *model.get_layer("lstm").get_weights())
        w, b = model.get_layer("probabilities").get_weights()
        np.testing.assert_allclose(model(x).numpy(), softmax(h @ w + b), rtol=1e-4, atol=1e-5)
