import numpy as np
import tensorflow as tf

from keras_arch.backend import keras
from keras_arch.layers.multi_head_self_attention import MultiHeadSelfAttention
from tests.helpers import run_layer_test
from keras_arch.reference import mhsa_weights, multi_head_self_attention, randomize

# Padding at different places per example: a counted pad changes examples 1 and 2.
MASK = np.array([[True] * 6, [True] * 4 + [False] * 2, [True, True, True, False, False, False]])


def test_initial_query_key_and_value_kernels_differ():
    """With W_q = W_k the score matrix QK^T is symmetric and a transposed one goes unseen."""
    layer = MultiHeadSelfAttention(num_heads=2, key_dim=4)
    layer(np.zeros((1, 3, 8), np.float32))
    wq, _, wk, _, wv, _, wo, _ = mhsa_weights(layer)
    for a, b in ((wq, wk), (wq, wv), (wk, wv)):
        assert np.abs(a - b).max() > 1e-2
    assert np.abs(wq[:, 0] - wq[:, 1]).max() > 1e-2  # heads differ too


def test_formula_in_numpy_with_and_without_mask():
    """The initial weights (distinct W_q, W_k, W_v), without a mask and with padding."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 6, 8)).astype(np.float32)
    layer = MultiHeadSelfAttention(num_heads=2, key_dim=4)
    out, weights = layer(x, return_attention_scores=True)
    ref_out, ref_a = multi_head_self_attention(x, *mhsa_weights(layer))
    np.testing.assert_allclose(out, ref_out, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(weights, ref_a, rtol=1e-5, atol=1e-6)
    out, weights = layer(x, mask=tf.constant(MASK), return_attention_scores=True)
    ref_out, ref_a = multi_head_self_attention(x, *mhsa_weights(layer), mask=MASK)
    np.testing.assert_allclose(out, ref_out, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(weights, ref_a, atol=1e-6)


def test_formula_in_numpy_with_random_weights_non_square_heads_and_padding():
    """d_model 7, 3 heads of d_k 5 (heads x d_k != d_model), every bias non-zero."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 6, 7)).astype(np.float32)
    layer = MultiHeadSelfAttention(num_heads=3, key_dim=5)
    layer(x)
    randomize(layer, seed=4)
    out, weights = layer(x, mask=tf.constant(MASK), return_attention_scores=True)
    ref_out, ref_a = multi_head_self_attention(x, *mhsa_weights(layer), mask=MASK)
    assert weights.shape == (3, 3, 6, 6)
    np.testing.assert_allclose(weights, ref_a, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(out, ref_out, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(weights.numpy()[2, :, :, 3:], 0.0, atol=1e-7)  # no weight on padding


def test_equals_keras_multi_head_attention_with_copied_weights():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 5, 8)).astype(np.float32)
    ours = MultiHeadSelfAttention(num_heads=2, key_dim=4)
    ours(x)
    for w in ours.weights:  # non-zero biases, so they are checked too
        w.assign(rng.normal(size=w.shape).astype(np.float32))
    reference = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    reference(x, x)
    by_name = {w.name.split("/", 1)[1]: w for w in ours.weights}
    for w in reference.weights:
        w.assign(by_name[w.name.split("/", 1)[1]])
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 1, 0, 0, 0]], bool)
    np.testing.assert_allclose(ours(x), reference(x, x), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours(x, mask=tf.constant(mask)),
                               reference(x, x, attention_mask=mask[:, None, :]), rtol=1e-5, atol=1e-5)


def test_round_trip(tmp_path):
    run_layer_test(MultiHeadSelfAttention(2, 4), np.random.default_rng(2).normal(size=(2, 5, 8)).astype(np.float32),
                   tmp_path)
