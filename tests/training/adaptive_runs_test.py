"""`run moe`, `run early-exit`, `run transfer`, `run multitask` offline on the
embedded defaults, with their measured results as thresholds."""
import json

import pytest

from tests.conftest import SHARED_DATA, needs_shared, run_cli


def run_json(tmp_path, *args):
    path = tmp_path / "m.json"
    out = run_cli(*args, "--quiet", "--metrics-json", str(path), timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(path.read_text()), out.stdout


@pytest.mark.slow
def test_run_moe_reports_a_balanced_load(tmp_path):
    m, stdout = run_json(tmp_path, "moe")
    assert m["test_accuracy"] >= 0.95  # measured 1.00 on the generated reviews
    load = m["encoder_0/moe_expert_load"]
    assert len(load) == 4 and max(load) < 0.5 and min(load) > 0.05, load
    assert "encoder_0/moe expert load" in stdout


@pytest.mark.slow  # an end-to-end run of 15-70 s here (issue 18: the fast suite)
def test_run_early_exit_trades_accuracy_for_compute(tmp_path):
    m, _ = run_json(tmp_path, "early-exit", "--plot", str(tmp_path / "p"))
    rows = {r["threshold"]: r for r in m["tradeoff"]}
    assert rows[1.0]["accuracy"] >= 0.97 and rows[1.0]["exit_shares"] == [0, 0, 1]
    assert rows[0.0]["exit_shares"][0] == 1 and rows[0.0]["relative_compute"] < 0.1
    # measured: threshold 0.95 keeps full accuracy at about a fifth of the compute
    assert rows[0.95]["accuracy"] >= rows[1.0]["accuracy"] - 0.01 and rows[0.95]["relative_compute"] < 0.5
    assert (tmp_path / "p" / "early_exit.png").stat().st_size > 5_000


@pytest.mark.slow  # an end-to-end run of 15-70 s here (issue 18: the fast suite)
def test_run_transfer_and_multitask(tmp_path):
    m, _ = run_json(tmp_path, "transfer", "--export", str(tmp_path / "servables"))
    assert m["source_accuracy"] >= 0.95 and m["labels_per_class"] == 20 and m["target_train"] == 100
    # 150 steps per target phase in batches of 32 from 100 images: 4 steps an epoch, ceil(150 / 4) = 38 epochs.
    assert m["config"]["batch_size"] == 32 and m["target_epochs"] == 38
    # The reported fine-tuned accuracy, recomputed from the exported model on the
    # 180 test images of digits 5-9 (labels 5..9 -> 0..4).
    import numpy as np
    import tensorflow as tf
    from keras_arch.data.images import load_digits
    _, x, y = load_digits().eval_split()
    x, y = x[y >= 5], y[y >= 5] - 5
    assert len(y) == 180
    served = tf.saved_model.load(m["export_path"]).signatures["serving_default"]
    p = served(image=tf.constant(x))["probabilities"].numpy()
    assert p.shape == (180, 5)
    assert m["fine_tuned_accuracy"] == pytest.approx(np.mean(p.argmax(1) == y), abs=1e-9)
    assert m["transfer_gain"] == pytest.approx(m["fine_tuned_accuracy"] - m["scratch_accuracy"])
    # Measured: frozen trunk 0.944, fine-tuned 0.939, scratch 0.939. On the embedded digits
    # transfer does not reliably beat scratch (5 labels a class: scratch 0.972, fine-tuned
    # 0.922), so no comparison here: the gain is checked on MNIST below. Each is a working
    # classifier of 5 classes (chance 0.2), a few test images below what was measured:
    for key in ("frozen_trunk_accuracy", "fine_tuned_accuracy", "scratch_accuracy"):
        assert m[key] >= 0.9, (key, m)
    m, _ = run_json(tmp_path, "multitask")
    assert m["test_digit_accuracy"] >= 0.97 and m["test_parity_accuracy"] >= 0.97, m


@pytest.mark.slow
@needs_shared("mnist")
def test_transfer_beats_scratch_on_mnist_with_10_labels_per_class(tmp_path):
    m, _ = run_json(tmp_path, "transfer", "--data-dir", f"{SHARED_DATA}/mnist", "--labels-per-class", "10")
    # measured: fine-tuned 0.915, frozen trunk 0.913, scratch 0.848
    assert m["fine_tuned_accuracy"] > m["scratch_accuracy"] + 0.03, m


@pytest.mark.slow  # CLI runs that train (about 12 s); CI runs it
def test_full_batch_is_one_step_per_epoch_and_refused_by_multi_phase_tasks(tmp_path):
    m, _ = run_json(tmp_path, "cnn-doc000", "--full-batch", "--epochs", "2", "--optimizer", "sgd")
    assert m["config"]["batch_size"] == m["data"]["train"] == 1257
    out = run_cli("transfer", "--full-batch", timeout=60)
    assert out.returncode == 2 and "--full-batch is not supported for transfer: its target phases" in out.stderr
    out = run_cli("cnn", "--full-batch", "--batch-size", "8", timeout=60)
    assert out.returncode == 2 and "contradict" in out.stderr
