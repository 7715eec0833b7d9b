"""What destroying a tf.data iterator costs, with tf.data's autotuning model on
(TensorFlow's default) and off (:func:`keras_arch.data.splits.prefetched`,
which every pipeline keras_arch builds ends with).

Keras destroys a finite training set's iterator at each epoch's end, the
validation iterator after each evaluation, and every iterator when ``fit``,
``evaluate`` or ``predict`` returns. With autotuning on, the destructor waits
for the iterator's model thread, and in TensorFlow 2.21 that thread can miss
the cancellation's wake-up and sleep out the rest of its tuning period, which
starts at 10 ms and doubles up to 60 s, so a missed wake-up costs up to about
as long as the iterator has lived, a minute at most. Here each iterator lives a
random 0.3-1.3 s (so a missed wake-up costs up to about 1.3 s) while the main
thread multiplies matrices between batches, as training does; a deletion over
50 ms counts as slow.

The pipeline is ``run bert``'s training pipeline on the embedded sentences
(shuffle, batch, the in-graph tokenizer as a parallel map, prefetch); "autotune
on" is the same pipeline with the option set back.
"""
import logging
import random
import time

NAME = "iterator_teardown"
SLOW_S = 0.05


def _deletions(make, iterators, seed=0):
    """Seconds each of ``iterators`` deletions took."""
    import tensorflow as tf
    x = tf.random.normal((256, 256))
    rng = random.Random(seed)
    out = []
    for _ in range(iterators):
        it = iter(make())
        start, life = time.perf_counter(), rng.uniform(0.3, 1.3)
        while time.perf_counter() - start < life:
            next(it)
            tf.linalg.matmul(x, x).numpy()  # the step the batch feeds
        start = time.perf_counter()
        del it
        out.append(time.perf_counter() - start)
    return out


def run(quick=False):
    import tensorflow as tf
    from keras_arch.tasks import bert

    splits = bert.load()
    tokenizer = bert.tokenizer_for(None, 64)

    def suite():
        return bert.make_dataset(splits.x_train, splits.y_train, tokenizer, 32, shuffle=True).repeat()

    def autotuned():
        options = tf.data.Options()
        options.autotune.enabled = True
        absl = logging.getLogger("absl")
        level = absl.level
        absl.setLevel(logging.ERROR)  # "Changing the value of option enabled": that is the point here
        try:
            return suite().with_options(options)
        finally:
            absl.setLevel(level)

    iterators = 30 if quick else 100
    rows = []
    for label, make in (("tf.data default (autotune on)", autotuned), ("keras_arch prefetched (autotune off)", suite)):
        times = _deletions(make, iterators)
        slow = [t for t in times if t > SLOW_S]
        rows.append({"benchmark": NAME, "pipeline": label, "iterators": iterators,
                     "slow deletions": len(slow), "seconds lost": round(sum(slow), 2),
                     "worst deletion s": round(max(times), 3)})
    return {"name": NAME, "rows": rows,
            "checks": {"no slow deletion with autotune off": rows[-1]["slow deletions"] == 0}}
