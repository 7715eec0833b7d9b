"""Token embedding plus learned position embedding; id 0 is padding and is masked.

The position table starts at zero by default: the model starts as a bag of
words and learns a position only where one helps. Started at Keras's
uniform(-0.05, 0.05), like the tokens, the positions were half of every
input vector and pure noise to attention: on the generated reviews, where the
cue is a word ("not") and not a place, a pre-norm classifier left the
sentiment-word-only plateau at epoch 3 instead of epoch 2.
"""
import tensorflow as tf

from keras_arch.backend import keras


@keras.utils.register_keras_serializable(package="keras_arch")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Args:
        vocab_size: rows of the token table (id 0 is padding).
        max_length: rows of the position table: the longest sequence.
        embed_dim: width of both tables.
        position_initializer: the position table's start (default zeros).
    """

    def __init__(self, vocab_size, max_length, embed_dim, position_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.vocab_size, self.max_length, self.embed_dim = vocab_size, max_length, embed_dim
        self.position_initializer = keras.initializers.serialize(keras.initializers.get(position_initializer))
        self.token = keras.layers.Embedding(vocab_size, embed_dim, name="token")
        self.position = keras.layers.Embedding(max_length, embed_dim, name="position",
                                               embeddings_initializer=keras.initializers.get(position_initializer))

    def call(self, ids):
        positions = tf.range(tf.shape(ids)[-1])
        return self.token(ids) + self.position(positions)  # (batch, time, embed_dim)

    def compute_mask(self, ids, mask=None):
        return tf.not_equal(ids, 0)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "max_length": self.max_length,
                "embed_dim": self.embed_dim, "position_initializer": self.position_initializer}
