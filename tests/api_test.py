"""keras_arch.train(arch, **options): the command line's options as keywords,
through the same parser and checks, with the same results."""
import contextlib
import io
import json
import os
import subprocess
import sys

import pytest

import keras_arch
from keras_arch import run
from keras_arch.errors import UsageError
from tests.conftest import ROOT

CASES = [  # (keywords, the command line they stand for)
    (dict(epoch=1), None),  # no abbreviation: an unknown keyword
    (dict(data_dir=""), ["--data-dir", ""]),
    (dict(seed=-1), ["--seed=-1"]),
    (dict(epochs=0), ["--epochs", "0"]),
    (dict(learning_rate="fast"), ["--learning-rate", "fast"]),
    (dict(optimizer="rmsprop"), ["--optimizer", "rmsprop"]),
    (dict(tflite="x.tflite"), ["--tflite", "x.tflite"]),
    (dict(prune=0.5), ["--prune", "0.5"]),
    (dict(quiet=1), None),  # a switch takes True/False
]


def cli_error(argv):
    """The line ``python -m keras_arch.run`` prints for ``argv``, without its prefix."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert run.main(argv) == 2
    return err.getvalue().strip().removeprefix(f"{run.PROG}: error: ")


@pytest.mark.parametrize("arch", ["kg", "transfer"])
@pytest.mark.parametrize("keywords,argv", CASES)
def test_the_same_refusals_as_the_command_line_before_any_work(monkeypatch, arch, keywords, argv):
    from keras_arch.training import train_lib
    monkeypatch.setattr(train_lib, "run", lambda *a, **k: pytest.fail("training started"))
    with pytest.raises(UsageError) as caught:
        keras_arch.train(arch, **keywords)
    if argv is None:
        assert str(caught.value).startswith(("unknown option 'epoch'", "--quiet (quiet=) is a switch"))
    else:
        assert str(caught.value) == cli_error([arch, *argv])


def test_keywords_become_the_command_line():
    assert run.argv_for("cnn", epochs=3, data_dir="d", quiet=True, jit=False, seed=None, learning_rate=3e-3) == \
        ["cnn", "--epochs=3", "--data-dir=d", "--quiet", "--learning-rate=0.003"]
    assert set(run.option_names()) >= {"data_dir", "checkpoint_dir", "metrics_json", "quiet", "seed"}


def test_import_keras_arch_train_imports_no_tensorflow():
    out = subprocess.run([sys.executable, "-c", "import sys, keras_arch; keras_arch.train; "
                          "print('tensorflow' in sys.modules)"], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.slow
def test_the_same_metrics_as_the_command_line(tmp_path):
    """One epoch of cnn-doc000, seed 3, from Python and from a fresh `run` process."""
    model, metrics = keras_arch.train("cnn-doc000", epochs=1, seed=3, quiet=True,
                                      metrics_json=str(tmp_path / "api.json"))
    assert model.name and os.path.exists(tmp_path / "api.json")
    out = subprocess.run([sys.executable, "-m", "keras_arch.run", "cnn-doc000", "--epochs", "1", "--seed", "3",
                          "--quiet", "--metrics-json", str(tmp_path / "cli.json")],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    cli = json.loads((tmp_path / "cli.json").read_text())
    assert cli["eval_accuracy"] == metrics["eval_accuracy"]
    assert cli["eval_loss"] == pytest.approx(metrics["eval_loss"], rel=1e-6)
    assert cli["config"] == json.loads(json.dumps(metrics["config"]))
