"""A run, resolved and validated once before any data is read or TensorFlow
imported: the arch's recipe, its task, the options it was asked for.

:func:`prepare` is the one place a run's options are checked (the command
line, :func:`keras_arch.train` and Python callers of
:func:`keras_arch.training.train_lib.run` all go through it):
options the arch does not honour, contradictory combinations, a precision
policy it cannot train under, an unknown ``--dataset``, output paths it could
not write and a checkpoint directory of another arch are each refused with
one line (:class:`keras_arch.errors.UsageError`).

Anchor: TF Model Garden ``official/core/config_definitions.py``'s
ExperimentConfig (the task's config and the trainer's, checked together).
"""
from __future__ import annotations

import dataclasses

from keras_arch import options, paths, registry
from keras_arch.config import RunConfig, dataset_name
from keras_arch.recipe import Recipe
from keras_arch.training import checkpoints


@dataclasses.dataclass(frozen=True)
class Experiment:
    """One validated run.

    Args:
        recipe: the arch's recipe.
        task: its Task instance (made with ``config``).
        config: the options asked for.
    """
    recipe: Recipe
    task: object
    config: RunConfig

    @property
    def arch(self):
        return self.recipe.name


def prepare(arch, config=None, task=None):
    """Check ``config`` for ``arch`` and make its task: everything that can be
    refused from the options alone, before any data is read.

    Args:
        arch: a registered arch.
        config: the run's :class:`RunConfig` (default: every option at the recipe's value).
        task: a task instance to run instead of the recipe's (an in-memory
            knowledge graph, a distillation with a given teacher).
    """
    config = config or RunConfig()
    recipe = registry.get(arch)
    task_class = type(task) if task is not None else registry.resolve(recipe.task)
    options.check(recipe, task_class, config)
    dataset_name(config, recipe)
    paths.check_outputs(config, arch)
    if config.checkpoint_dir:
        checkpoints.check_arch(config.checkpoint_dir, arch)
    task = task if task is not None else task_class(recipe, config)
    task.check()
    return Experiment(recipe, task, config)
