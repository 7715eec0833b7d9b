import os

import numpy as np
import pytest

from keras_arch.tasks.base import for_arch
from keras_arch import registry
from keras_arch.serving import warmup
from keras_arch.serving import signatures
from tests.conftest import arch_params


@pytest.mark.parametrize("arch", arch_params(registry.names()))  # one per serving path fast
def test_warmup_requests_replay_through_the_loaded_model(exported, loaded, arch):
    import tensorflow as tf
    model, recipe, splits, path = exported[1][arch]
    requests = warmup.read(os.path.join(path, "assets.extra", warmup.WARMUP_FILE))
    samples = for_arch(recipe.name).serving_samples(splits)
    assert sorted((sig, len(next(iter(inputs.values())))) for _, sig, inputs in requests) == sorted(
        (sig, b) for sig in samples for b in (1, 8))
    servable, in_memory = loaded(arch), for_arch(recipe.name).signatures(model)
    for model_name, signature_name, inputs in requests:
        assert model_name == arch
        for key, value in inputs.items():  # real samples, not zeros
            expected = samples[signature_name][key][:len(value)]
            if value.dtype == object:  # strings come back from the protos as bytes
                value, expected = value.astype(bytes), expected.astype(str).astype(bytes)
            np.testing.assert_array_equal(value, expected)
        out = servable.signatures[signature_name](**{k: tf.constant(v) for k, v in inputs.items()})
        for key, value in signatures.call(in_memory[signature_name], inputs).items():
            np.testing.assert_allclose(out[key].numpy(), value.numpy(), rtol=1e-5, atol=1e-6)
