from collections.abc import Mapping

import pytest

from keras_arch import registry
from keras_arch.serving.servable import export_arch


class Exports(Mapping):
    """{arch: (model, recipe, splits, version_dir)} of every registered arch,
    built (untrained: serving does not care) and exported under one base
    the first time a test asks for it, so that the fast suite exports only
    the archs it tests."""

    def __init__(self, base):
        self.base, self._done = base, {}

    def __getitem__(self, name):
        if name not in self._done:
            recipe = registry.get(name)  # KeyError-like UsageError for a wrong name
            splits = registry.resolve(recipe.data)(dataset=recipe.datasets[0])
            model = registry.build(name, **splits.model_args(), **recipe.small_builder_kwargs)
            self._done[name] = (model, recipe, splits, export_arch(model, recipe, self.base, splits))
        return self._done[name]

    def __iter__(self):
        return iter(registry.names())

    def __len__(self):
        return len(registry.names())


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """(base directory, :class:`Exports` of every arch under it)."""
    base = str(tmp_path_factory.mktemp("servables"))
    return base, Exports(base)


@pytest.fixture(scope="session")
def loaded(exported):
    """arch -> its export loaded once with tf.saved_model.load."""
    from keras_arch.serving.export import load_servable
    cache = {}

    def get(arch):
        if arch not in cache:
            cache[arch] = load_servable(exported[1][arch][3])
        return cache[arch]
    return get


@pytest.fixture(scope="session")
def served(exported):
    """arch -> its export loaded as TF Serving loads it (a TF1 session fed by name)."""
    from keras_arch.serving.session import SessionServable
    cache = {}

    def get(arch):
        if arch not in cache:
            cache[arch] = SessionServable(exported[1][arch][3])
        return cache[arch]
    return get
