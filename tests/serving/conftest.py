import pytest

from keras_arch import registry
from keras_arch.serving.servable import export_arch


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """Every registered arch, built (untrained: serving does not care) and exported once.
    Returns {arch: (model, recipe, splits, version_dir)}."""
    base = str(tmp_path_factory.mktemp("servables"))
    out = {}
    for name in registry.names():
        recipe = registry.get(name)
        splits = registry.resolve(recipe.data)(dataset=recipe.datasets[0])
        model = registry.build(name, **splits.model_args(), **recipe.small_builder_kwargs)
        out[name] = (model, recipe, splits, export_arch(model, recipe, base, splits))
    return base, out


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
