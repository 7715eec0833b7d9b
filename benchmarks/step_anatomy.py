"""Where a BERT training step's time goes, float32 against mixed_bfloat16
(issue #30: "profile where the step's time goes and say what limits it").

One fixed batch (32 sentences x 53 tokens, the mean padded length of
rt-polarity's batches at ``--max-length 64``; then x 32 tokens, as at
``--max-length 32``) of the packaged
all-MiniLM-L6-v2 classifier, compiled as ``run bert`` compiles it:

- the step's wall time under each policy (median of the timed steps);
- its op time from TensorFlow's profiler, summed over the threads that run
  ops, in three parts: matrix products (MatMul / BatchMatMul, oneDNN's
  included), casts, and everything else (GELU, dropout, LayerNorm, softmax,
  bias gradients, gradient clipping, AdamW);
- the ceiling on bfloat16's gain that the part it cannot speed up leaves
  (Amdahl): float32 op time over bfloat16's op time without its matrix
  products, i.e. the ratio if bfloat16 matmuls took no time at all;
- tf.matmul 2048^3 in both dtypes as a TensorFlow graph (oneDNN, AMX where the
  CPU has it) and compiled by XLA (``--jit``), which decides whether XLA
  could fuse the rest without giving up AMX.

The profile is read from the XSpace protobuf TensorFlow writes
(``tf.profiler.experimental``); a TensorFlow without that module skips the
op-time columns and says so.
"""
import glob
import statistics
import tempfile
import time

NAME = "step_anatomy"
POLICIES = ("float32", "mixed_bfloat16")
# rt-polarity's mean padded batch length at --max-length 64, and --max-length 32 (the second target)
LENGTHS = (53, 32)
MATMULS = ("MatMul", "BatchMatMulV2", "BatchMatMulV3", "_MklMatMul", "_MklBatchMatMulV2", "_MklBatchMatMulV3",
           "_MklFusedMatMul", "_FusedMatMul")
CONTAINERS = ("PartitionedCall", "StatefulPartitionedCall")  # their ops are counted one by one


def _op_times(logdir, steps):
    """{op type: ms per step} over the profiler's op events ("name:Type") on
    the threads that run TensorFlow ops."""
    try:
        from tensorflow.tsl.profiler.protobuf import xplane_pb2
    except ImportError:
        return None
    out = {}
    for path in glob.glob(logdir + "/**/*.xplane.pb", recursive=True):
        space = xplane_pb2.XSpace()
        with open(path, "rb") as f:
            space.ParseFromString(f.read())
        for plane in space.planes:
            for line in plane.lines:
                if not line.name.startswith("tf_Compute"):
                    continue
                for event in line.events:
                    name = plane.event_metadata[event.metadata_id].name
                    if "::" in name or ":" not in name:
                        continue  # the executor's and the thread pool's own spans, which contain ops
                    kind = name.rsplit(":", 1)[1]
                    if kind in CONTAINERS:
                        continue
                    out[kind] = out.get(kind, 0.0) + event.duration_ps / 1e9 / steps
    return out


def _measure(length, batch, timed, profiled):
    """(median step ms, op times) of one compiled BERT train step under the
    global policy."""
    import numpy as np
    import tensorflow as tf
    from keras_arch.models.bert_classifier import DEFAULT, INPUTS, bert_classifier
    from keras_arch.tasks.bert import compile_for_fine_tuning
    from keras_arch.training.seeding import seed_everything
    seed_everything(0)
    model = bert_classifier(2, pretrained=DEFAULT)
    compile_for_fine_tuning(model, 5e-5, 1000)
    rng = np.random.default_rng(0)
    x = {"input_ids": tf.constant(rng.integers(1000, 30000, (batch, length)), tf.int32),
         "attention_mask": tf.ones((batch, length), tf.int32),
         "token_type_ids": tf.zeros((batch, length), tf.int32)}
    y = tf.constant(rng.integers(0, 2, batch))
    spec = ({n: tf.TensorSpec([None, None], tf.int32) for n in INPUTS}, tf.TensorSpec([None], tf.int64))
    step = tf.function(lambda x, y: model.train_step((x, y)), input_signature=spec)
    for _ in range(3):  # trace, create oneDNN's primitives
        step(x, y)["loss"].numpy()
    seconds = []
    for _ in range(timed):
        start = time.perf_counter()
        step(x, y)["loss"].numpy()
        seconds.append(time.perf_counter() - start)
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        for _ in range(profiled):
            step(x, y)["loss"].numpy()
        tf.profiler.experimental.stop()
        ops = _op_times(logdir, profiled)
    return 1000 * statistics.median(seconds), ops


def step_anatomy(policy, length=53, batch=32, timed=10, profiled=5):
    """(median step ms, {op type: ms per step} or None) under ``policy``."""
    from benchmarks.flops import _under
    return _under(policy, _measure, length, batch, timed, profiled)


def _rows(length, timed):
    rows, parts = [], {}
    what = f"bert train step, batch 32 x {length} tokens"
    for policy in POLICIES:
        wall, ops = step_anatomy(policy, length=length, timed=timed)
        row = {"benchmark": NAME, "what": what, "precision": policy, "unit": "ms per step", "wall": wall}
        if ops is None:
            row["note"] = "no op times: this TensorFlow has no tensorflow.tsl.profiler.protobuf"
        else:
            matmul, cast, total = sum(v for k, v in ops.items() if k in MATMULS), ops.get("Cast", 0.0), sum(ops.values())
            parts[policy] = {"op_total": total, "op_matmul": matmul, "op_cast": cast,
                             "op_rest": total - matmul - cast}
            row.update(parts[policy])
            row["note"] = "largest of the rest: " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(
                ((k, v) for k, v in ops.items() if k not in MATMULS and k != "Cast"), key=lambda kv: -kv[1])[:6])
        rows.append(row)
    ratio = {"benchmark": NAME, "what": what, "precision": "bfloat16 speedup", "unit": "float32 time / bfloat16 time",
             "wall": rows[0]["wall"] / rows[1]["wall"]}
    if len(parts) == 2:
        f32, bf16 = parts["float32"], parts["mixed_bfloat16"]
        ratio.update({k: f32[k] / bf16[k] for k in ("op_total", "op_matmul", "op_rest")})
        ratio["note"] = (f"op-time ceiling if bfloat16 matmuls took no time: "
                         f"{f32['op_total'] / (bf16['op_total'] - bf16['op_matmul']):.2f}x")
    return rows + [ratio]


def run(quick=False):
    from benchmarks.flops import matmul_peak
    rows = [r for length in LENGTHS for r in _rows(length, timed=5 if quick else 10)]
    seconds = 0.5 if quick else 2.0
    for jit in (False, True):
        rates = {dtype: matmul_peak((2048,), seconds, dtype, jit_compile=jit) for dtype in ("float32", "bfloat16")}
        rows.append({"benchmark": NAME, "what": f"tf.matmul 2048^3, {'XLA (--jit)' if jit else 'TensorFlow graph'}",
                     "precision": "bfloat16 speedup", "unit": "bfloat16 FLOP/s / float32 FLOP/s",
                     "wall": rates["bfloat16"] / rates["float32"],
                     "note": f"float32 {rates['float32'] / 1e9:.0f} GFLOP/s, "
                             f"bfloat16 {rates['bfloat16'] / 1e9:.0f} GFLOP/s"})
    return {"name": NAME, "rows": rows}
