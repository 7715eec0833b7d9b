"""Freshly built models start with distinct weights.

In tf_keras one unseeded initializer *instance* used for several weights gives
every one of them the same values: W_q = W_k = W_v makes QKᵀ symmetric at the
start of training and hides a transposed score matrix from the formula tests.
"""
import itertools

import numpy as np
import pytest

from keras_arch import registry
from keras_arch.backend import keras


def _matrices(model):
    """(name, value) of every weight with two or more axes (kernels, embeddings)."""
    return [(w.name, w.numpy()) for w in model.weights if len(w.shape) >= 2]


@pytest.mark.parametrize("arch", registry.names())
def test_no_two_kernels_of_a_fresh_model_are_equal(arch):
    recipe = registry.get(arch)
    splits = registry.resolve(recipe.data)(dataset=recipe.datasets[0])
    keras.utils.set_random_seed(0)
    model = registry.build(arch, **splits.model_args(), **recipe.small_builder_kwargs)
    matrices = _matrices(model)
    assert matrices, f"{arch} has no kernels to compare"
    same = [(a, b) for (a, x), (b, y) in itertools.combinations(matrices, 2)
            if x.shape == y.shape and np.array_equal(x, y) and np.any(x)]
    assert not same, f"{arch}: identical initial weights {same}"


def test_the_check_sees_a_shared_initializer_instance():
    """The failure this file guards against, reproduced: one instance, three kernels."""
    init = keras.initializers.GlorotUniform()
    inputs = keras.Input((4,))
    outputs = [keras.layers.Dense(3, kernel_initializer=init)(inputs) for _ in range(3)]
    model = keras.Model(inputs, outputs)
    (_, a), (_, b), (_, c) = _matrices(model)
    assert np.array_equal(a, b) and np.array_equal(b, c)
