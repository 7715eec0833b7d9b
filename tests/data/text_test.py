import os

import numpy as np
import pytest

from keras_arch.data import text
from keras_arch.errors import UsageError
from tests.conftest import SHARED_DATA, needs_shared

RT = os.path.join(SHARED_DATA, "text", "rt-polarity")


def write_dir(root, classes):
    os.makedirs(root, exist_ok=True)
    for name, lines in classes.items():
        with open(os.path.join(root, f"{name}.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")


def test_class_dir_reads_one_file_per_class(tmp_path):
    write_dir(str(tmp_path), {"neg": ["bad film", "", "dull"] * 10, "pos": ["great fun", "lovely"] * 10})
    s = text.load(data_dir=str(tmp_path))
    assert s.num_classes == 2 and sum(s.sizes().values()) == 40  # blank lines skipped
    assert s.x_train.dtype == np.int32 and s.x_train.shape[1] == text.MAX_LENGTH
    assert s.vocabulary[:2] == ["", "[UNK]"]  # 0 pads, 1 is out of vocabulary
    assert s.builder_args["vocab_size"] == len(s.vocabulary)


@pytest.mark.parametrize("make, message", [
    (lambda d: None, "needs one text file per class"),
    (lambda d: write_dir(d, {"only": ["x"]}), "needs one text file per class"),
    (lambda d: write_dir(d, {"a": ["x"], "b": []}), "no examples"),
    (lambda d: (write_dir(d, {"a": ["x"]}), open(os.path.join(d, "b.txt"), "wb").write(b"\xff\xfe bad")),
     "not UTF-8"),
])
def test_bad_class_dirs_are_usage_errors(tmp_path, make, message):
    make(str(tmp_path))
    with pytest.raises(UsageError, match=message):
        text.read_class_dir(str(tmp_path))


def test_generated_reviews_need_the_negation():
    texts, labels, _ = text.generated_reviews(n=400)
    for t, y in zip(texts[:50], labels[:50]):
        words = t.split()
        positive = any(w in text.POSITIVE for w in words)
        negated = "not" in words or "never" in words
        assert y == int(positive != negated)
    assert 0.4 < labels.mean() < 0.6


def test_test_dir_must_have_the_same_classes(tmp_path):
    write_dir(str(tmp_path / "a"), {"neg": ["bad"] * 20, "pos": ["good"] * 20})
    write_dir(str(tmp_path / "b"), {"neg": ["awful"] * 5, "pos": ["fine"] * 5})
    write_dir(str(tmp_path / "c"), {"x": ["awful"] * 5, "y": ["fine"] * 5})
    s = text.load(data_dir=str(tmp_path / "a"), test_dir=str(tmp_path / "b"))
    assert s.sizes()["test"] == 10
    assert s.sizes()["train"] + s.sizes()["val"] == 40  # no 10% of --data-dir thrown away
    with pytest.raises(UsageError, match="differ"):
        text.load(data_dir=str(tmp_path / "a"), test_dir=str(tmp_path / "c"))


def test_imdb_through_tfds_offline_with_mock_data(monkeypatch):
    import tensorflow_datasets as tfds
    from keras_arch.data import tfds as tfds_offline
    monkeypatch.setattr(tfds_offline, "reachable", lambda *a, **k: True)  # mock_data stands in for the download
    with tfds.testing.mock_data(num_examples=60):
        s = text.load(dataset="imdb")
    assert s.name == "imdb-tfds" and s.num_classes == 2 and s.sizes()["test"] == 60


@needs_shared("text/rt-polarity")
def test_real_rt_polarity():
    s = text.load(data_dir=RT)
    assert sum(s.sizes().values()) == 9596 and s.num_classes == 2
    assert s.sizes()["test"] == 960
