import os

import numpy as np
import pytest

from keras_arch import registry
from keras_arch.serving import warmup
from keras_arch.serving.export import load_servable


@pytest.mark.parametrize("arch", registry.names())
def test_warmup_requests_replay_through_the_loaded_model(exported, arch):
    import tensorflow as tf
    model, recipe, splits, path = exported[1][arch]
    requests = warmup.read(os.path.join(path, "assets.extra", warmup.WARMUP_FILE))
    assert [len(next(iter(inputs.values()))) for _, _, inputs in requests] == [1, 8]
    loaded = load_servable(path)
    real = splits.eval_split()[1]
    for model_name, signature_name, inputs in requests:
        assert model_name == arch and signature_name == "serving_default"
        x = inputs[recipe.serving_input]
        np.testing.assert_array_equal(x, real[:len(x)])  # real samples, not zeros
        out = loaded.signatures[signature_name](**{k: tf.constant(v) for k, v in inputs.items()})
        np.testing.assert_allclose(out[recipe.serving_output].numpy(), model(x, training=False).numpy(),
                                   rtol=1e-5, atol=1e-6)
