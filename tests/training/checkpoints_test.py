"""Fault tolerance: SIGKILL and rerun resumes exactly; NaN stops cleanly;
a corrupt checkpoint directory is an error, not a silent restart."""
import hashlib
import json
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, run_cli
from tests.helpers import tree_digest

EPOCHS = "6"


def cnn_command(ckpt, metrics):
    # `cnn` has dropout and shifts its training images: both must replay exactly.
    return ["cnn", "--epochs", EPOCHS, "--quiet", "--checkpoint-dir", str(ckpt), "--metrics-json", str(metrics)]


@pytest.mark.slow  # an end-to-end run of 15-70 s here (issue 18: the fast suite)
def test_sigkill_then_rerun_resumes_after_the_last_epoch_with_identical_results(tmp_path):
    straight = run_cli(*cnn_command(tmp_path / "a", tmp_path / "a.json"))
    assert straight.returncode == 0, straight.stderr[-2000:]
    history = tmp_path / "b" / "history.csv"
    proc = subprocess.Popen([sys.executable, "-m", "keras_arch.run", *cnn_command(tmp_path / "b", tmp_path / "b.json")],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if history.exists() and len(history.read_text().splitlines()) >= 4:  # header + 3 finished epochs
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    finished = len(history.read_text().splitlines()) - 1
    assert 3 <= finished < int(EPOCHS), "killed too late to test resuming"
    resumed = run_cli(*cnn_command(tmp_path / "b", tmp_path / "b.json"))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    a, b = (json.loads((tmp_path / f"{x}.json").read_text()) for x in "ab")
    assert b["resumed_at_epoch"] == finished and b["epochs_this_run"] == int(EPOCHS) - finished
    assert len(history.read_text().splitlines()) == 1 + int(EPOCHS)  # exactly the planned epochs, no repeats
    assert b["history"]["loss"] == a["history"]["loss"][finished:]
    assert (b["eval_accuracy"], b["eval_loss"]) == (a["eval_accuracy"], a["eval_loss"])


@pytest.mark.slow  # a CLI run that trains (about 9 s); CI runs it
def test_nan_loss_stops_the_command_with_one_line_and_saves_no_weights(tmp_path):
    ckpt = tmp_path / "ckpt"
    out = run_cli("cnn-doc000", "--epochs", "2", "--quiet", "--checkpoint-dir", str(ckpt),
                  "--optimizer", "sgd", "--learning-rate", "1e9")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "training stopped: the loss became nan in epoch 1" in out.stderr
    assert not (ckpt / "best.weights.h5").exists()  # nothing saved from a NaN epoch


def test_nan_in_a_later_epoch_keeps_the_last_good_checkpoint(tmp_path):
    """The trainer's own callback list (guard first, then the checkpoint
    callbacks): epoch 1 is finite, epoch 2 diverges; best.weights.h5 and the
    backup stay those of epoch 1."""
    import numpy as np
    import pytest
    from keras_arch.backend import keras
    from keras_arch.errors import TrainingError
    from keras_arch.training import checkpoints
    from keras_arch.config import RunConfig
    from keras_arch.training.trainer import standard_callbacks

    ckpt = tmp_path / "ckpt"
    seen = {}

    class Diverge(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                seen["best"] = hashlib.sha256((ckpt / "best.weights.h5").read_bytes()).hexdigest()
                self.model.optimizer.learning_rate.assign(1e30)

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.01), "mse")
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    run_info = {"arch": "tiny", "config": {}}
    callbacks = ([Diverge()] + standard_callbacks(RunConfig(checkpoint_dir=str(ckpt)))
                 + checkpoints.callbacks(str(ckpt), run_info))
    with pytest.raises(TrainingError, match="the loss became (nan|inf) in epoch 2"):
        model.fit(x, y, validation_data=(x, y), epochs=3, batch_size=16, verbose=0, callbacks=callbacks)
    assert hashlib.sha256((ckpt / "best.weights.h5").read_bytes()).hexdigest() == seen["best"]
    assert checkpoints.completed_epochs(str(ckpt)) == 1  # the backup holds epoch 1, not the NaN epoch


@pytest.mark.slow  # a CLI run (about 7 s); CI runs it
def test_a_corrupt_backup_is_an_error_and_is_left_alone(tmp_path):
    backup = tmp_path / "ckpt" / "backup" / "chief"
    backup.mkdir(parents=True)
    (backup / "checkpoint").write_text('model_checkpoint_path: "ckpt-3"\n')
    (backup / "ckpt-3.index").write_bytes(b"not a checkpoint")
    before = tree_digest(tmp_path / "ckpt")
    out = run_cli("cnn-doc000", "--epochs", "2", "--quiet", "--checkpoint-dir", str(tmp_path / "ckpt"))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "the backup in" in out.stderr and "is corrupt" in out.stderr and "move it away" in out.stderr
    assert tree_digest(tmp_path / "ckpt") == before


def test_resuming_a_different_run_is_refused(tmp_path):
    ckpt = tmp_path / "ckpt"
    (ckpt / "backup" / "chief").mkdir(parents=True)
    (ckpt / "backup" / "chief" / "checkpoint").write_text("")
    (ckpt / "run.json").write_text(json.dumps({"arch": "cnn", "config": {"batch_size": 32}}))
    out = run_cli("cnn-doc000", "--quiet", "--checkpoint-dir", str(ckpt))
    assert out.returncode == 2 and "holds a different run (arch 'cnn' -> 'cnn-doc000'" in out.stderr


@pytest.mark.slow  # a CLI run that trains (about 9 s); CI runs it
def test_logdir_gets_tensorboard_scalars(tmp_path):
    out = run_cli("cnn-doc000", "--epochs", "2", "--quiet", "--logdir", str(tmp_path / "tb"))
    assert out.returncode == 0, out.stderr[-2000:]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    train = EventAccumulator(str(tmp_path / "tb" / "train")).Reload()
    tags = train.Tags()["tensors"] + train.Tags()["scalars"]
    assert "epoch_loss" in tags and "epoch_accuracy" in tags
    values = [e for e in train.Tensors("epoch_loss")] if "epoch_loss" in train.Tags()["tensors"] else train.Scalars("epoch_loss")
    assert len(values) == 2


def test_a_checkpoint_rebuilds_with_the_runs_own_builder_arguments(tmp_path):
    # attention on real sentences widens its embedding to 128 through the
    # recipe's per-data-set builder_kwargs; run.json records them in "config",
    # and the rebuild must use them (the recipe's defaults give 64 and the
    # trained weights would not load).
    import numpy as np
    from keras_arch.models.attention import doc000_attention_classifier
    from keras_arch.training import checkpoints
    model = doc000_attention_classifier(vocab_size=30, num_classes=2, embed_dim=16, units=8)
    model.save_weights(str(tmp_path / checkpoints.BEST))
    info = {"arch": "attention", "model_args": {"num_classes": 2, "vocab_size": 30, "input_shape": [50]},
            "config": {"builder_kwargs": {"embedding_dropout": 0.3, "embed_dim": 16, "units": 8}}}
    (tmp_path / checkpoints.RUN).write_text(json.dumps(info))
    arch, rebuilt = checkpoints.load_model(str(tmp_path))
    assert arch == "attention"
    for a, b in zip(model.get_weights(), rebuilt.get_weights()):
        np.testing.assert_array_equal(a, b)
