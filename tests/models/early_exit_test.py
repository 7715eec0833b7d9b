import numpy as np

from keras_arch.models import early_exit
from keras_arch.models.flops import forward_flops


def model_and_images(n=40):
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
    costs = early_exit.stage_flops(model)
    assert (flops0 == sum(costs[0])).all() and (flops == sum(sum(c) for c in costs)).all()


def test_an_intermediate_threshold_exits_exactly_the_confident_examples():
    model, x = model_and_images()
    full = model.predict(x, verbose=0)
    t = float(np.median(full["exit_1"].max(1)))
    preds, exits, _ = early_exit.predict(model, x, threshold=t, batch_size=7)
    first = full["exit_1"].max(1) > t
    assert (exits[first] == 0).all() and (exits[~first] > 0).all()
    second = ~first & (full["exit_2"].max(1) > t)
    assert (exits[second] == 1).all()
    expected = np.where(first, full["exit_1"].argmax(1), np.where(second, full["exit_2"].argmax(1),
                                                                   full["exit_3"].argmax(1)))
    np.testing.assert_array_equal(preds, expected)


def test_flops_by_hand_and_save_load(tmp_path):
    model, x = model_and_images(3)
    # stage 1: conv 3x3, 1->16 channels on 12x12 "same": 2*12*12*9*1*16; head 1: Dense 6*6*16 -> 4
    assert early_exit.stage_flops(model)[0] == (2 * 12 * 12 * 9 * 16, 2 * 6 * 6 * 16 * 4)
    assert forward_flops(model) == sum(sum(c) for c in early_exit.stage_flops(model))
    from keras_arch.backend import keras
    out = model(x)
    model.save(str(tmp_path / "m.keras"))
    loaded = keras.models.load_model(str(tmp_path / "m.keras"))
    for k in out:
        np.testing.assert_allclose(loaded(x)[k], out[k], rtol=1e-5, atol=1e-6)
