"""The core of multi-head attention once Q, K and V are projected (documents
001, 003 and 004: softmax(QK^T / sqrt(d_k)) V), with BERT's padding mask.

The projections are ordinary Dense layers before it and after it (the output
projection), so that TF Model Optimization can quantize and prune them; this
layer has no weights. Heads are split from the last axis: (batch, time,
heads x d_k) -> (batch, heads, time, d_k).

The softmax runs in float32 under mixed precision
(:func:`keras_arch.layers.numerics.softmax`). Padded keys get the row's
lowest score minus ``MASK_MARGIN`` instead of the usual -10000: their weight
is below e^-16 = 1.1e-7 of the largest (the same output to float32 rounding),
and the scores keep a range int8 can hold. With an additive -10000 the
scores tensor spans 10^4 and its int8 quantization step (about 40) would
erase every difference between real scores.
"""
import math

import tensorflow as tf

from keras_arch.backend import keras
from keras_arch.layers import numerics

MASK_MARGIN = 16.0


@keras.utils.register_keras_serializable(package="keras_arch")
class ScaledDotProductAttention(keras.layers.Layer):
    """softmax(Q K^T / sqrt(d_k) + padding) V per head, heads concatenated.

    Args:
        num_heads: heads the projections' last axis is split into.
        dropout: dropout on the attention weights while training.

    Call arguments:
        inputs: [query, key, value], each (batch, time, heads x d_k).
        attention_mask: (batch, keys) 1 for tokens, 0 for padding (optional).
    """

    def __init__(self, num_heads, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.num_heads, self.dropout = num_heads, dropout
        self.attention_dropout = keras.layers.Dropout(dropout, dtype=self.dtype_policy)  # the layer's own policy

    def _split(self, x, batch, time):
        x = tf.reshape(x, [batch, time, self.num_heads, x.shape[-1] // self.num_heads])
        return tf.transpose(x, [0, 2, 1, 3])  # (batch, heads, time, d_k)

    def call(self, inputs, attention_mask=None, training=None):
        query, key, value = inputs
        width = query.shape[-1]
        batch, time = tf.shape(query)[0], tf.shape(query)[1]
        q, k, v = (self._split(t, batch, time) for t in (query, key, value))
        scores = tf.matmul(q, k, transpose_b=True) / math.sqrt(width // self.num_heads)  # (batch, heads, q, k)
        if attention_mask is not None:
            keep = tf.cast(tf.expand_dims(tf.expand_dims(attention_mask, 1), 1), tf.bool)  # (batch, 1, 1, keys)
            floor = tf.reduce_min(scores, axis=-1, keepdims=True) - MASK_MARGIN  # (batch, heads, q, 1)
            scores = tf.where(keep, scores, floor)
        weights = numerics.softmax(scores, axis=-1)  # float32 softmax, back in the compute dtype
        context = tf.matmul(self.attention_dropout(weights, training=training), v)  # (batch, heads, q, d_k)
        context = tf.transpose(context, [0, 2, 1, 3])  # (batch, q, heads, d_k)
        return tf.reshape(context, [batch, time, width])  # heads concatenated

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "dropout": self.dropout}
