"""One run, start to end: data -> settings -> build -> fit -> evaluate ->
plots -> compress -> export, for every arch.

The :class:`~keras_arch.experiment.Experiment` was checked before this module
is imported (:func:`keras_arch.experiment.prepare`); here each step runs once
and hands its result to the next. What differs between archs is the task's
(:mod:`keras_arch.tasks`); fitting is the trainer's
(:class:`keras_arch.training.trainer.Trainer`).

Anchor: TF Model Garden ``official/core/train_lib.py`` (``run_experiment``
sequences the task and the trainer).
"""
from __future__ import annotations

import os
import sys

from keras_arch import plots, precision
from keras_arch.experiment import prepare
from keras_arch.optimize import pipeline
from keras_arch.serving.servable import export_arch
from keras_arch.training import checkpoints, distribute
from keras_arch.training.seeding import seed_everything
from keras_arch.training.trainer import Trainer


def train(arch, config=None, task=None):
    """Check, then run ``arch``: :func:`run` of :func:`keras_arch.experiment.prepare`.

    Args:
        arch: a registered arch.
        config: the run's :class:`keras_arch.config.RunConfig` (default: the
            recipe's settings on its embedded data).
        task: a task instance to run instead of the recipe's.

    Returns:
        (the model, the metrics dict that ``--metrics-json`` writes).
    """
    return run(prepare(arch, config, task))


def run(experiment):
    """Run a prepared experiment.

    Args:
        experiment: a :class:`keras_arch.experiment.Experiment`.

    Returns:
        (the model it evaluated, compressed and exported, the metrics dict).
    """
    config, task = experiment.config, experiment.task
    distribute.configure_devices(config.logical_devices)  # before TensorFlow initialises
    policy, why = precision.resolve(experiment.arch, config.precision, config.compress, task.float32_only)
    if config.strategy == "multi-worker":  # collective ops must exist before any TensorFlow op
        with distribute.scope(config.strategy, policy) as strategy:
            return _run(experiment, task.load_data(), strategy, policy, why)
    splits = task.load_data()  # a bad path is one line, not TensorFlow's start-up chatter
    with distribute.scope(config.strategy, policy) as strategy:
        return _run(experiment, splits, strategy, policy, why)


def _run(experiment, splits, strategy, policy, policy_reason):
    config, task = experiment.config, experiment.task
    settings = task.settings(splits, policy)
    warning = short_run_warning(experiment.recipe, splits.family, settings.epochs)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    distribute.per_replica_batch(settings.batch_size, strategy)
    run_info, start_epoch = None, 0
    if config.checkpoint_dir:  # the directory is validated before anything is written to it
        run_info = {"arch": experiment.arch, "model_args": splits.model_args(structure_only=True),
                    "config": settings.as_dict()}
        checkpoints.check_same_run(config.checkpoint_dir, run_info)
        checkpoints.check_writable(config.checkpoint_dir)
        checkpoints.check_backup(config.checkpoint_dir)
        start_epoch = min(checkpoints.completed_epochs(config.checkpoint_dir), settings.epochs)
    seed_everything(settings.seed, replayable=bool(config.checkpoint_dir), deterministic=not settings.jit)
    trainer = Trainer(config, run_info, chief=distribute.is_chief(), resumed=start_epoch > 0)

    model = task.build_model(splits, settings)
    fitted = task.fit(model, splits, settings, trainer.fit, start_epoch)
    model = fitted.model
    metrics = report(experiment.arch, model, splits, settings, trainer, fitted.history, start_epoch)
    metrics["distribution"] = {**distribute.describe(strategy, config), "precision": policy,
                               "precision_reason": policy_reason}
    metrics.update(task.evaluate(fitted, splits, settings))
    if config.plot:
        metrics["plots"] = draw(task, model, splits, metrics, config.plot)
    if config.compress:
        model, metrics["stages"] = pipeline.compress(model, task, settings, splits, config, trainer.verbose)
    metrics["summary"] = summary(task, splits, metrics)
    if config.export:
        metrics["export_path"] = export_arch(model, experiment.recipe, config.export, splits, task)
    return model, metrics


def report(arch, model, splits, settings, trainer, history, start_epoch=0):
    """What every run reports (and --metrics-json writes) beside the task's metrics."""
    split = splits.eval_split()[0]
    ran = len(history.get("loss", []))  # 0 when a resumed run had nothing left to train
    metrics = {"arch": arch, "eval_split": split, "epochs": settings.epochs, "epochs_this_run": ran,
               "resumed_at_epoch": start_epoch, "train_seconds": round(trainer.seconds, 3),
               "parameters": int(model.count_params()), "data": {"name": splits.name, **splits.sizes()},
               "config": settings.as_dict()}
    metrics["seconds_per_epoch"] = round(trainer.seconds / max(ran, 1), 3)
    if len(trainer.phases) == 1 and trainer.seconds > 0 and ran:
        metrics["samples_per_second"] = round(len(splits.y_train) * ran / trainer.seconds, 1)
    if len(trainer.phases) > 1:
        metrics["phases"] = [{"phase": label, "epochs": n} for label, n in trainer.phases]
    if history:
        metrics["history"] = history
        if "val_accuracy" in history:
            metrics["final_val_accuracy"] = history["val_accuracy"][-1]
    return metrics


def draw(task, model, splits, metrics, directory):
    """The training curves and the task's own figures, as PNGs in ``directory``."""
    os.makedirs(directory, exist_ok=True)
    out = []
    if metrics.get("history"):
        out.append(plots.training_curves(metrics["history"], os.path.join(directory, "training.png"), task.name))
    return out + task.plots(model, splits, metrics, directory)


def summary(task, splits, m):
    """The rows ``run`` prints."""
    rows = [("arch", m["arch"]), ("data", task.data_row(splits, m)), *task.summary_rows(m)]
    for stage, s in m.get("stages", {}).items():
        if stage == "tflite":
            rows.append(("tflite int8 / float", f"acc {s['int8_accuracy']:.4f} / {s['float_accuracy']:.4f}, "
                                                f"{s['int8_bytes']:,} / {s['float_bytes']:,} bytes"))
        elif stage != "baseline":
            extra = f", sparsity {s['sparsity']:.3f}" if "sparsity" in s else ""
            rows.append((f"{stage} accuracy", f"{s['accuracy']:.4f}{extra}"))
    rows += [tuple(r) for r in m.get("report_rows", [])]
    rows += [("epochs", task.epochs_row(m)), ("training seconds", f"{m['train_seconds']:.1f}")]
    if m["resumed_at_epoch"] and not m["epochs_this_run"]:
        rows.append(("resumed", f"all {m['resumed_at_epoch']} epochs were done already: nothing trained"))
    if "samples_per_second" in m:
        rows.append(("samples/s", f"{m['samples_per_second']:.0f}"))
    rows.append(("parameters", f"{m['parameters']:,}"))
    return rows


def short_run_warning(recipe, family, epochs):
    """The line to warn with when ``epochs`` is fewer than the recipe needs
    on this data family (``Recipe.min_epochs``), else None."""
    if family not in recipe.min_epochs or epochs >= recipe.min_epochs[family][0]:
        return None
    needed, why = recipe.min_epochs[family]
    return (f"{recipe.name} on {family} data needs at least {needed} epochs ({why}); "
            f"--epochs {epochs} will likely stop before it learns the task")
