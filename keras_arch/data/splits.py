"""In-memory train/validation/test arrays and their tf.data pipelines."""
from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np

from keras_arch.errors import UsageError


@dataclasses.dataclass
class Splits:
    """Arrays for one data set. ``x_test`` is None where the source has no test
    set; the trainer then reports on the validation split."""
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    num_classes: int
    x_test: Optional[np.ndarray] = None
    y_test: Optional[np.ndarray] = None
    test_name: str = "test"
    # Extra builder arguments the data decides (vocab_size for text), and
    # what plots need to read examples back (vocabulary).
    builder_args: dict = dataclasses.field(default_factory=dict)
    vocabulary: Optional[list] = None

    @property
    def family(self):
        """"mnist" for "mnist-idx" and "mnist-tfds": what recipes key on."""
        return self.name.split("-")[0]

    @property
    def input_shape(self):
        if isinstance(self.x_train, dict):
            return {k: tuple(v.shape[1:]) for k, v in self.x_train.items()}
        return tuple(self.x_train.shape[1:])

    def model_args(self, structure_only=False):
        """Keyword arguments for the arch's builder.

        Args:
            structure_only: leave out initial weights (arrays, or functions
                returning them, such as ``word_vectors``): what run.json records to rebuild the model
                before its trained weights are loaded.
        """
        args = {"num_classes": self.num_classes, **self.builder_args}
        if structure_only:
            args = {k: v for k, v in args.items() if not (isinstance(v, np.ndarray) or callable(v))}
        if not isinstance(self.x_train, dict):
            args["input_shape"] = self.input_shape
        return args

    def eval_split(self):
        """(name, x, y) of the split final metrics are reported on."""
        if self.x_test is not None:
            return self.test_name, self.x_test, self.y_test
        return "val", self.x_val, self.y_val

    def sizes(self):
        test = 0 if self.y_test is None else len(self.y_test)
        return {"train": len(self.y_train), "val": len(self.y_val), "test": test}


def stratified_split(x, y, fraction, seed, flag="the data"):
    """Hold out ``fraction`` of (x, y), keeping class proportions; fixed seed.
    Too few examples for that (a class with one example, a held-out part
    smaller than the number of classes) is one line naming ``flag``."""
    from sklearn.model_selection import train_test_split
    try:
        x_a, x_b, y_a, y_b = train_test_split(x, y, test_size=fraction, stratify=y, random_state=seed)
    except ValueError as e:
        counts = np.bincount(np.asarray(y).astype(np.int64)) if len(y) else np.zeros(0)
        raise UsageError(f"{flag}: {len(y)} examples are too few to hold out a stratified {fraction:.0%} "
                         f"(the smallest class has {int(counts[counts > 0].min()) if counts.any() else 0}; "
                         f"{str(e).rstrip('.')})") from None
    return x_a, y_a, x_b, y_b


