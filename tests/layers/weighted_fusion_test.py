import numpy as np

from keras_arch.layers.weighted_fusion import WeightedFusion
from tests.helpers import run_layer_test
from keras_arch.reference import randomize


def test_fusion_formula_against_numpy(tmp_path):
    """f(x_i, y_i) = Σ_j α_ij f_j(x_i) + Σ_k β_ik f_k(y_i), with Σα + Σβ = 1 per example."""
    rng = np.random.default_rng(0)
    inputs = [rng.normal(size=(3, d)).astype(np.float32) for d in (4, 6, 5)]  # N = 2 image, M = 1 text
    layer = WeightedFusion(7, num_image_features=2)
    layer(inputs)
    randomize(layer, seed=1)  # non-zero biases of f_j and f_k
    out = run_layer_test(layer, inputs, tmp_path)
    mapped = [x @ d.kernel.numpy() + d.bias.numpy() for d, x in zip(layer.maps, inputs)]  # f_j, f_k
    scores = np.stack([np.tanh(m) @ layer.score.kernel.numpy()[:, 0] for m in mapped], axis=1)  # (batch, 3)
    w = np.exp(scores) / np.exp(scores).sum(1, keepdims=True)
    alpha, beta = w[:, :2], w[:, 2:]
    expected = alpha[:, 0:1] * mapped[0] + alpha[:, 1:2] * mapped[1] + beta[:, 0:1] * mapped[2]
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(alpha.sum(1) + beta.sum(1), 1.0, rtol=1e-6)
    weights, _ = layer.weights_and_features(inputs)
    np.testing.assert_allclose(weights, w, rtol=1e-5)
    assert np.ptp(w[:, 0]) > 1e-4  # the weights depend on the example, as α_ij's subscript says
