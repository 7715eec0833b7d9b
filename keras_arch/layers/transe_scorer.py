"""TransE (Bordes et al. 2013), a baseline for document 004 §3.3's scorer:
f(h, r, t) = -||E(h) + R(r) - E(t)||_2, scaled by a learned factor so that a
softmax over all tails can become confident."""
import tensorflow as tf

from keras_arch.backend import keras
from keras_arch.layers.triple_scorer import TripleScorer


@keras.utils.register_keras_serializable(package="keras_arch")
class TransEScorer(TripleScorer):
    def build(self, input_shape):
        self.scale = self.add_weight(name="scale", shape=(), initializer=keras.initializers.Constant(5.0))
        super().build(input_shape)

    def query(self, h, r, training):
        return h + r  # (batch, dim)

    @staticmethod
    def _distance(squared):
        return tf.sqrt(tf.maximum(squared, 1e-12))

    def score_entities(self, q, entities, training):
        # ||q - e||^2 = |q|^2 - 2 q.e + |e|^2: no (batch, n, dim) tensor.
        squared = (tf.reduce_sum(q * q, -1, keepdims=True)
                   - 2.0 * tf.matmul(q, entities, transpose_b=True)
                   + tf.reduce_sum(entities ** 2, -1)[None, :])  # (batch, n)
        return -self.scale * self._distance(squared)

    def score_candidates(self, q, t, training):
        squared = tf.reduce_sum(tf.square(q[:, None, :] - t), -1)  # (batch, candidates)
        return -self.scale * self._distance(squared)
