"""Multi-head self-attention, document 004 §4.1 (softmax(QK^T / sqrt(d_k)) V, as
in documents 001 and 003), corrected.

The document's version has no softmax, passes an invalid argument to Dropout,
unbinds the wrong axis when splitting heads and never imports numpy. Weights
are laid out as keras.layers.MultiHeadAttention's (kernels (d_model, heads,
key_dim) and (heads, key_dim, d_model)), so they copy across one to one.
"""
import math

import tensorflow as tf

from keras_arch.backend import keras
from keras_arch.layers import numerics


@keras.utils.register_keras_serializable(package="keras_arch")
class MultiHeadSelfAttention(keras.layers.Layer):
    def __init__(self, num_heads, key_dim, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.num_heads, self.key_dim, self.dropout = num_heads, key_dim, dropout
        self.attention_dropout = keras.layers.Dropout(dropout)
        self.supports_masking = True

    def build(self, input_shape):
        d_model = int(input_shape[-1])
        h, k = self.num_heads, self.key_dim
        # One initializer instance per weight: in tf_keras a reused unseeded
        # instance returns the same values, which would make W_q = W_k = W_v.
        for name in ("query", "key", "value"):
            setattr(self, f"{name}_kernel", self.add_weight(f"{name}/kernel", (d_model, h, k),
                                                            initializer=keras.initializers.GlorotUniform()))
            setattr(self, f"{name}_bias", self.add_weight(f"{name}/bias", (h, k), initializer="zeros"))
        self.output_kernel = self.add_weight("attention_output/kernel", (h, k, d_model),
                                             initializer=keras.initializers.GlorotUniform())
        self.output_bias = self.add_weight("attention_output/bias", (d_model,), initializer="zeros")
        super().build(input_shape)

    def call(self, x, mask=None, training=None, return_attention_scores=False):
        # expand_dims rather than [:, None]: new-axis slices do not convert to TFLite.
        q = tf.einsum("btd,dhk->bhtk", x, self.query_kernel) + tf.expand_dims(self.query_bias, 1)  # (batch, heads, queries, k)
        k = tf.einsum("btd,dhk->bhtk", x, self.key_kernel) + tf.expand_dims(self.key_bias, 1)  # (batch, heads, keys, k)
        v = tf.einsum("btd,dhk->bhtk", x, self.value_kernel) + tf.expand_dims(self.value_bias, 1)  # (batch, heads, keys, k)
        scores = tf.einsum("bhqk,bhsk->bhqs", q, k) / math.sqrt(self.key_dim)  # (batch, heads, queries, keys)
        keep = None
        if mask is not None:  # padded keys get no weight
            keep = tf.expand_dims(tf.expand_dims(mask, 1), 1)  # (batch, 1, 1, keys)
        weights = numerics.softmax(scores, keep, axis=-1)  # in float32, returned in the compute dtype
        context = tf.einsum("bhqs,bhsk->bhqk", self.attention_dropout(weights, training=training), v)
        out = tf.einsum("bhqk,hkd->bqd", context, self.output_kernel) + self.output_bias  # (batch, queries, d_model)
        return (out, weights) if return_attention_scores else out

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "dropout": self.dropout}
