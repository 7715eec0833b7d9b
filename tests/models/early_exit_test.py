import numpy as np
import pytest

from keras_arch.backend import keras
from keras_arch.models import early_exit
from keras_arch.models.flops import forward_flops

# FLOPs per example of early_exit_cnn((12, 12, 1), num_classes=4), by hand
# (2 x multiply-adds; "same" convs keep the size, each pool halves it):
STAGE = (2 * 12 * 12 * 3 * 3 * 1 * 16,  # conv 3x3, 1 -> 16 on 12x12 = 41,472; pool -> 6x6x16
         2 * 6 * 6 * 3 * 3 * 16 * 32,   # conv 3x3, 16 -> 32 on 6x6 = 331,776; pool -> 3x3x32
         2 * 3 * 3 * 3 * 3 * 32 * 64)   # conv 3x3, 32 -> 64 on 3x3 = 331,776; pool -> 1x1x64
HEAD = (2 * 576 * 4,                    # flatten 6*6*16 = 576 -> Dense 4 = 4,608
        2 * 288 * 4,                    # flatten 3*3*32 = 288 -> Dense 4 = 2,304
        2 * 64 * 64 + 2 * 64 * 4)       # 64 -> Dense 64 -> Dense 4 = 8,192 + 512 = 8,704
assert STAGE == (41_472, 331_776, 331_776) and HEAD == (4_608, 2_304, 8_704)
EXIT_COST = (46_080, 380_160, 720_640)  # leaving at exit 1, 2, 3: stages and heads run so far
PLAIN = 41_472 + 331_776 + 331_776 + 8_704  # the same CNN with only its last head: 713,728


def model_and_images(n=40):
    # Seeded: the saturated-head test needs every example's first-head logit
    # gap large enough; an unseeded model depended on what earlier tests drew.
    keras.utils.set_random_seed(0)
    model = early_exit.early_exit_cnn((12, 12, 1), num_classes=4)
    x = np.random.default_rng(0).random((n, 12, 12, 1)).astype(np.float32)
    return model, x


def test_threshold_one_is_the_full_network_and_zero_the_first_head():
    model, x = model_and_images()
    full = model.predict(x, verbose=0)
    preds, exits, flops = early_exit.predict(model, x, threshold=1.0, batch_size=16)
    np.testing.assert_array_equal(preds, full["exit_3"].argmax(1))
    assert (exits == 2).all()
    preds0, exits0, flops0 = early_exit.predict(model, x, threshold=0.0, batch_size=16)
    np.testing.assert_array_equal(preds0, full["exit_1"].argmax(1))
    assert (exits0 == 0).all()
    assert (flops0 == EXIT_COST[0]).all() and (flops == EXIT_COST[2]).all()


def test_an_intermediate_threshold_exits_exactly_the_confident_examples():
    model, x = model_and_images()
    full = model.predict(x, verbose=0)
    t = float(np.median(full["exit_1"].max(1)))
    preds, exits, flops = early_exit.predict(model, x, threshold=t, batch_size=7)
    first = full["exit_1"].max(1) > t
    assert (exits[first] == 0).all() and (exits[~first] > 0).all()
    second = ~first & (full["exit_2"].max(1) > t)
    assert (exits[second] == 1).all()
    expected = np.where(first, full["exit_1"].argmax(1), np.where(second, full["exit_2"].argmax(1),
                                                                   full["exit_3"].argmax(1)))
    np.testing.assert_array_equal(preds, expected)
    np.testing.assert_array_equal(flops, np.array(EXIT_COST)[exits])  # what each example ran, by hand
    assert len(set(exits.tolist())) >= 2


def test_threshold_is_strict_even_for_a_saturated_head():
    """An example leaves when max softmax > threshold, strictly: a saturated
    first head at a threshold of exactly its peak keeps everyone in flight,
    one float below it lets everyone out, and 1.0 never exits early. The
    peak is read, not assumed: float32's softmax saturates at 1 - 2^-24 on
    TensorFlow's own kernels and at exactly 1.0 where oneDNN is on."""
    model, x = model_and_images(8)
    dense = model.get_layer("exit_1").layers[-1]
    dense.kernel.assign(dense.kernel * 1e4)
    peaks = model.predict(x, verbose=0)["exit_1"].max(1)
    top = float(peaks.min())
    assert top >= np.nextafter(np.float32(1), np.float32(0))  # saturated, whichever kernel rounded it
    _, exits, _ = early_exit.predict(model, x, threshold=top)
    assert (exits[peaks == top] > 0).all()
    _, exits, _ = early_exit.predict(model, x, threshold=float(np.nextafter(np.float32(top), np.float32(0))))
    assert (exits == 0).all()
    _, exits, _ = early_exit.predict(model, x, threshold=1.0)
    assert (exits > 0).all()


def test_forward_flops_by_hand_for_valid_convs_and_dense_over_time():
    """doc000_cnn ("valid" convs shrink the maps: an input-size count differs):
    conv1 2*26*26*9*1*32 = 389,376; conv2 2*11*11*9*32*64 = 4,460,544;
    conv3 2*3*3*9*64*64 = 663,552; dense 2*576*64 = 73,728; out 2*64*10 = 1,280."""
    from keras_arch.backend import keras
    from keras_arch.models.cnn import doc000_cnn
    assert forward_flops(doc000_cnn()) == 389_376 + 4_460_544 + 663_552 + 73_728 + 1_280 == 5_588_480
    seq = keras.Input((7, 5))
    model = keras.Model(seq, keras.layers.Dense(3)(keras.layers.Dense(4)(seq)))
    assert forward_flops(model) == 2 * 5 * 4 * 7 + 2 * 4 * 3 * 7  # a Dense at each of 7 timesteps: 448


def test_flops_by_hand_and_save_load(tmp_path):
    model, x = model_and_images(3)
    assert early_exit.stage_flops(model) == [(STAGE[0], HEAD[0]), (STAGE[1], HEAD[1]), (STAGE[2], HEAD[2])]
    assert forward_flops(model) == 720_640
    y = np.arange(40) % 4
    rows, totals = early_exit.tradeoff(model, model_and_images()[1], y, thresholds=(0.0, 1.0))
    assert totals == {"all_heads_flops": 720_640, "plain_network_flops": PLAIN}
    assert rows[0]["mean_flops"] == EXIT_COST[0] and rows[1]["mean_flops"] == EXIT_COST[2]
    assert rows[0]["relative_compute"] == pytest.approx(46_080 / 713_728)
    assert rows[1]["relative_compute"] == pytest.approx(720_640 / 713_728)
    from keras_arch.backend import keras
    out = model(x)
    model.save(str(tmp_path / "m.keras"))
    loaded = keras.models.load_model(str(tmp_path / "m.keras"))
    for k in out:
        np.testing.assert_allclose(loaded(x)[k], out[k], rtol=1e-5, atol=1e-6)
