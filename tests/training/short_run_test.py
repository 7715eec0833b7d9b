"""A run shorter than its recipe needs on that data is warned about, once,
before training (the transformer on generated reviews: docs/short-runs.md)."""
from keras_arch import registry
from keras_arch.training.train_lib import short_run_warning


def test_the_transformer_warns_below_three_epochs_on_generated_reviews_only():
    recipe = registry.get("transformer")
    line = short_run_warning(recipe, "generated", 2)
    assert line.startswith("transformer on generated data needs at least 3 epochs (")
    assert "--epochs 2 will likely stop" in line
    assert short_run_warning(recipe, "generated", 3) is None
    assert short_run_warning(recipe, "generated", 15) is None
    assert short_run_warning(recipe, "text", 1) is None  # rt-polarity: no plateau measured


def test_recipes_without_a_minimum_never_warn():
    for name in registry.names():
        recipe = registry.get(name)
        if not recipe.min_epochs:
            assert short_run_warning(recipe, "generated", 1) is None, name
