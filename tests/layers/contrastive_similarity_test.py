import math

import numpy as np

from keras_arch.layers.contrastive_similarity import ContrastiveSimilarity
from tests.helpers import run_layer_test


def test_scaled_cosine_matrix_against_numpy(tmp_path):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 8)).astype(np.float32), rng.normal(size=(5, 8)).astype(np.float32)
    layer = ContrastiveSimilarity(initial_temperature=0.5)
    out = run_layer_test(layer, [a, b], tmp_path)
    cos = (a / np.linalg.norm(a, axis=1, keepdims=True)) @ (b / np.linalg.norm(b, axis=1, keepdims=True)).T
    np.testing.assert_allclose(out, cos / 0.5, rtol=1e-5, atol=1e-5)  # exp(log(1/T)) = 1/T
    assert out.shape == (5, 5)


def test_scale_is_capped():
    layer = ContrastiveSimilarity(max_scale=100.0)
    layer.build([(None, 2), (None, 2)])
    layer.log_scale.assign(math.log(1000.0))
    out = layer([np.eye(2, dtype=np.float32), np.eye(2, dtype=np.float32)]).numpy()
    np.testing.assert_allclose(out, 100.0 * np.eye(2), rtol=1e-6)


def test_non_square_matrix_with_a_learned_scale():
    """5 images against 3 captions, log-scale moved away from its start:
    S[i, j] = exp(s) cos(image_i, text_j), rows images, columns captions."""
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(5, 8)).astype(np.float32), rng.normal(size=(3, 8)).astype(np.float32)
    layer = ContrastiveSimilarity()
    layer.build([(None, 8), (None, 8)])
    layer.log_scale.assign(math.log(7.3))
    out = layer([a, b]).numpy()
    expected = np.zeros((5, 3))
    for i in range(5):
        for j in range(3):
            expected[i, j] = 7.3 * a[i] @ b[j] / (np.linalg.norm(a[i]) * np.linalg.norm(b[j]))
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
