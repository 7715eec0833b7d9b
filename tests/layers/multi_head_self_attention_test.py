import numpy as np
import tensorflow as tf

from keras_arch.backend import keras
from keras_arch.layers.multi_head_self_attention import MultiHeadSelfAttention
from tests.helpers import run_layer_test


def softmax(z, axis=-1):
    e = np.exp(z - z.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def numpy_attention(x, layer, mask=None):
    """softmax(QK^T / sqrt(d_k)) V per head (documents 001, 003, 004), then the output projection."""
    w = {v.name.split("/")[-2] + "/" + v.name.split("/")[-1].split(":")[0]: v.numpy() for v in layer.weights}
    q = np.einsum("btd,dhk->bhtk", x, w["query/kernel"]) + w["query/bias"][:, None]
    k = np.einsum("btd,dhk->bhtk", x, w["key/kernel"]) + w["key/bias"][:, None]
    v = np.einsum("btd,dhk->bhtk", x, w["value/kernel"]) + w["value/bias"][:, None]
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(layer.key_dim)  # (batch, heads, queries, keys)
    if mask is not None:
        scores = np.where(mask[:, None, None, :], scores, -np.inf)
    a = softmax(scores)
    out = np.einsum("bhqk,hkd->bqd", a @ v, w["attention_output/kernel"]) + w["attention_output/bias"]
    return out, a


def test_formula_in_numpy_with_and_without_mask():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 6, 8)).astype(np.float32)
    layer = MultiHeadSelfAttention(num_heads=2, key_dim=4)
    out, weights = layer(x, return_attention_scores=True)
    ref_out, ref_a = numpy_attention(x, layer)
    np.testing.assert_allclose(out, ref_out, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(weights, ref_a, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.sum(weights, -1), 1.0, rtol=1e-6)
    mask = np.array([[True] * 6, [True] * 4 + [False] * 2])
    out, weights = layer(x, mask=tf.constant(mask), return_attention_scores=True)
    ref_out, ref_a = numpy_attention(x, layer, mask)
    np.testing.assert_allclose(out, ref_out, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(weights, ref_a, atol=1e-6)


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
