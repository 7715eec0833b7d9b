import threading

import numpy as np
import pytest
import tensorflow as tf

from keras_arch.serving.export import load_servable


@pytest.mark.slow  # an end-to-end run of 15-70 s here (issue 18: the fast suite)
def test_eight_threads_mixed_batches_match_sequential_answers(exported):
    _, recipe, splits, path = exported[1]["cnn"]
    fn = load_servable(path).signatures["serving_default"]
    x = splits.eval_split()[1]
    batches = [x[i:i + b] for i, b in zip(range(0, 320, 40), [1, 3, 8, 17, 32, 1, 5, 40])]
    sequential = [fn(image=tf.constant(b))["probabilities"].numpy() for b in batches]
    results, errors = {}, []

    def worker(tid):
        try:
            for rep in range(3):
                for j in range(len(batches)):
                    k = (j + tid) % len(batches)
                    results[(tid, rep, k)] = fn(image=tf.constant(batches[k]))["probabilities"].numpy()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 8 * 3 * len(batches)
    for (_, _, k), out in results.items():
        np.testing.assert_allclose(out, sequential[k], rtol=1e-6, atol=1e-7)
