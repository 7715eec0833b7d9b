import numpy as np

from keras_arch.models.multitask import multitask_cnn
from keras_arch.tasks.base import for_arch

targets = for_arch("multitask").targets


def test_two_heads_share_one_trunk():
    model = multitask_cnn((28, 28, 1), num_classes=10)
    out = model(np.zeros((2, 28, 28, 1), np.float32))
    assert out["digit"].shape == (2, 10) and out["parity"].shape == (2, 2)
    shared = model.get_layer("shared").output
    assert model.get_layer("digit").input is shared and model.get_layer("parity").input is shared
    assert targets(np.array([3, 4]))["parity"].tolist() == [1, 0]
