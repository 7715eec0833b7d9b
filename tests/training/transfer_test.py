import numpy as np

from keras_arch.models.cnn import doc000_cnn
from keras_arch.tasks.transfer import new_head, subset, trunk_layers


def test_subset_relabels_and_takes_n_per_class():
    y = np.array([5, 6, 5, 7, 0, 5, 6, 9])
    x = np.arange(len(y))
    xs, ys = subset(x, y, (5, 6, 7, 8, 9), per_class=2, seed=0)
    assert sorted(ys.tolist()) == [0, 0, 1, 1, 2, 4]
    assert all(y[i] - 5 == label for i, label in zip(xs, ys))


def test_new_head_keeps_the_pretrained_trunk_weights():
    source = doc000_cnn(num_classes=5)
    target = new_head(source, 5)
    assert target.get_layer("conv1") is source.get_layer("conv1")
    assert {l.name for l in target.layers} - {l.name for l in trunk_layers(target)} == {"target_dense", "target_probabilities"}
    assert "dense" not in {l.name for l in target.layers}  # the source's dense head is not reused
