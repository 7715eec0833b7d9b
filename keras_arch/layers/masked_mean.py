"""The mean over a sequence's real steps, (batch, time, width) -> (batch,
width): the pooling of the Transformer classifiers and of the two-tower text
tower.

Keras's GlobalAveragePooling1D divides by the number of unmasked steps, so a
text with no token (punctuation only, or an all-padding serving request)
divides 0 by 0 and every probability after it is NaN. Here the count is at
least 1: such a row pools to zeros and the model answers it like any other.
"""
import tensorflow as tf

from keras_arch.backend import keras


@keras.utils.register_keras_serializable(package="keras_arch")
class MaskedMean(keras.layers.Layer):
    """sum_t m_t x_t / max(sum_t m_t, 1) over the time axis (m: the Keras mask, 1 without one)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, x, mask=None):
        if mask is None:
            return tf.reduce_mean(x, axis=1)
        m = tf.cast(tf.expand_dims(mask, -1), x.dtype)  # (batch, time, 1)
        return tf.reduce_sum(x * m, axis=1) / tf.maximum(tf.reduce_sum(m, axis=1), tf.ones((), x.dtype))

    def compute_mask(self, inputs, mask=None):
        return None
