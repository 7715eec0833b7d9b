"""Base class of the knowledge-graph scorers (document 004 §3.3): embeddings of
entities and relations plus a score f(head, relation, tail).

One layer answers the three questions a KG trainer and a server ask:

    [head (batch,), relation (batch,)]                 -> scores of every entity as tail (batch, entities)
    [head, relation, tails (batch, candidates)]        -> scores of those tails (batch, candidates)
    [head, relation, tail (batch,)]                    -> score of each triple (batch,)

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

    # Subclasses: query(h, r, training) -> q; score_all(q) -> (batch, entities);
    # score_candidates(q, t (batch, candidates, dim)) -> (batch, candidates).

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
