"""tf.data pipelines of a knowledge graph's training triples (document 004
§4.3): 1-N batches (every (head, relation) query against all entities) and
batches against K sampled tails shared by the batch.
"""
import numpy as np
import tensorflow as tf

from keras_arch.data.kg import group_tails
from keras_arch.data.splits import prefetched


def one_to_n_dataset(train, num_entities, batch_size, seed, label_smoothing=0.0):
    """Infinite tf.data of ({head, relation}, normalised multi-hot tails)."""
    groups = group_tails(train)
    keys = np.array(list(groups), dtype=np.int32).reshape(-1, 2)
    tails = tf.RaggedTensor.from_row_lengths(
        np.concatenate(list(groups.values())).astype(np.int32), [len(v) for v in groups.values()])

    def to_dense(x, tails):
        rows = tails.value_rowids()
        batch = tf.shape(tails.row_lengths())[0]
        idx = tf.stack([tf.cast(rows, tf.int32), tails.flat_values], axis=1)
        target = tf.scatter_nd(idx, tf.ones_like(tails.flat_values, tf.float32), [batch, num_entities])
        target /= tf.reduce_sum(target, axis=1, keepdims=True)  # (batch, entities), rows sum to 1
        if label_smoothing:
            target = target * (1 - label_smoothing) + label_smoothing / num_entities
        return x, target

    ds = tf.data.Dataset.from_tensor_slices(({"head": keys[:, 0], "relation": keys[:, 1]}, tails))
    ds = ds.shuffle(len(keys), seed=seed, reshuffle_each_iteration=True).repeat()
    ds = ds.batch(batch_size).map(to_dense, num_parallel_calls=tf.data.AUTOTUNE)
    return prefetched(ds), -(-len(keys) // batch_size)


def negative_dataset(train, num_entities, batch_size, negatives, seed):
    """Infinite tf.data of ({head, relation, tail (batch,), negatives (K,)}, 0):
    K tails drawn uniformly once per batch and shared by its triples (the
    label 0 is the true tail's column in :class:`SharedNegativeModel`'s scores)."""
    ds = tf.data.Dataset.from_tensor_slices((train[:, 0], train[:, 1], train[:, 2]))
    ds = ds.shuffle(len(train), seed=seed, reshuffle_each_iteration=True).repeat().batch(batch_size)

    def with_negatives(step, batch):
        h, r, t = batch
        # Stateless and keyed by the global step: same seed, same negatives.
        neg = tf.random.stateless_uniform([negatives], [seed, step], 0, num_entities, tf.int32)  # (K,)
        return {"head": h, "relation": r, "tail": t, "negatives": neg}, tf.zeros_like(t)

    ds = ds.enumerate().map(with_negatives, num_parallel_calls=tf.data.AUTOTUNE)
    return prefetched(ds), -(-len(train) // batch_size)
