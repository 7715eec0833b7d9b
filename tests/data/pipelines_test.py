"""Every tf.data pipeline keras_arch builds ends in :func:`keras_arch.data.splits.prefetched`:
tf.data's autotuning model is off (its thread can hold an iterator's deletion
for up to 60 s in TensorFlow 2.21; ``python -m benchmarks --only
iterator_teardown``), and the elements are what they were before it."""
import numpy as np
import pytest
import tensorflow as tf

from keras_arch.data import kg_batches, splits
from keras_arch.tasks import bert

X = np.arange(20, dtype="float32").reshape(10, 2)
Y = np.arange(10, dtype="int32")
IMAGES = np.arange(10 * 4 * 4, dtype="float32").reshape(10, 4, 4, 1)
TRIPLES = np.array([[0, 0, 1], [0, 0, 2], [1, 1, 0], [2, 0, 1]], dtype="int32")


def _bert():
    texts = np.array(["a good film", "a bad one", "fine"], dtype=object)
    return bert.make_dataset(texts, np.array([1, 0, 1]), bert.tokenizer_for(None, 16), 2, shuffle=True)


PIPELINES = {
    "make_dataset": lambda: splits.make_dataset(X, Y, 4),
    "make_dataset shuffled": lambda: splits.make_dataset(X, Y, 4, shuffle=True, seed=1),
    "make_dataset shifted": lambda: splits.make_dataset(IMAGES, Y, 4, shuffle=True, shift=1),
    "make_dataset per epoch": lambda: splits.make_dataset(X, Y, 4, shuffle=True, epochs=2),
    "make_dataset per epoch shifted": lambda: splits.make_dataset(IMAGES, Y, 4, shuffle=True, shift=1, epochs=2),
    "kg 1-N": lambda: kg_batches.one_to_n_dataset(TRIPLES, 3, 2, seed=0)[0],
    "kg negatives": lambda: kg_batches.negative_dataset(TRIPLES, 3, 2, negatives=2, seed=0)[0],
    "bert": _bert,
    "batched": lambda: splits.batched(X, 4),
    "batched dict": lambda: splits.batched({"a": X, "b": Y}, 4),
}


def test_tf_data_tunes_by_default():
    # so the option checked below is one prefetched sets, not TensorFlow's default
    assert tf.data.Dataset.range(3).prefetch(tf.data.AUTOTUNE).options().autotune.enabled is not False


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_pipeline_turns_autotuning_off(name):
    ds = PIPELINES[name]()
    assert ds.options().autotune.enabled is False
    next(iter(ds))  # and it still runs


def test_prefetched_keeps_elements_and_order():
    batches = [(b.numpy(), l.numpy()) for b, l in splits.make_dataset(X, Y, 4)]
    assert [len(l) for _, l in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b for b, _ in batches]), X)
    np.testing.assert_array_equal(np.concatenate([l for _, l in batches]), Y)


def test_prefetched_sets_only_autotuning():
    ds = splits.prefetched(tf.data.Dataset.range(5).map(lambda i: i * 2, num_parallel_calls=tf.data.AUTOTUNE))
    assert list(ds.as_numpy_iterator()) == [0, 2, 4, 6, 8]
    options = ds.options()
    assert options.autotune.enabled is False
    assert options.deterministic is None and options.threading.private_threadpool_size is None


def test_batched_keeps_arrays_and_dicts_in_order():
    got = list(splits.batched({"a": X, "b": Y}, 4).as_numpy_iterator())
    assert [len(b["b"]) for b in got] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b["a"] for b in got]), X)
    np.testing.assert_array_equal(np.concatenate([b["b"] for b in got]), Y)
