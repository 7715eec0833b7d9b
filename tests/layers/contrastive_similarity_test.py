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
