"""TF Serving export under concurrency: one loaded SavedModel called from 1 and
from 8 threads with mixed batch sizes (1-32), side by side in this run.

Anchor: none published for this machine; the figures are the comparison
between 1 and 8 client threads (TF's inter-op pool serves them in parallel).
"""
import tempfile
import threading
import time

import numpy as np

NAME = "serving"
BATCHES = (1, 1, 1, 4, 8, 32)


def _drive(fn, inputs, threads, seconds):
    import tensorflow as tf
    latencies, count, stop = [], [0], time.perf_counter() + seconds
    lock = threading.Lock()

    def worker(tid):
        i = tid
        while time.perf_counter() < stop:
            x = inputs[i % len(inputs)]
            t0 = time.perf_counter()
            fn(image=tf.constant(x))
            dt = time.perf_counter() - t0
            with lock:
                latencies.append((len(x), dt))
                count[0] += len(x)
            i += 1

    start = time.perf_counter()
    ts = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.perf_counter() - start
    single = np.array([dt for b, dt in latencies if b == 1]) * 1000
    return {"threads": threads, "requests": len(latencies), "images_per_second": count[0] / wall,
            "p50_ms_batch1": float(np.percentile(single, 50)), "p99_ms_batch1": float(np.percentile(single, 99))}


def run(quick=False):
    from keras_arch import registry
    from keras_arch.serving.export import load_servable
    from keras_arch.serving.servable import export_arch
    recipe = registry.get("cnn")
    splits = registry.resolve(recipe.data)()
    model = registry.build("cnn")
    with tempfile.TemporaryDirectory() as base:
        fn = load_servable(export_arch(model, recipe, base, splits)).signatures["serving_default"]
        x = splits.x_test
        inputs = [x[i:i + b] for i, b in zip(range(0, 300, 40), BATCHES)]
        fn(image=x[:1])  # first call builds the graph
        seconds = 3 if quick else 10
        rows = [dict(benchmark=NAME, model="cnn SavedModel, mixed batches 1-32", **_drive(fn, inputs, n, seconds))
                for n in (1, 8)]
    return {"name": NAME, "rows": rows,
            "checks": {"8 threads serve without errors": rows[1]["requests"] > 0}}
