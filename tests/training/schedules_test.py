import numpy as np
import pytest

from keras_arch.errors import UsageError
from keras_arch.training import schedules


def test_step_and_exponential_schedules():
    step = schedules.make_schedule("step", 1.0, 100)
    assert [float(step(s)) for s in (0, 49, 51, 74, 76, 99)] == pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01])
    exp = schedules.make_schedule("exponential", 1.0, 100)
    assert float(exp(0)) == pytest.approx(1.0) and float(exp(50)) == pytest.approx(0.1, rel=1e-4)
    assert float(exp(100)) == pytest.approx(0.01, rel=1e-4)


def test_every_schedule_and_optimizer_builds():
    for kind in schedules.SCHEDULES:
        lr = schedules.make_schedule(kind, 0.1, 10, 2)
        value = float(lr(5)) if callable(lr) else lr
        assert 0 < value <= 0.1 + 1e-6
    for name in schedules.OPTIMIZERS:
        assert schedules.make_optimizer(name, 0.1).learning_rate.numpy() == np.float32(0.1)
    with pytest.raises(UsageError, match="unknown --lr-schedule"):
        schedules.make_schedule("linear", 0.1, 10)
