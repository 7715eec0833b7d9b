import numpy as np
import pytest

from keras_arch.data import images
from keras_arch.errors import UsageError
from tests.conftest import MNIST_DIR, needs_shared
from tests.data.idx_test import make_mnist_dir


def test_digits_are_mnist_like_and_stratified():
    s = images.load_digits()
    assert s.sizes() == {"train": 1257, "val": 180, "test": 360}
    assert s.x_train.shape[1:] == (28, 28, 1) and s.x_train.dtype == np.float32
    assert 0.0 <= s.x_train.min() and s.x_train.max() <= 1.0
    # Digits sit in the centre 20x20 box, as in MNIST: the 4-pixel border is empty.
    assert s.x_train[:, :4].max() == 0 and s.x_train[:, 24:].max() == 0
    for y in (s.y_train, s.y_val, s.y_test):
        counts = np.bincount(y, minlength=10)
        assert counts.max() - counts.min() <= 0.05 * len(y) + 2  # stratified
    # Fixed split: no example in two splits, same split every call.
    flat = lambda a: {row.tobytes() for row in a.reshape(len(a), -1)}  # noqa: E731
    assert not flat(s.x_test) & flat(s.x_train)
    np.testing.assert_array_equal(images.load_digits().y_test, s.y_test)


def test_idx_dir_without_t10k_holds_out_validation(tmp_path):
    make_mnist_dir(str(tmp_path), n=100)
    s = images.load(data_dir=str(tmp_path))
    assert s.sizes() == {"train": 90, "val": 10, "test": 0}
    assert s.eval_split()[0] == "val"
    assert s.x_train.max() <= 1.0 and s.x_train.shape[1:] == (28, 28, 1)


def test_t10k_files_become_the_test_split(tmp_path):
    make_mnist_dir(str(tmp_path), n=100)
    make_mnist_dir(str(tmp_path), n=20, prefix="t10k", seed=1)
    s = images.load(data_dir=str(tmp_path))
    assert s.sizes()["test"] == 20 and s.eval_split()[0] == "test"


def test_test_dir_evaluates_on_another_directory(tmp_path):
    make_mnist_dir(str(tmp_path / "train"), n=100)
    raw, _ = make_mnist_dir(str(tmp_path / "test"), n=20, prefix="t10k", seed=1)
    s = images.load(data_dir=str(tmp_path / "train"), test_dir=str(tmp_path / "test"))
    np.testing.assert_allclose(s.x_test[..., 0], raw / 255.0, rtol=1e-6)
    with pytest.raises(UsageError, match="no t10k"):
        images.load(data_dir=str(tmp_path / "train"), test_dir=str(tmp_path / "train"))


def test_missing_directories_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="no such directory"):
        images.load(data_dir=str(tmp_path / "absent"))
    with pytest.raises(UsageError, match="no train-images"):
        images.load(data_dir=str(tmp_path))


def test_tfds_mnist_code_path_offline_with_mock_data(monkeypatch):
    import tensorflow_datasets as tfds
    from keras_arch.data import tfds as tfds_offline
    monkeypatch.setattr(tfds_offline, "reachable", lambda *a, **k: True)  # mock_data stands in for the download
    with tfds.testing.mock_data(num_examples=300):
        s = images.load(dataset="mnist")
    assert s.name == "mnist-tfds"
    assert s.x_train.shape[1:] == (28, 28, 1) and s.x_train.dtype == np.float32
    assert s.sizes()["train"] + s.sizes()["val"] == 300 and s.sizes()["test"] == 300
    assert 0.0 <= s.x_train.min() and s.x_train.max() <= 1.0


@needs_shared("mnist")
def test_real_mnist_dir_split():
    s = images.load(data_dir=MNIST_DIR)
    assert s.sizes() == {"train": 54000, "val": 6000, "test": 0}
