"""Base class of the knowledge-graph scorers (document 004 §3.3): embeddings of
entities and relations plus a score f(head, relation, tail).

One layer answers the three questions a KG trainer and a server ask:

    [head (batch,), relation (batch,)]                 -> scores of every entity as tail (batch, entities)
    [head, relation, tails (batch, candidates)]        -> scores of those tails (batch, candidates)
    [head, relation, tail (batch,)]                    -> score of each triple (batch,)

and, for training on sampled negatives, :meth:`TripleScorer.shared_negative_scores`:
each triple's true tail against K tails drawn once for the whole batch.

Subclasses say how a (head, relation) query is formed and how it meets a tail,
for all entities at once (1-N scoring) and for given candidates (negative
sampling); the two must agree, which the tests check.
"""
import tensorflow as tf

from keras_arch.backend import keras


class TripleScorer(keras.layers.Layer):
    def __init__(self, num_entities, num_relations, dim=100, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.num_entities = num_entities
        self.num_relations = num_relations
        self.dim = dim
        self.dropout = dropout
        self.embedding_dropout = keras.layers.Dropout(dropout)

    def build(self, input_shape):
        self.entity_embeddings = self.add_weight(
            name="entity_embeddings", shape=(self.num_entities, self.dim), initializer="glorot_uniform")
        self.relation_embeddings = self.add_weight(
            name="relation_embeddings", shape=(self.num_relations, self.dim), initializer="glorot_uniform")
        super().build(input_shape)

    # Subclasses: query(h, r, training) -> q; score_entities(q, e (n, dim)) -> (batch, n);
    # score_candidates(q, t (batch, candidates, dim)) -> (batch, candidates).

    def score_all(self, q, training):
        return self.score_entities(q, self.entity_embeddings, training)  # (batch, entities)

    def score_shared(self, q, entities, training):
        """(batch, K) scores against K entities shared by the batch, in training (default: score_entities)."""
        return self.score_entities(q, entities, training)

    def shared_negative_scores(self, head, relation, tail, negatives, training=None):
        """(batch, 1 + K) scores: column 0 is f(h, r, t), columns 1..K are
        f(h, r, n_k) for the K ``negatives`` shared by the batch. A negative
        that is the row's own tail scores -1e9 (it is not a negative there).
        One (batch, K) product instead of a (batch, K, dim) gather.

        Args:
            head, relation, tail: (batch,) int ids.
            negatives: (K,) int entity ids.
            training: dropout on the head and relation embeddings.
        """
        h = self.embedding_dropout(tf.gather(self.entity_embeddings, head), training=training)  # (batch, dim)
        r = self.embedding_dropout(tf.gather(self.relation_embeddings, relation), training=training)
        q = self.query(h, r, training)
        t = tf.gather(self.entity_embeddings, tail)[:, None, :]  # (batch, 1, dim)
        positive = self.score_candidates(q, t, training)  # (batch, 1)
        negative = self.score_shared(q, tf.gather(self.entity_embeddings, negatives), training)  # (batch, K)
        own_tail = tf.equal(negatives[None, :], tail[:, None])  # (batch, K)
        negative = tf.where(own_tail, tf.constant(-1e9, negative.dtype), negative)
        return tf.concat([positive, negative], axis=1)  # (batch, 1 + K); the true tail is column 0

    def call(self, inputs, training=None):
        head, relation = inputs[0], inputs[1]
        h = self.embedding_dropout(tf.gather(self.entity_embeddings, head), training=training)  # (batch, dim)
        r = self.embedding_dropout(tf.gather(self.relation_embeddings, relation), training=training)
        q = self.query(h, r, training)
        if len(inputs) == 2:
            return self.score_all(q, training)
        tails = inputs[2]
        if tails.shape.rank == 1:
            t = tf.gather(self.entity_embeddings, tails)[:, None, :]  # (batch, 1, dim)
            return self.score_candidates(q, t, training)[:, 0]
        return self.score_candidates(q, tf.gather(self.entity_embeddings, tails), training)  # (batch, candidates, dim)

    def get_config(self):
        return {**super().get_config(), "num_entities": self.num_entities,
                "num_relations": self.num_relations, "dim": self.dim, "dropout": self.dropout}
