"""Knowledge-graph triple scoring, document 004 §3.3 and §4.3.

``kg_model`` is the 1-N model: (head, relation) -> a score for every entity as
tail. ``candidate_model``, ``triple_model`` and ``shared_negative_model`` share
its scorer layer (same weights) for scoring given candidates, given triples,
and for training on sampled negatives.
"""
from keras_arch.backend import keras
from keras_arch.layers.distmult_scorer import DistMultScorer
from keras_arch.layers.er_mlp_scorer import ERMLPScorer
from keras_arch.layers.transe_scorer import TransEScorer

SCORERS = {"mlp": ERMLPScorer, "distmult": DistMultScorer, "transe": TransEScorer}


def kg_model(num_entities, num_relations, scorer="mlp", dim=100, dropout=0.2, **scorer_kwargs):
    """``scorer``: "mlp" (the document's f = MLP(E(h) ⊕ E(t) ⊕ E(r)); takes
    ``hidden``, ``combine`` and ``hidden_dropout``), "distmult" or "transe".
    ``num_relations`` counts inverse relations too when the data adds them."""
    if scorer not in SCORERS:
        raise ValueError(f"scorer must be one of {sorted(SCORERS)}, got {scorer!r}")
    head = keras.Input((), dtype="int32", name="head")
    relation = keras.Input((), dtype="int32", name="relation")
    layer = SCORERS[scorer](num_entities, num_relations, dim=dim, dropout=dropout, name="scorer", **scorer_kwargs)
    scores = layer([head, relation])  # (batch, entities)
    return keras.Model({"head": head, "relation": relation}, scores, name=f"kg_{scorer}")


def candidate_model(model):
    """(head, relation, candidates (batch, k)) -> (batch, k), sharing ``model``'s weights."""
    head = keras.Input((), dtype="int32", name="head")
    relation = keras.Input((), dtype="int32", name="relation")
    candidates = keras.Input((None,), dtype="int32", name="candidates")
    scores = model.get_layer("scorer")([head, relation, candidates])
    return keras.Model({"head": head, "relation": relation, "candidates": candidates}, scores)


def triple_model(model):
    """(head, relation, tail) -> (batch,) scores, sharing ``model``'s weights."""
    head = keras.Input((), dtype="int32", name="head")
    relation = keras.Input((), dtype="int32", name="relation")
    tail = keras.Input((), dtype="int32", name="tail")
    scores = model.get_layer("scorer")([head, relation, tail])
    return keras.Model({"head": head, "relation": relation, "tail": tail}, scores)


class SharedNegativeModel(keras.Model):
    """{head, relation, tail (batch,), negatives (K,)} -> (batch, 1 + K)
    scores, column 0 the true tail's (a sampled-softmax training model; the
    K negatives are drawn once per batch). Shares ``model``'s scorer.

    Args:
        model: a :func:`kg_model`.
    """

    def __init__(self, model, **kwargs):
        super().__init__(**kwargs)
        self.scorer = model.get_layer("scorer")

    def call(self, inputs, training=None):
        return self.scorer.shared_negative_scores(inputs["head"], inputs["relation"], inputs["tail"],
                                                  inputs["negatives"], training=training)


def shared_negative_model(model):
    """The :class:`SharedNegativeModel` of ``model`` (same weights)."""
    return SharedNegativeModel(model, name=f"{model.name}_negatives")
