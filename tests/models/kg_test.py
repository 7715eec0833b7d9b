import numpy as np
import pytest

from keras_arch.layers.er_mlp_scorer import ERMLPScorer  # noqa: F401  (registers the class)
from keras_arch.models import kg
from tests.helpers import run_model_test
from keras_arch.reference import randomize, relu


def numpy_score(scorer, kind, h, r, t, combine="concat"):
    """f(h, r, t) of document 004 §3.3 and its baselines, from the layer's weights:
    mlp: w2 · relu(W1 (E(h) ⊕ E(t) ⊕ E(r)) + b1) + b2 (⊕ concatenation or sum);
    distmult: Σ_k E(h)_k R(r)_k E(t)_k;  transe: -scale · ||E(h) + R(r) - E(t)||."""
    e, rel = scorer.entity_embeddings.numpy(), scorer.relation_embeddings.numpy()
    if kind == "mlp":
        x = np.concatenate([e[h], e[t], rel[r]]) if combine == "concat" else e[h] + e[t] + rel[r]
        hidden = relu(x @ scorer.kernel1.numpy() + scorer.bias1.numpy())
        return hidden @ scorer.kernel2.numpy() + scorer.bias2.numpy()
    if kind == "distmult":
        return sum(e[h, k] * rel[r, k] * e[t, k] for k in range(e.shape[1]))
    return -scorer.scale.numpy() * np.sqrt(np.sum((e[h] + rel[r] - e[t]) ** 2))


@pytest.mark.parametrize("scorer, combine", [("mlp", "concat"), ("mlp", "sum"), ("distmult", None),
                                             ("transe", None)])
def test_every_model_scores_the_formula_on_its_own_weights(scorer, combine):
    """The 1-N, candidate and triple models against f(h, r, t) in NumPy, for
    every (query, entity) pair; asymmetric in h and t except where by design."""
    kwargs = {"combine": combine, "hidden": 5} if scorer == "mlp" else {}
    model = kg.kg_model(7, 3, scorer=scorer, dim=4, dropout=0.5, **kwargs)
    randomize(model, seed=0)
    layer = model.get_layer("scorer")
    heads, relations = np.array([0, 3, 6, 3], np.int32), np.array([2, 0, 1, 1], np.int32)
    scores = model({"head": heads, "relation": relations}, training=False).numpy()
    expected = np.array([[numpy_score(layer, scorer, h, r, t, combine) for t in range(7)]
                         for h, r in zip(heads, relations)])
    np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-5)
    tails = np.array([5, 1, 0, 3], np.int32)
    np.testing.assert_allclose(kg.triple_model(model)({"head": heads, "relation": relations, "tail": tails}),
                               [numpy_score(layer, scorer, h, r, t, combine)
                                for h, r, t in zip(heads, relations, tails)], rtol=1e-4, atol=1e-5)
    cands = np.array([[1, 2, 2], [3, 4, 0], [5, 5, 6], [0, 1, 2]], np.int32)
    got = kg.candidate_model(model)({"head": heads, "relation": relations, "candidates": cands}).numpy()
    np.testing.assert_allclose(got, [[numpy_score(layer, scorer, h, r, t, combine) for t in row]
                                     for h, r, row in zip(heads, relations, cands)], rtol=1e-4, atol=1e-5)
    # Shared negatives: column 0 the true tail, then the batch's K negatives;
    # a negative equal to the row's own tail (row 1's 1, row 3's 3) is masked to -1e9.
    negatives = np.array([2, 1, 6, 3], np.int32)
    got = kg.shared_negative_model(model)({"head": heads, "relation": relations, "tail": tails,
                                           "negatives": negatives}).numpy()
    expected = [[numpy_score(layer, scorer, h, r, t, combine)]
                + [-1e9 if n == t else numpy_score(layer, scorer, h, r, n, combine) for n in negatives]
                for h, r, t in zip(heads, relations, tails)]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("scorer", sorted(kg.SCORERS))
def test_three_models_share_one_scorer(scorer, tmp_path):
    model = kg.kg_model(11, 4, scorer=scorer, dim=6)
    x = {"head": np.array([0, 3, 10], np.int32), "relation": np.array([1, 3, 0], np.int32)}
    scores = run_model_test(model, x, (3, 11), tmp_path).numpy()
    tails = np.array([2, 10, 0], np.int32)
    np.testing.assert_allclose(kg.triple_model(model)({**x, "tail": tails}), scores[[0, 1, 2], tails], rtol=1e-5, atol=1e-6)
    cands = np.array([[1, 2], [3, 4], [5, 5]], np.int32)
    np.testing.assert_allclose(kg.candidate_model(model)({**x, "candidates": cands}),
                               np.take_along_axis(scores, cands, 1), rtol=1e-5, atol=1e-6)


def test_unknown_scorer():
    with pytest.raises(ValueError, match="scorer must be one of"):
        kg.kg_model(3, 2, scorer="rotate")
