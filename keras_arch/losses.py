"""Losses that are not in Keras, registered so saved models load them."""
from keras_arch.backend import keras


@keras.utils.register_keras_serializable(package="keras_arch")
def symmetric_infonce(y_true, logits):
    """Mean of the image→text and text→image cross-entropies of the (batch,
    batch) similarity logits, whose diagonal holds the true pairs (y_true
    unused): document 004 §3.2's contrastive objective (InfoNCE, CLIP).

    Args:
        y_true: ignored (the pairs are the diagonal).
        logits: (batch, batch) similarities, image i against caption j.

    Returns:
        (batch,) losses.
    """
    import tensorflow as tf
    labels = tf.range(tf.shape(logits)[0])
    i2t = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
    t2i = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, tf.transpose(logits))
    return (i2t + t2i) / 2.0  # (batch,)
