"""Additive (Bahdanau) attention, document 003 §3.3 and §4.

    e(i, j) = v^T tanh(W_q q_i + W_k k_j),   a(i, j) = softmax_j e(i, j),   c_i = sum_j a(i, j) k_j

keras.layers.AdditiveAttention computes sum(tanh(q + k)) with neither W_q nor
W_k nor a learned v, so it is not this. The document's PyTorch module never
uses encoder_outputs in its scores, gives its V layer the wrong input width
and normalises over an axis of size 1; this layer is the corrected version.
"""
import tensorflow as tf

from keras_arch.backend import keras
from keras_arch.layers import numerics


@keras.utils.register_keras_serializable(package="keras_arch")
class BahdanauAttention(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.query_dense = keras.layers.Dense(units, use_bias=False, name="W_q")
        self.key_dense = keras.layers.Dense(units, use_bias=False, name="W_k")
        self.score_dense = keras.layers.Dense(1, use_bias=False, name="v")
        self.supports_masking = True

    def build(self, input_shape):
        query_shape, key_shape = input_shape
        self.query_dense.build(query_shape)
        self.key_dense.build(key_shape)
        self.score_dense.build([None, self.units])
        super().build(input_shape)

    def call(self, inputs, mask=None):
        """inputs: [query (batch, queries, d_q), keys (batch, keys, d_k)];
        mask: [None or (batch, queries), (batch, keys)] with True for real keys.
        Returns context (batch, queries, d_k) and weights (batch, queries, keys)."""
        query, keys = inputs
        q = self.query_dense(query)[:, :, None, :]  # (batch, queries, 1, units)
        k = self.key_dense(keys)[:, None, :, :]  # (batch, 1, keys, units)
        scores = tf.squeeze(self.score_dense(tf.tanh(q + k)), -1)  # (batch, queries, keys)
        key_mask = mask[1] if isinstance(mask, (list, tuple)) else None
        keep = None if key_mask is None else key_mask[:, None, :]  # (batch, 1, keys)
        weights = numerics.softmax(scores, keep, axis=-1)  # over keys j, in float32
        context = tf.matmul(weights, keys)  # (batch, queries, d_k)
        return context, weights

    def compute_mask(self, inputs, mask=None):
        query_mask = mask[0] if isinstance(mask, (list, tuple)) else None
        return [query_mask, None]

    def get_config(self):
        return {**super().get_config(), "units": self.units}
