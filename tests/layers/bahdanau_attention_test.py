import numpy as np
import tensorflow as tf

from keras_arch.layers.bahdanau_attention import BahdanauAttention
from tests.helpers import run_layer_test
from keras_arch.reference import bahdanau, randomize


def softmax(z, axis=-1):
    e = np.exp(z - z.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def test_additive_formula_in_numpy():
    """Document 003: e(i,j) = v^T tanh(W_q q_i + W_k k_j), a = softmax_j e, c_i = sum_j a(i,j) k_j."""
    rng = np.random.default_rng(0)
    q, k = rng.normal(size=(2, 3, 5)).astype(np.float32), rng.normal(size=(2, 7, 6)).astype(np.float32)
    layer = BahdanauAttention(4)
    context, weights = layer([q, k])
    w_q, w_k, v = layer.query_dense.kernel.numpy(), layer.key_dense.kernel.numpy(), layer.score_dense.kernel.numpy()
    e = np.tanh((q @ w_q)[:, :, None, :] + (k @ w_k)[:, None, :, :]) @ v[:, 0]  # (batch, queries, keys)
    a = softmax(e)
    np.testing.assert_allclose(weights, a, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(context, a @ k, rtol=1e-5, atol=1e-5)
    assert context.shape == (2, 3, 6) and weights.shape == (2, 3, 7)


def test_masked_formula_in_numpy_with_random_weights():
    """v^T tanh(W_q q_i + W_k k_j) with padding at different places per example:
    a counted pad, a softmax over queries, a swapped W_q/W_k or a context built
    from the projected keys each changes the answer."""
    rng = np.random.default_rng(3)
    q, k = rng.normal(size=(2, 3, 5)).astype(np.float32), rng.normal(size=(2, 6, 4)).astype(np.float32)
    layer = BahdanauAttention(7)
    layer([q, k])
    randomize(layer, seed=4, scale=0.8)
    key_mask = np.array([[True] * 6, [True, True, False, True, False, False]])
    context, weights = layer([q, k], mask=[None, tf.constant(key_mask)])
    ref_context, ref_weights = bahdanau(q, k, layer.query_dense.kernel.numpy(), layer.key_dense.kernel.numpy(),
                                        layer.score_dense.kernel.numpy()[:, 0], key_mask)
    np.testing.assert_allclose(weights, ref_weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(context, ref_context, rtol=1e-5, atol=1e-5)
    assert context.shape == (2, 3, 4)


def test_masked_keys_get_no_weight_and_do_not_change_the_context():
    rng = np.random.default_rng(1)
    q, k = rng.normal(size=(1, 2, 4)).astype(np.float32), rng.normal(size=(1, 5, 4)).astype(np.float32)
    layer = BahdanauAttention(3)
    mask = tf.constant([[True, True, True, False, False]])
    context, weights = layer([q, k], mask=[None, mask])
    np.testing.assert_allclose(weights[0, :, 3:], 0, atol=1e-7)
    k2 = k.copy()
    k2[:, 3:] = 99.0  # change the padded keys: nothing may move
    context2, _ = layer([q, k2], mask=[None, mask])
    np.testing.assert_allclose(context, context2, atol=1e-6)
    short, _ = layer([q, k[:, :3]])
    np.testing.assert_allclose(context, short, atol=1e-6)


def test_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    run_layer_test(BahdanauAttention(4), [rng.normal(size=(2, 3, 5)).astype(np.float32),
                                          rng.normal(size=(2, 6, 5)).astype(np.float32)], tmp_path)
