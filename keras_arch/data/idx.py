"""Reader for the IDX files MNIST ships in (http://yann.lecun.com/exdb/mnist/
format), gzipped or not, with every check a corrupt file needs."""
from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

from keras_arch.errors import UsageError

# Magic numbers: two zero bytes, a type code (0x08 = unsigned byte), the rank.
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801


def read_idx(path, expect_magic):
    """Read one IDX file of unsigned bytes into a uint8 array."""
    try:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise UsageError(f"{path}: cannot read ({e})") from None
    if len(data) < 4:
        raise UsageError(f"{path}: truncated IDX file ({len(data)} bytes)")
    magic = int.from_bytes(data[:4], "big")
    if magic != expect_magic:
        raise UsageError(f"{path}: wrong magic number 0x{magic:08x}, expected 0x{expect_magic:08x}")
    rank = magic & 0xFF
    header = 4 + 4 * rank
    if len(data) < header:
        raise UsageError(f"{path}: truncated IDX header")
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    expected = header + int(np.prod(dims))
    if len(data) != expected:
        raise UsageError(
            f"{path}: {len(data)} bytes but the header {dims} implies {expected} (truncated or corrupt)")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _find(directory, stem):
    # Both spellings occur in the wild: train-images-idx3-ubyte and train-images.idx3-ubyte.
    for name in (stem, stem.replace("-idx", ".idx")):
        for suffix in ("", ".gz"):
            path = os.path.join(directory, name + suffix)
            if os.path.isfile(path):
                return path
    return None


def load_idx_pair(directory, prefix):
    """Images and labels for ``prefix`` ("train" or "t10k"), or None if absent."""
    images_path = _find(directory, f"{prefix}-images-idx3-ubyte")
    labels_path = _find(directory, f"{prefix}-labels-idx1-ubyte")
    if images_path is None and labels_path is None:
        return None
    if images_path is None or labels_path is None:
        missing = "images" if images_path is None else "labels"
        raise UsageError(f"{directory}: has {prefix} {'labels' if missing == 'images' else 'images'} but no {prefix} {missing} file")
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC)
    if images.ndim != 3:
        raise UsageError(f"{images_path}: expected rank-3 images, got shape {images.shape}")
    if labels.ndim != 1:
        raise UsageError(f"{labels_path}: expected rank-1 labels, got shape {labels.shape}")
    if len(images) != len(labels):
        raise UsageError(
            f"{directory}: {len(images)} {prefix} images but {len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise UsageError(f"{labels_path}: label {int(labels.max())} is outside 0-9")
    return images, labels
