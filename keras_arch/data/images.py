"""Image classification data: embedded digits (default), MNIST from IDX files
(--data-dir/--test-dir), MNIST through tensorflow-datasets (--dataset mnist)."""
from __future__ import annotations

import os

import numpy as np

from keras_arch.data import idx
from keras_arch.data import tfds as tfds_offline
from keras_arch.data.splits import Splits, stratified_split
from keras_arch.errors import UsageError

SPLIT_SEED = 0  # the splits are fixed; --seed changes training only
VAL_FRACTION = 0.1
IMAGE_SIZE = (28, 28)  # what every image builder takes (MNIST's size; the digits are centred on it)


def _as_images(x, path):
    """uint8 (n, 28, 28) -> float32 (n, 28, 28, 1) in [0, 1]; other sizes and
    no images at all are one line."""
    if len(x) == 0:
        raise UsageError(f"{path}: holds no images")
    if tuple(x.shape[1:]) != IMAGE_SIZE:
        raise UsageError(f"{path}: images are {x.shape[1]}x{x.shape[2]}; the image archs take "
                         f"{IMAGE_SIZE[0]}x{IMAGE_SIZE[1]} (MNIST's size)")
    return (x.astype(np.float32) / 255.0)[..., None]


def load_digits(test_fraction=0.2, val_fraction=VAL_FRACTION):
    """scikit-learn's bundled handwritten digits (1,797 real 8x8 scans, 0-16),
    made MNIST-like: each digit scaled to 20x20 and centred on a 28x28 canvas,
    as MNIST centres its digits in a 20x20 box. Stratified train/val/test."""
    from scipy.ndimage import zoom
    from sklearn.datasets import load_digits as sk_digits
    bunch = sk_digits()
    small = bunch.images.astype(np.float32) / 16.0  # (n, 8, 8) in [0, 1]
    big = np.clip(zoom(small, (1, 2.5, 2.5), order=1), 0.0, 1.0)  # (n, 20, 20)
    x = np.zeros((len(big), 28, 28, 1), np.float32)
    x[:, 4:24, 4:24, 0] = big
    y = bunch.target.astype(np.int64)
    x_rest, y_rest, x_test, y_test = stratified_split(x, y, test_fraction, SPLIT_SEED)
    x_train, y_train, x_val, y_val = stratified_split(
        x_rest, y_rest, val_fraction / (1 - test_fraction), SPLIT_SEED)
    return Splits("digits", x_train, y_train, x_val, y_val, 10, x_test, y_test)


def _check_dir(path, flag):
    if not os.path.isdir(path):
        raise UsageError(f"{flag} {path}: no such directory")


def load_mnist_dir(data_dir, test_dir=None):
    """MNIST from IDX files. Without t10k files in ``data_dir``, a stratified
    10% of train is held out for validation and metrics are reported on it."""
    _check_dir(data_dir, "--data-dir")
    train = idx.load_idx_pair(data_dir, "train")
    if train is None:
        raise UsageError(f"--data-dir {data_dir}: no train-images-idx3-ubyte[.gz] / train-labels-idx1-ubyte[.gz]")
    images = _as_images(train[0], f"--data-dir {data_dir}")
    x_train, y_train, x_val, y_val = stratified_split(images, train[1].astype(np.int64), VAL_FRACTION, SPLIT_SEED,
                                                      flag=f"--data-dir {data_dir}")
    test = idx.load_idx_pair(data_dir, "t10k")
    splits = Splits("mnist-idx", x_train, y_train, x_val, y_val, 10)
    if test is not None:
        splits.x_test, splits.y_test = _as_images(test[0], f"--data-dir {data_dir} (t10k)"), test[1].astype(np.int64)
    return splits


def load_mnist_tfds(data_dir=None):
    """MNIST through tensorflow-datasets (downloads once; needs a network:
    without one, fails within seconds and leaves nothing behind).

    Args:
        data_dir: tfds data directory (default $TFDS_DATA_DIR or ~/tensorflow_datasets).
    """
    datasets = tfds_offline.load("mnist", "--dataset mnist", ["train", "test"], data_dir, as_supervised=True)
    import tensorflow_datasets as tfds
    # Batches of 10k, not batch_size=-1: the whole-split load aborts the
    # process on generator-backed datasets (tfds.testing.mock_data).
    (x, y), (x_test, y_test) = [
        [np.concatenate(parts) for parts in zip(*tfds.as_numpy(ds.batch(10_000)))] for ds in datasets]
    x_train, y_train, x_val, y_val = stratified_split(
        x.astype(np.float32) / 255.0, y.astype(np.int64), VAL_FRACTION, SPLIT_SEED)  # (n, 28, 28, 1)
    return Splits("mnist-tfds", x_train, y_train, x_val, y_val, 10,
                  x_test.astype(np.float32) / 255.0, y_test.astype(np.int64))


def load(dataset="digits", data_dir=None, test_dir=None):
    """Entry point named by the image recipes."""
    if data_dir:
        splits = load_mnist_dir(data_dir)
    elif dataset == "mnist":
        splits = load_mnist_tfds()
    else:
        splits = load_digits()
    if test_dir:
        _check_dir(test_dir, "--test-dir")
        test = idx.load_idx_pair(test_dir, "t10k")
        if test is None:
            raise UsageError(f"--test-dir {test_dir}: no t10k-images-idx3-ubyte[.gz] / t10k-labels-idx1-ubyte[.gz]")
        splits.x_test, splits.y_test = _as_images(test[0], f"--test-dir {test_dir}"), test[1].astype(np.int64)
        splits.test_name = "test"
    return splits
