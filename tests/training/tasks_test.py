"""One trainer, every task: the options the multi-phase and multi-output
tasks used to ignore now have their effect (issue 14), shown per task on the
embedded data with one or two epochs."""
import json
import os

import pytest

from keras_arch import options, registry
from keras_arch.config import RunConfig, resolve_settings
from keras_arch.tasks.base import Task, for_arch, task_class
from tests.conftest import run_cli


def run_json(tmp_path, *args, timeout=600):
    path = tmp_path / "m.json"
    out = run_cli(*args, "--quiet", "--metrics-json", str(path), timeout=timeout)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(path.read_text()), out


def test_every_recipe_names_a_task_and_every_refusal_has_a_reason():
    for arch in registry.names():
        assert issubclass(task_class(registry.get(arch)), Task), arch
        assert all(reason.strip() for reason in options.refused(arch).values()), arch


def test_settings_resolve_the_recipe_for_the_data_family():
    recipe = registry.get("cnn")
    digits = resolve_settings(RunConfig(), recipe, "digits")
    assert (digits.epochs, digits.batch_size, digits.warmup_epochs, digits.augment_shift) == (30, 32, 1, 2)
    mnist = resolve_settings(RunConfig(epochs=2), recipe, "mnist")
    assert (mnist.epochs, mnist.batch_size, mnist.augment_shift) == (2, 128, 0)
    kg = resolve_settings(RunConfig(), registry.get("kg"), "family")
    assert kg.builder_kwargs["hidden"] == 100 and kg.builder_kwargs["dim"] == 100  # by_data over the recipe's


def test_a_python_caller_gets_the_same_refusal_as_the_command_line():
    from keras_arch.errors import UsageError
    from keras_arch.training.train_lib import train
    with pytest.raises(UsageError, match="--tflite is not supported for kg: ranking metrics"):
        train("kg", RunConfig(tflite="/tmp/x.tflite"))


@pytest.mark.slow
def test_distill_compresses_plots_and_logs_the_student(tmp_path):
    m, _ = run_json(tmp_path, "distill", "--epochs", "2", "--prune", "0.5", "--tflite", str(tmp_path / "s.tflite"),
                    "--plot", str(tmp_path / "p"), "--logdir", str(tmp_path / "tb"))
    assert m["parameters"] == 5258 and [p["phase"] for p in m["phases"]] == ["teacher", "student"]
    assert m["stages"]["pruned"]["sparsity"] > 0.45 and os.path.getsize(tmp_path / "s.tflite") > 0
    assert os.path.isfile(tmp_path / "p" / "training.png")
    assert len(os.listdir(tmp_path / "tb")) >= 1 and "distill_loss" in m["history"]


@pytest.mark.slow
def test_transfer_plots_its_target_phases_and_logs_every_fit(tmp_path):
    m, _ = run_json(tmp_path, "transfer", "--epochs", "1", "--labels-per-class", "5",
                    "--plot", str(tmp_path / "p"), "--logdir", str(tmp_path / "tb"))
    assert [p["phase"] for p in m["phases"]] == ["source", "frozen", "fine-tuned", "scratch"]
    assert len(m["history"]["loss"]) == 2 * m["target_epochs"]  # frozen + fine-tuned, one after the other
    assert os.path.isfile(tmp_path / "p" / "training.png") and os.listdir(tmp_path / "tb")


@pytest.mark.slow
def test_multi_output_tasks_checkpoint_and_train_full_batch(tmp_path):
    """--checkpoint-dir keeps best weights, run.json and the epoch log (the
    epoch-keyed data that makes a resume exact is the single-fit archs');
    --full-batch makes one batch of everything."""
    ckpt = tmp_path / "ck"
    first, _ = run_json(tmp_path, "multitask", "--epochs", "2", "--checkpoint-dir", str(ckpt))
    assert first["resumed_at_epoch"] == 0 and first["epochs_this_run"] == 2
    assert os.path.isfile(ckpt / "best.weights.h5") and len((ckpt / "history.csv").read_text().splitlines()) == 3
    m, _ = run_json(tmp_path, "early-exit", "--epochs", "1", "--full-batch", "--optimizer", "sgd")
    assert m["config"]["batch_size"] == m["data"]["train"]


def test_the_transfer_task_hands_on_the_fine_tuned_five_class_model():
    """What the run evaluates, compresses and exports is ``Fitted.model``:
    for transfer the model with the new 5-9 head, not the 0-4 source model
    it was built from (fits replaced by a stand-in: nothing trains)."""
    task = for_arch("transfer", RunConfig(epochs=1))
    splits = task.load_data()
    settings = task.settings(splits)
    source = task.build_model(splits, settings)
    labels = []

    def fit(model, train, val, epochs, steps, label="train", **_):
        labels.append(label)
        return {"loss": [1.0] * epochs}

    fitted = task.fit(source, splits, settings, fit)
    assert labels == ["source", "frozen", "fine-tuned", "scratch"]
    assert fitted.model is not source and fitted.model.name == "transfer"
    assert fitted.model.output_shape == (None, 5) and fitted.model.input is source.input
    assert len(fitted.history["loss"]) == 2 * fitted.state["target_epochs"]
    assert task.evaluate(fitted, splits, settings) == fitted.state


@pytest.mark.parametrize("jit", [False, True])
def test_bert_fine_tuning_compiles_with_xla_exactly_under_jit(jit):
    from keras_arch.models import bert_classifier as bc
    task = for_arch("bert", RunConfig(jit=jit))
    settings = resolve_settings(task.config, task.recipe, "generated", extras=task.extra_settings(None))
    model = task.compile_model(bc.bert_classifier(num_classes=2, pretrained=None), settings, steps_per_epoch=4)
    assert model.jit_compile is jit
    assert type(model.optimizer).__name__ == "FusedAdamW" and model.optimizer.global_clipnorm == 1.0
    assert model.optimizer.jit_compile  # the update is XLA-compiled whatever --jit says of the step
