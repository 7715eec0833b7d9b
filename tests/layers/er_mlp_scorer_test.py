import numpy as np
import pytest

from keras_arch.layers.er_mlp_scorer import ERMLPScorer
from tests.helpers import run_layer_test

N, R, D, H = 7, 3, 4, 5


def numpy_score(layer, h, r, t):
    """Document 004 §3.3 literally: f = w2 · relu(W1 (E(h) ⊕ E(t) ⊕ E(r)) + b1) + b2."""
    e, rel = layer.entity_embeddings.numpy(), layer.relation_embeddings.numpy()
    if layer.combine == "concat":
        x = np.concatenate([e[h], e[t], rel[r]], axis=-1)
    else:
        x = e[h] + e[t] + rel[r]
    hidden = np.maximum(x @ layer.kernel1.numpy() + layer.bias1.numpy(), 0)
    return hidden @ layer.kernel2.numpy() + layer.bias2.numpy()


@pytest.mark.parametrize("combine", ["concat", "sum"])
def test_every_form_equals_the_formula(combine):
    layer = ERMLPScorer(N, R, dim=D, hidden=H, combine=combine)
    layer.build(None)
    rng = np.random.default_rng(0)
    for w in layer.weights:  # non-zero biases so that every term is checked
        w.assign(rng.normal(size=w.shape).astype(np.float32))
    h, r, t = np.array([0, 3, 6], np.int32), np.array([2, 0, 1], np.int32), np.array([5, 5, 1], np.int32)
    all_tails = layer([h, r]).numpy()  # (batch, entities)
    expected = np.stack([numpy_score(layer, h, r, np.full(3, j)) for j in range(N)], axis=1)
    np.testing.assert_allclose(all_tails, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer([h, r, t]).numpy(), numpy_score(layer, h, r, t), rtol=1e-5, atol=1e-5)
    cands = np.array([[1, 2], [6, 0], [3, 3]], np.int32)
    np.testing.assert_allclose(layer([h, r, cands]).numpy(), np.take_along_axis(expected, cands, 1),
                               rtol=1e-5, atol=1e-5)


def test_sum_cannot_tell_head_from_tail_and_concat_can():
    """The document's ⊕ = addition makes f(h, r, t) = f(t, r, h)."""
    h, r, t = np.array([0, 1], np.int32), np.array([0, 2], np.int32), np.array([4, 6], np.int32)
    s = ERMLPScorer(N, R, dim=D, hidden=H, combine="sum")
    np.testing.assert_allclose(s([h, r, t]), s([t, r, h]), rtol=1e-6)
    c = ERMLPScorer(N, R, dim=D, hidden=H, combine="concat")
    assert np.abs(c([h, r, t]).numpy() - c([t, r, h]).numpy()).max() > 1e-3


def test_bad_combine_is_refused():
    with pytest.raises(ValueError, match="combine"):
        ERMLPScorer(N, R, combine="product")


def test_config_and_save_load(tmp_path):
    layer = ERMLPScorer(N, R, dim=D, hidden=H, combine="sum", dropout=0.1, hidden_dropout=0.2)
    out = run_layer_test(layer, [np.array([1, 2], np.int32), np.array([0, 1], np.int32)], tmp_path)
    assert out.shape == (2, N)
