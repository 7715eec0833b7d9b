"""Numerics shared by the layers: a softmax that stays float32 under mixed precision.

bfloat16 keeps 8 bits of mantissa, so the attention weights of a long row
round to a few distinct values; float16 overflows at 65,504, so the usual
``-1e9`` on padded keys becomes ``-inf`` and an all-padded row becomes NaN.
The Keras mixed-precision guide keeps softmax in float32; the layers here
compute their scores in the layer's compute dtype, take the softmax in
float32 and hand the weights back in the compute dtype.
"""
import tensorflow as tf


def softmax(scores, keep=None, axis=-1, dtype=None):
    """softmax over ``axis`` of ``scores``, computed in float32.

    Args:
        scores: logits, any float dtype.
        keep: optional mask broadcastable to ``scores``: 1 (or True) for the
            entries that take part, 0 for padding (they get weight 0, as long
            as one entry of the row is kept).
        axis: the axis the weights sum to 1 over.
        dtype: the dtype of the result (default: ``scores``'s).

    Returns:
        The weights, in ``dtype``.
    """
    dtype = dtype or scores.dtype
    scores = tf.cast(scores, tf.float32)
    if keep is not None:
        scores += (1.0 - tf.cast(keep, tf.float32)) * -1e9
    return tf.cast(tf.nn.softmax(scores, axis=axis), dtype)
