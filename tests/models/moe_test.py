import numpy as np

from keras_arch.models import moe
from keras_arch.data.splits import Splits
from tests.helpers import run_model_test


def test_moe_transformer_padding_does_not_change_outputs_and_saves(tmp_path):
    model = moe.moe_transformer_classifier(vocab_size=50, num_classes=2, input_shape=(12,), embed_dim=16,
                                           num_heads=2, num_experts=3, expert_units=8, capacity_factor=4.0)
    ids = np.random.default_rng(0).integers(2, 50, size=(4, 8)).astype(np.int32)
    padded = np.pad(ids, [(0, 0), (0, 4)])
    out = run_model_test(model, padded, (4, 2), tmp_path)
    np.testing.assert_allclose(model(ids, training=False), out, rtol=1e-5, atol=1e-6)
    assert len(model.losses) == 1  # the block's load-balancing loss reaches the model


def test_moe_mlp_and_the_load_report(tmp_path):
    model = moe.moe_mlp((6,), num_classes=3, width=8, num_blocks=2, num_experts=4, expert_units=8)
    x = np.random.default_rng(1).normal(size=(64, 6)).astype(np.float32)
    run_model_test(model, x[:5], (5, 3), tmp_path)
    splits = Splits("t", x, np.zeros(64), x, np.zeros(64), 3)
    report = moe.expert_load(model, splits)
    for name in ("moe_0", "moe_1"):
        load = np.array(report[f"{name}_expert_load"])
        # every example is counted once: processed share + dropped share = 1
        assert abs(load.sum() + report[f"{name}_dropped_fraction"] - 1.0) < 1e-3
    assert len(report["report_rows"]) == 2
