"""The document's scorer, corrected (document 004 §3.3, §4.3):

    f(e_i, r, e_j) = MLP(E(e_i) ⊕ E(e_j) ⊕ E(r)),   MLP(x) = w2 · relu(W1 x + b1) + b2

The document's code scores (entity, relation) and never sees e_j; its text
defines ⊕ as element-wise addition while its code concatenates. Both are here:

- ``combine="concat"``: x = [E(h); E(t); E(r)] (ER-MLP, Dong et al. 2014);
- ``combine="sum"``:    x = E(h) + E(t) + E(r). Addition commutes, so
  f(h, r, t) = f(t, r, h): this reading cannot tell father_of(a, b) from
  father_of(b, a). The test shows it; the benchmark measures what it costs.

W1 is linear, so W1 x splits into a (head, relation) part and a tail part;
1-N scoring computes the tail part once per entity instead of once per pair.
"""
import tensorflow as tf

from keras_arch.backend import keras
from keras_arch.layers.triple_scorer import TripleScorer


@keras.utils.register_keras_serializable(package="keras_arch")
class ERMLPScorer(TripleScorer):
    def __init__(self, num_entities, num_relations, dim=100, hidden=200, combine="concat", dropout=0.0,
                 hidden_dropout=0.0, **kwargs):
        if combine not in ("concat", "sum"):
            raise ValueError(f"combine must be 'concat' or 'sum', got {combine!r}")
        super().__init__(num_entities, num_relations, dim, dropout, **kwargs)
        self.hidden = hidden
        self.combine = combine
        self.hidden_dropout = hidden_dropout
        self.hidden_dropout_layer = keras.layers.Dropout(hidden_dropout)
        # One mask per query over its K shared negatives: drawing (batch, K, hidden)
        # random numbers cost 3x the step at 40,000 entities.
        self.query_dropout_layer = keras.layers.Dropout(hidden_dropout, noise_shape=(None, 1, hidden))

    def build(self, input_shape):
        width = 3 * self.dim if self.combine == "concat" else self.dim
        self.kernel1 = self.add_weight(name="W1", shape=(width, self.hidden), initializer="glorot_uniform")
        self.bias1 = self.add_weight(name="b1", shape=(self.hidden,), initializer="zeros")
        self.kernel2 = self.add_weight(name="w2", shape=(self.hidden,), initializer="random_normal")
        self.bias2 = self.add_weight(name="b2", shape=(), initializer="zeros")
        super().build(input_shape)

    def _blocks(self):
        """(W_h, W_t, W_r): the rows of W1 that multiply E(h), E(t) and E(r)."""
        d = self.dim
        if self.combine == "sum":
            return self.kernel1, self.kernel1, self.kernel1
        return self.kernel1[:d], self.kernel1[d:2 * d], self.kernel1[2 * d:]

    def query(self, h, r, training):
        w_h, _, w_r = self._blocks()
        return tf.matmul(h, w_h) + tf.matmul(r, w_r) + self.bias1  # (batch, hidden)

    def _head(self, pre, training, dropout=None):
        hidden = (dropout or self.hidden_dropout_layer)(tf.nn.relu(pre), training=training)
        return tf.tensordot(hidden, self.kernel2, axes=[[-1], [0]]) + self.bias2

    def score_entities(self, q, entities, training):
        tails = tf.matmul(entities, self._blocks()[1])  # (n, hidden)
        return self._head(q[:, None, :] + tails[None, :, :], training)  # (batch, n)

    def score_shared(self, q, entities, training):
        tails = tf.matmul(entities, self._blocks()[1])  # (K, hidden)
        return self._head(q[:, None, :] + tails[None, :, :], training, self.query_dropout_layer)  # (batch, K)

    def score_candidates(self, q, t, training):
        tails = tf.matmul(t, self._blocks()[1])  # (batch, candidates, hidden)
        return self._head(q[:, None, :] + tails, training)  # (batch, candidates)

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden, "combine": self.combine,
                "hidden_dropout": self.hidden_dropout}
