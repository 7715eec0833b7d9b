"""Token embedding plus learned position embedding; id 0 is padding and is masked."""
import tensorflow as tf

from keras_arch.backend import keras


@keras.utils.register_keras_serializable(package="keras_arch")
class TokenAndPositionEmbedding(keras.layers.Layer):
    def __init__(self, vocab_size, max_length, embed_dim, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.max_length, self.embed_dim = vocab_size, max_length, embed_dim
        self.token = keras.layers.Embedding(vocab_size, embed_dim, name="token")
        self.position = keras.layers.Embedding(max_length, embed_dim, name="position")

    def call(self, ids):
        positions = tf.range(tf.shape(ids)[-1])
        return self.token(ids) + self.position(positions)  # (batch, time, embed_dim)

    def compute_mask(self, ids, mask=None):
        return tf.not_equal(ids, 0)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "max_length": self.max_length,
                "embed_dim": self.embed_dim}
