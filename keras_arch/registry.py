"""The registry of runnable architectures: each ARCH names its builder, its
default data and its training recipe.

Builders and loaders are named by dotted path ("module:function") so that
listing and validating recipes never imports TensorFlow. An arch is added
by one :func:`keras_arch.recipe.register` call in ``keras_arch/recipes.py``,
not by editing the CLI.
"""
from __future__ import annotations

import importlib
from typing import Callable

from keras_arch import recipes  # noqa: F401  (registers every arch; TensorFlow-free)
from keras_arch.errors import UsageError
from keras_arch.recipe import _RECIPES, Recipe, register  # noqa: F401  (Recipe, register: public here too)


def names():
    """Every registered arch, sorted."""
    return sorted(_RECIPES)


def get(name: str) -> Recipe:
    """The recipe of ``name``; an unknown name is a UsageError listing the known ones."""
    try:
        return _RECIPES[name]
    except KeyError:
        known = ", ".join(sorted(_RECIPES))
        raise UsageError(f"unknown arch {name!r}; known: {known}") from None


def resolve(path: str) -> Callable:
    """Import "module:function" lazily."""
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def build(name: str, **overrides):
    """The arch's builder called with its recipe's builder_kwargs, then ``overrides``."""
    recipe = get(name)
    kwargs = dict(recipe.builder_kwargs, **overrides)
    return resolve(recipe.builder)(**kwargs)
