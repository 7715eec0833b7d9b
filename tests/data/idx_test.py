import gzip
import os

import numpy as np
import pytest

from keras_arch.data import idx
from keras_arch.errors import UsageError
from tests.conftest import MNIST_DIR, needs_shared


def write_idx(path, array, magic=None, truncate=0):
    rank = array.ndim
    magic = magic if magic is not None else (0x0800 | rank)
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    data = data[:len(data) - truncate] if truncate else data
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(data)


def make_mnist_dir(root, n=30, prefix="train", gz=True, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = np.arange(n, dtype=np.uint8) % 10
    ext = ".gz" if gz else ""
    os.makedirs(root, exist_ok=True)
    write_idx(os.path.join(root, f"{prefix}-images-idx3-ubyte{ext}"), images)
    write_idx(os.path.join(root, f"{prefix}-labels-idx1-ubyte{ext}"), labels)
    return images, labels


@pytest.mark.parametrize("gz", [True, False])
def test_round_trip(tmp_path, gz):
    images, labels = make_mnist_dir(str(tmp_path), gz=gz)
    got_images, got_labels = idx.load_idx_pair(str(tmp_path), "train")
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    assert idx.load_idx_pair(str(tmp_path), "t10k") is None


def test_dotted_file_names_are_found(tmp_path):
    images, _ = make_mnist_dir(str(tmp_path), gz=False)
    for kind in ("images-idx3", "labels-idx1"):
        os.rename(tmp_path / f"train-{kind}-ubyte", tmp_path / f"train-{kind.replace('-idx', '.idx')}-ubyte")
    np.testing.assert_array_equal(idx.load_idx_pair(str(tmp_path), "train")[0], images)


@pytest.mark.parametrize("defect, message", [
    ("truncated", "truncated or corrupt"),
    ("magic", "wrong magic number"),
    ("count", "30 train images but 29 labels"),
    ("not_gzip", "cannot read"),
    ("label_range", "outside 0-9"),
    ("missing_labels", "no train labels"),
])
def test_corrupt_files_raise_a_clear_usage_error(tmp_path, defect, message):
    root = str(tmp_path)
    images, labels = make_mnist_dir(root)
    images_path = os.path.join(root, "train-images-idx3-ubyte.gz")
    labels_path = os.path.join(root, "train-labels-idx1-ubyte.gz")
    if defect == "truncated":
        write_idx(images_path, images, truncate=100)
    elif defect == "magic":
        write_idx(images_path, images, magic=0x0000_0802)
    elif defect == "count":
        write_idx(labels_path, labels[:-1])
    elif defect == "not_gzip":
        with open(images_path, "wb") as f:
            f.write(b"this is not gzip")
    elif defect == "label_range":
        write_idx(labels_path, labels + 200)
    elif defect == "missing_labels":
        os.remove(labels_path)
    with pytest.raises(UsageError, match=message):
        idx.load_idx_pair(root, "train")


@needs_shared("mnist")
def test_reads_the_real_mnist_training_set():
    images, labels = idx.load_idx_pair(MNIST_DIR, "train")
    assert images.shape == (60000, 28, 28) and labels.shape == (60000,)
    assert np.bincount(labels).min() > 5000  # every digit is well represented
