"""The serving input contract's cost, and the measurement behind
batching_parameters.txt.

1. Checks: the `cnn` exported twice, with the in-graph checks
   (keras_arch.serving.signatures.guard) and without, loaded side by side.
   Batch-1 calls alternate one by one (with, without, without, with...),
   after a warm-up, so that this shared machine's load falls on both alike:
   median wall time per call and mean CPU time per call, three rounds of
   10,000 calls each, median round reported with the spread. Two call paths:
   the loaded tf.function signature (Python, what rest.predict uses) and a
   TF1 session fed by name (what TF Serving runs). Target: under 2%.
2. Batching: the guarded export's latency per batch size through the session
   path, and the throughput of concurrent batches from 1, 2 and 4 threads.
   keras_arch.serving.model_config.batching_parameters() derives its values
   from these figures (see choose()).

Anchor: TF Serving's batching guide, "CPU-only: One Approach": start with
num_batch_threads = CPU cores, batch_timeout_micros 0, then try 1-10 ms; for
online serving max_enqueued_batches = num_batch_threads.
"""
import os
import statistics
import tempfile
import threading
import time

import numpy as np

NAME = "serving_contract"
BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def _block_ms(call, x, calls):
    t0 = time.perf_counter()
    for _ in range(calls):
        call(x)
    return (time.perf_counter() - t0) / calls * 1000


def alternating(calls_by_variant, x, calls, warmup=300):
    """Per-call wall and CPU time of each variant, calls alternating one by
    one (A B B A A B ...) so that load from other processes on this shared
    machine falls on both alike. Returns {variant: {"wall_ms", "cpu_ms"}}:
    medians over the calls.

    CPU time (this process, all threads) is the checks' own cost and is
    steadier; wall time is what a client sees.
    """
    for call in calls_by_variant.values():
        for _ in range(warmup):
            call(x)
    names = list(calls_by_variant)
    walls = {n: [] for n in names}
    cpus = {n: [] for n in names}
    for i in range(calls):
        for n in (names if i % 2 == 0 else names[::-1]):
            c0, t0 = time.process_time(), time.perf_counter()
            calls_by_variant[n](x)
            walls[n].append((time.perf_counter() - t0) * 1000)
            cpus[n].append((time.process_time() - c0) * 1000)
    return {n: {"wall_ms": statistics.median(walls[n]), "cpu_ms": statistics.mean(cpus[n])} for n in names}


def batch_latencies(call, x_all, sizes=BATCH_SIZES, repeats=60):
    """[(batch, median ms, images/s)] through ``call``."""
    rows = []
    for b in sizes:
        x = x_all[:b]
        for _ in range(10):
            call(x)
        ms = statistics.median(_block_ms(call, x, 1) for _ in range(repeats))
        rows.append((b, ms, b / ms * 1000))
    return rows


def concurrent_throughput(call, x, threads, seconds):
    count, stop = [0], time.perf_counter() + seconds
    lock = threading.Lock()

    def worker():
        while time.perf_counter() < stop:
            call(x)
            with lock:
                count[0] += len(x)

    start = time.perf_counter()
    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return count[0] / (time.perf_counter() - start)


def choose(latencies, by_threads):
    """Batching parameters from the measurements.

    max_batch_size: the smallest batch within 10% of the best throughput
    (larger batches only add latency). batch_timeout_micros: the batch-1
    latency, so a lone request waits at most one batch-1 service time.
    num_batch_threads: the fewest threads within 5% of the best concurrent
    throughput. max_enqueued_batches: num_batch_threads (the guide's online
    setting, which bounds queueing delay).
    """
    best = max(t for _, _, t in latencies)
    max_batch = min(b for b, _, t in latencies if t >= 0.9 * best)
    batch1_ms = next(ms for b, ms, _ in latencies if b == 1)
    top = max(by_threads.values())
    threads = min(n for n, t in by_threads.items() if t >= 0.95 * top)
    return {"max_batch_size": max_batch, "batch_timeout_micros": int(round(batch1_ms * 1000, -2)),
            "num_batch_threads": threads, "max_enqueued_batches": threads}


