import numpy as np
import pytest

from keras_arch.layers.er_mlp_scorer import ERMLPScorer  # noqa: F401  (registers the class)
from keras_arch.models import kg
from tests.helpers import run_model_test


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
