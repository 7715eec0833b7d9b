"""Fault tolerance: SIGKILL and rerun resumes exactly; NaN stops cleanly;
a corrupt checkpoint directory is an error, not a silent restart."""
import hashlib
import json
import signal
import subprocess
import sys
import time

from tests.conftest import ROOT, run_cli
from tests.helpers import tree_digest

EPOCHS = "6"


def cnn_command(ckpt, metrics):
    # `cnn` has dropout and shifts its training images: both must replay exactly.
    return ["cnn", "--epochs", EPOCHS, "--quiet", "--checkpoint-dir", str(ckpt), "--metrics-json", str(metrics)]


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


def test_nan_loss_stops_with_a_message_and_keeps_the_last_checkpoint(tmp_path):
    ckpt = tmp_path / "ckpt"
    ok = run_cli("cnn-doc000", "--epochs", "1", "--quiet", "--checkpoint-dir", str(ckpt))
    assert ok.returncode == 0
    before = hashlib.sha256((ckpt / "best.weights.h5").read_bytes()).hexdigest()
    out = run_cli("cnn-doc000", "--epochs", "2", "--quiet", "--checkpoint-dir", str(ckpt),
                  "--optimizer", "sgd", "--learning-rate", "1e9")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "training stopped: the loss became nan in epoch 1" in out.stderr
    assert hashlib.sha256((ckpt / "best.weights.h5").read_bytes()).hexdigest() == before


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


def test_logdir_gets_tensorboard_scalars(tmp_path):
    out = run_cli("cnn-doc000", "--epochs", "2", "--quiet", "--logdir", str(tmp_path / "tb"))
    assert out.returncode == 0, out.stderr[-2000:]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    train = EventAccumulator(str(tmp_path / "tb" / "train")).Reload()
    tags = train.Tags()["tensors"] + train.Tags()["scalars"]
    assert "epoch_loss" in tags and "epoch_accuracy" in tags
    values = [e for e in train.Tensors("epoch_loss")] if "epoch_loss" in train.Tags()["tensors"] else train.Scalars("epoch_loss")
    assert len(values) == 2
