"""A learned position table added to a sequence of vectors: BERT's position
embeddings (document 001, "Transformer实现").

For a (batch, time, width) input it returns the first ``time`` rows of the
(max_length, width) table as a (1, time, width) tensor; the caller adds it
(broadcast over the batch).
"""
import tensorflow as tf

from keras_arch.backend import keras


@keras.utils.register_keras_serializable(package="keras_arch")
class PositionEmbedding(keras.layers.Layer):
    """Args:
        max_length: rows of the table: the longest sequence it can take.
        initializer: the table's initializer (BERT: truncated normal, stddev 0.02).
    """

    def __init__(self, max_length, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.initializer = keras.initializers.get(initializer)

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", (self.max_length, int(input_shape[-1])),
                                          initializer=self.initializer)
        super().build(input_shape)

    def call(self, x):
        positions = self.embeddings[:tf.shape(x)[1]]  # (time, width): row t is position t
        return tf.expand_dims(tf.cast(positions, self.compute_dtype), 0)  # (1, time, width)

    def compute_output_shape(self, input_shape):
        return (1, input_shape[1], input_shape[2])

    def get_config(self):
        return {**super().get_config(), "max_length": self.max_length,
                "initializer": keras.initializers.serialize(self.initializer)}
