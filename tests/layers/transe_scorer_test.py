import numpy as np

from keras_arch.layers.transe_scorer import TransEScorer
from tests.helpers import run_layer_test


def test_negative_translation_distance(tmp_path):
    layer = TransEScorer(6, 4, dim=3)
    h, r, t = np.array([0, 5], np.int32), np.array([3, 1], np.int32), np.array([2, 0], np.int32)
    out = run_layer_test(layer, [h, r], tmp_path)
    e, rel = layer.entity_embeddings.numpy(), layer.relation_embeddings.numpy()
    scale = layer.scale.numpy()
    expected = -scale * np.linalg.norm((e[h] + rel[r])[:, None, :] - e[None], axis=-1)  # (batch, entities)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer([h, r, t]), expected[[0, 1], t], rtol=1e-4, atol=1e-5)
    cands = np.array([[4, 0], [5, 1]], np.int32)
    np.testing.assert_allclose(layer([h, r, cands]), np.take_along_axis(expected, cands, 1), rtol=1e-4, atol=1e-5)