def make_dataset(x, y, batch_size, shuffle=False, seed=0, shift=0, epochs=None, start_epoch=0,
                 drop_remainder=False):
    """tf.data pipeline: cache the decoded tensors, reshuffle every epoch with a
    fixed seed (deterministic under op determinism), batch, prefetch.

    ``shift`` > 0 translates each training image by up to that many pixels
    (zero fill), a cheap augmentation for small image sets.

    With ``epochs``, the dataset holds epochs ``start_epoch`` .. ``epochs`` - 1
    back to back (fit it with ``steps_per_epoch``), and the order and the
    shifts of epoch e are a function of (seed, e) alone: a run resumed at epoch
    e sees exactly what an uninterrupted run saw there.

    ``x`` and ``y`` may be dicts of arrays (several inputs or outputs);
    ``drop_remainder`` drops each epoch's last, smaller batch."""
    import tensorflow as tf
    if shuffle and epochs is not None:
        return _epoch_keyed(x, y, batch_size, seed, shift, epochs, start_epoch, drop_remainder)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if shuffle:
        ds = ds.shuffle(_length(y), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if shift:
        from keras_arch.backend import keras
        height, width = x.shape[1:3]
        translate = keras.layers.RandomTranslation(
            shift / height, shift / width, fill_mode="constant", seed=seed)
        ds = ds.map(lambda images, labels: (translate(images, training=True), labels),
                    num_parallel_calls=tf.data.AUTOTUNE)
    return prefetched(ds)


def steps_per_epoch(n, batch_size, drop_remainder=False):
    return n // batch_size if drop_remainder else -(-n // batch_size)


def prefetched(ds):
    """``ds.prefetch(AUTOTUNE)`` with tf.data's autotuning model off: every
    pipeline keras_arch builds ends here.

    With autotuning on, each iterator runs a model thread that re-tunes the
    pipeline at a period that starts at 10 ms and doubles up to 60 s, and
    destroying the iterator waits for that thread. In TensorFlow 2.21 the
    thread can miss its wake-up: the cancellation callback wakes it before the
    CancellationManager marks itself cancelled, so it goes back to sleep for
    the rest of its period: up to about as long as the iterator has lived,
    60 s at most. Keras destroys a finite training set's iterator at each
    epoch's end, the validation iterator after each evaluation, and every
    iterator when ``fit``, ``evaluate`` or ``predict`` returns, so runs lost up to
    a minute at random there (``python -m benchmarks --only iterator_teardown``
    counts the slow deletions both ways). Without the model, AUTOTUNE
    parallelism is min(16, CPU cores), what the tuner chose for the BERT
    pipeline on this project's 2-core machines, and prefetch sizes its buffer
    with tf.data's older autotuner (it grows when the consumer finds it empty).

    Args:
        ds: a ``tf.data.Dataset``.
    """
    import tensorflow as tf
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.prefetch(tf.data.AUTOTUNE).with_options(options)


def batched(x, batch_size):
    """Arrays (or a dict of arrays) as a :func:`prefetched` dataset of batches,
    for ``predict``: Keras's own pipeline for arrays keeps autotuning on.

    Args:
        x: an array, or a dict of arrays of the same length.
        batch_size: examples per batch.
    """
    import tensorflow as tf
    return prefetched(tf.data.Dataset.from_tensor_slices(x).batch(batch_size))


def head(x, n):
    """The first ``n`` examples of inputs given as an array or a dict of arrays (seq2seq's two).

    Args:
        x: an array, or a dict of arrays of the same length.
        n: how many examples.
    """
    return {k: v[:n] for k, v in x.items()} if isinstance(x, dict) else x[:n]


def _length(y):
    """Examples in ``y`` (an array, or a dict of arrays)."""
    return len(y[next(iter(y))]) if isinstance(y, dict) else len(y)


def translate(images, offsets):
    """Shift each image (batch, h, w, c) by integer (dy, dx) pixels, zero fill."""
    import tensorflow as tf
    offsets = tf.cast(offsets, tf.float32)
    zeros, ones = tf.zeros_like(offsets[:, 0]), tf.ones_like(offsets[:, 0])
    # Output pixel (r, c) reads input (r - dy, c - dx): a projective transform per image.
    transforms = tf.stack([ones, zeros, -offsets[:, 1], zeros, ones, -offsets[:, 0], zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=tf.shape(images)[1:3], fill_value=0.0,
        interpolation="NEAREST", fill_mode="CONSTANT")


def _epoch_keyed(x, y, batch_size, seed, shift, epochs, start_epoch, drop_remainder=False):
    import tensorflow as tf
    n = _length(y)
    steps = steps_per_epoch(n, batch_size, drop_remainder)
    data = tf.nest.map_structure(tf.constant, (x, y))

    def epoch(e):
        order = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64), seed=tf.stack([seed, e]))
        batches = tf.data.Dataset.from_tensor_slices(order).batch(batch_size, drop_remainder).enumerate()
        return batches.map(lambda b, idx: (e * steps + b, tf.nest.map_structure(lambda t: tf.gather(t, idx), data)))

    ds = tf.data.Dataset.range(start_epoch, epochs).flat_map(epoch)
    if shift:
        def augment(step, batch):
            images, labels = batch
            offsets = tf.random.stateless_uniform([tf.shape(images)[0], 2], tf.stack([tf.cast(seed, tf.int64), step]),
                                                  -shift, shift + 1, tf.int32)
            return translate(images, offsets), labels
        return prefetched(ds.map(augment, num_parallel_calls=tf.data.AUTOTUNE))
    return prefetched(ds.map(lambda step, batch: batch))
