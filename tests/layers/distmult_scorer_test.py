import numpy as np

from keras_arch.layers.distmult_scorer import DistMultScorer
from tests.helpers import run_layer_test


def test_trilinear_product_for_all_tails_candidates_and_triples(tmp_path):
    layer = DistMultScorer(6, 4, dim=3)
    h, r, t = np.array([0, 5], np.int32), np.array([3, 1], np.int32), np.array([2, 2], np.int32)
    out = run_layer_test(layer, [h, r], tmp_path)
    e, rel = layer.entity_embeddings.numpy(), layer.relation_embeddings.numpy()
    expected = np.einsum("bd,bd,nd->bn", e[h], rel[r], e)  # Σ_k h_k r_k t_k for every tail
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer([h, r, t]), expected[[0, 1], t], rtol=1e-5, atol=1e-6)
    cands = np.array([[4, 0, 1], [5, 5, 3]], np.int32)
    np.testing.assert_allclose(layer([h, r, cands]), np.take_along_axis(expected, cands, 1), rtol=1e-5, atol=1e-6)
