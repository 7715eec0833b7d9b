"""Serving signatures of a knowledge-graph scorer: score (head, relation,
tail) triples, and the best tails for (head, relation) queries."""
import tensorflow as tf

from keras_arch.models.kg import triple_model

TOP_K = 10


def signatures(model):
    """serving_default: (head, relation, tail) ids -> score;
    top_k_tails: (head, relation) ids -> the TOP_K best tails and their scores."""
    triples = triple_model(model)
    k = min(TOP_K, model.get_layer("scorer").num_entities)
    ids = lambda name: tf.TensorSpec([None], tf.int32, name=name)  # noqa: E731

    @tf.function(input_signature=[ids("head"), ids("relation"), ids("tail")])
    def score(head, relation, tail):
        return {"scores": triples({"head": head, "relation": relation, "tail": tail}, training=False)}

    @tf.function(input_signature=[ids("head"), ids("relation")])
    def top_k(head, relation):
        scores = model({"head": head, "relation": relation}, training=False)
        best = tf.math.top_k(scores, k)  # (batch, k)
        return {"tails": best.indices, "scores": best.values}

    return {"serving_default": score, "top_k_tails": top_k}
