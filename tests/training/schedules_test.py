import math

import numpy as np
import pytest

from keras_arch.errors import UsageError
from keras_arch.training import schedules

PEAK, TOTAL, WARMUP = 0.3, 22, 4  # 22 steps: half is 11, three quarters 16 (an odd total would hide a rounding)
STEPS = (0, 1, 3, 4, 5, 10, 11, 12, 13, 16, 17, 21, 22, 30)


def expected(kind, step):
    """Each schedule's value at ``step`` (counted from 0), from its docstring."""
    if kind == "constant":
        return PEAK
    if kind == "step":  # x0.1 after half the steps, x0.01 after three quarters (boundary steps keep the old rate)
        return PEAK if step <= TOTAL // 2 else PEAK * 0.1 if step <= 3 * TOTAL // 4 else PEAK * 0.01
    if kind == "exponential":  # 1% of the start at the last step
        return PEAK * 0.01 ** (step / TOTAL)
    if kind == "cosine":
        return PEAK * 0.5 * (1 + math.cos(math.pi * min(step, TOTAL) / TOTAL))
    if step < WARMUP:  # linear warmup: step 0 already trains, at peak / warmup
        return PEAK * (step + 1) / WARMUP
    progress = min((step - WARMUP) / (TOTAL - WARMUP), 1.0)
    if kind == "warmup-cosine":
        return PEAK * 0.5 * (1 + math.cos(math.pi * progress))
    return PEAK * (1 - progress)  # warmup-linear


@pytest.mark.parametrize("kind", schedules.SCHEDULES)
def test_value_at_chosen_steps(kind):
    lr = schedules.make_schedule(kind, PEAK, TOTAL, WARMUP)
    got = [float(lr(s)) if callable(lr) else lr for s in STEPS]
    assert got == pytest.approx([expected(kind, s) for s in STEPS], rel=1e-5, abs=1e-8)


def test_values_written_out():
    """A few of the values above as numbers, in case the formulas above and the code share a slip."""
    step = schedules.make_schedule("step", 1.0, 100)
    assert [float(step(s)) for s in (0, 49, 50, 51, 74, 75, 76, 99)] == pytest.approx(
        [1, 1, 1, 0.1, 0.1, 0.1, 0.01, 0.01])
    exp = schedules.make_schedule("exponential", 1.0, 100)
    assert [float(exp(s)) for s in (0, 50, 100)] == pytest.approx([1.0, 0.1, 0.01], rel=1e-4)
    cos = schedules.make_schedule("cosine", 1.0, 100)
    assert [float(cos(s)) for s in (0, 50, 100, 150)] == pytest.approx([1.0, 0.5, 0.0, 0.0], abs=1e-6)
    wc = schedules.make_schedule("warmup-cosine", 1.0, 10, 2)
    assert [float(wc(s)) for s in (0, 1, 2, 6, 10)] == pytest.approx([0.5, 1.0, 1.0, 0.5, 0.0], abs=1e-6)
    wl = schedules.make_schedule("warmup-linear", 1.0, 10, 2)
    assert [float(wl(s)) for s in (0, 1, 2, 6, 9, 10, 12)] == pytest.approx(
        [0.5, 1.0, 1.0, 0.5, 0.125, 0.0, 0.0], abs=1e-6)
    no_warmup = schedules.make_schedule("warmup-cosine", 1.0, 10, 0)
    assert [float(no_warmup(s)) for s in (0, 5)] == pytest.approx([1.0, 0.5], abs=1e-6)


def test_sgd_steps_by_the_schedule_value_at_its_iteration():
    """One plain SGD step at iteration 13 moves a weight by lr(13) x gradient."""
    import tensorflow as tf
    opt = schedules.make_optimizer("sgd", schedules.make_schedule("warmup-linear", PEAK, TOTAL, WARMUP))
    v = tf.Variable([1.0, 2.0])
    opt.build([v])
    opt.iterations.assign(13)
    opt.apply_gradients([(tf.constant([1.0, -2.0]), v)])
    lr = expected("warmup-linear", 13)  # 0.3 * (1 - 9 / 18) = 0.15
    assert lr == pytest.approx(0.15)
    np.testing.assert_allclose(v.numpy(), [1.0 - lr, 2.0 + 2 * lr], rtol=1e-6)
    momentum = schedules.make_optimizer("momentum", 0.1)
    assert momentum.momentum == pytest.approx(0.9) and momentum.nesterov
    assert schedules.make_optimizer("adamw", 0.1).weight_decay == pytest.approx(0.01)


def test_clipnorm_scales_the_whole_gradient_to_that_global_norm():
    """Gradients (3, 4) and (12,) have global norm 13; clipped to 1.0 they are
    scaled by 1/13 together (per-tensor clipping would give 0.6, 0.8 and 1)."""
    import tensorflow as tf
    for name in ("sgd", "momentum", "adam", "adamw"):
        assert schedules.make_optimizer(name, 0.1, clipnorm=1.0).global_clipnorm == pytest.approx(1.0), name
    opt = schedules.make_optimizer("sgd", 0.5, clipnorm=1.0)
    a, b = tf.Variable([1.0, 1.0]), tf.Variable([1.0])
    opt.apply_gradients([(tf.constant([3.0, 4.0]), a), (tf.constant([12.0]), b)])
    np.testing.assert_allclose(a.numpy(), [1 - 0.5 * 3 / 13, 1 - 0.5 * 4 / 13], rtol=1e-6)
    np.testing.assert_allclose(b.numpy(), [1 - 0.5 * 12 / 13], rtol=1e-6)
    assert schedules.make_optimizer("sgd", 0.5).global_clipnorm is None


def test_every_schedule_and_optimizer_builds():
    for name in schedules.OPTIMIZERS:
        assert schedules.make_optimizer(name, 0.1).learning_rate.numpy() == np.float32(0.1)
    with pytest.raises(UsageError, match="unknown --lr-schedule"):
        schedules.make_schedule("linear", 0.1, 10)
    with pytest.raises(UsageError, match="unknown --optimizer"):
        schedules.make_optimizer("rmsprop", 0.1)


def test_the_trainer_clips_as_the_recipe_says():
    from keras_arch import registry
    from keras_arch.config import RunConfig, resolve_settings
    from keras_arch.training.schedules import optimizer_for
    settings = resolve_settings(RunConfig(), registry.get("seq2seq"))
    assert settings.clipnorm == 1.0
    assert optimizer_for(settings, 10).global_clipnorm == pytest.approx(1.0)
    assert optimizer_for(resolve_settings(RunConfig(), registry.get("cnn")), 10).global_clipnorm is None