def run(quick=False):
    import tensorflow as tf
    from keras_arch import registry
    from keras_arch.serving import signatures
    from keras_arch.serving.export import export_servable, load_servable
    from keras_arch.serving.session import SessionServable
    recipe = registry.get("cnn")
    splits = registry.resolve(recipe.data)()
    model = registry.build("cnn", **recipe.builder_kwargs)
    x_all = np.concatenate([splits.x_test] * 2)[:256]
    with tempfile.TemporaryDirectory() as base:
        exports = {checks: export_servable(model, os.path.join(base, str(checks)), "cnn",
                                         signatures.single_input(model, "image", "probabilities"), checks=checks)
                 for checks in (True, False)}
        fns = {c: load_servable(p).signatures["serving_default"] for c, p in exports.items()}
        sessions = {c: SessionServable(p) for c, p in exports.items()}
        calls, rounds = (2000, 1) if quick else (10000, 3)
        x1 = x_all[:1]
        call_paths = {"loaded tf.function signature": {"with": lambda x: fns[True](image=tf.constant(x)),
                                                       "without": lambda x: fns[False](image=tf.constant(x))},
                      "TF1 session fed by name (server path)": {
                          "with": lambda x: sessions[True].run("serving_default", {"image": x}),
                          "without": lambda x: sessions[False].run("serving_default", {"image": x})}}
        # Several rounds, paths taking turns: the median round is reported, with the spread.
        timed = {path: [] for path in call_paths}
        for _ in range(rounds):
            for path, variants in call_paths.items():
                timed[path].append(alternating(variants, x1, calls))
        guarded = lambda x: sessions[True].run("serving_default", {"image": x})  # noqa: E731
        latencies = batch_latencies(guarded, x_all, repeats=20 if quick else 60)
        by_threads = {n: concurrent_throughput(guarded, x_all[:32], n, 1 if quick else 4) for n in (1, 2, 4)}
    rows = []
    for path, results in timed.items():
        pct = lambda r, k: (r["with"][k] / r["without"][k] - 1) * 100  # noqa: E731
        order = sorted(range(len(results)), key=lambda i: pct(results[i], "wall_ms"))
        mid = results[order[len(order) // 2]]
        cpu = sorted(pct(r, "cpu_ms") for r in results)
        rows.append(dict(benchmark=NAME, what=f"batch-1, {path}",
                         with_checks_ms=mid["with"]["wall_ms"], without_checks_ms=mid["without"]["wall_ms"],
                         wall_overhead_pct=pct(mid, "wall_ms"),
                         wall_overhead_range=f"{pct(results[order[0]], 'wall_ms'):.2f} to "
                                             f"{pct(results[order[-1]], 'wall_ms'):.2f}",
                         with_checks_cpu_ms=mid["with"]["cpu_ms"], without_checks_cpu_ms=mid["without"]["cpu_ms"],
                         cpu_overhead_pct=cpu[len(cpu) // 2], cpu_overhead_range=f"{cpu[0]:.2f} to {cpu[-1]:.2f}"))
    rows += [dict(benchmark=NAME, what=f"batch {b}, session path", ms=ms, images_per_second=t)
             for b, ms, t in latencies]
    rows += [dict(benchmark=NAME, what=f"{n} concurrent batch-32 callers", images_per_second=t)
             for n, t in by_threads.items()]
    chosen = choose(latencies, by_threads)
    rows.append(dict(benchmark=NAME, what="chosen batching parameters", **chosen))
    return {"name": NAME, "rows": rows, "chosen": chosen,
            "checks": {"checks cost under 2% of batch-1 latency (server path, wall and CPU)":
                       rows[1]["wall_overhead_pct"] < 2.0 and rows[1]["cpu_overhead_pct"] < 2.0}}
