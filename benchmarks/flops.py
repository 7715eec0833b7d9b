"""The limit (issues #10 and #17): achieved training FLOP/s of the CNN and of
the BERT fine-tuning, in float32 and in mixed_bfloat16, as fractions of this
machine's dense float32 and bfloat16 matmul peaks, all measured in one run.

- peaks: the best of tf.matmul on 1024², 2048² and 4096² float32 (and
  bfloat16) matrices (2n³ FLOPs each);
- CNN (`cnn`, batch 128, 28x28): 3 x the analytical forward FLOPs (Conv2D and
  Dense multiply-adds; forward + two backward matmuls) x examples/s;
- BERT (all-MiniLM-L6-v2, batch 32, every sentence padded to 64 tokens so the
  work is known): 6 x encoder parameters x tokens + 12 x layers x length² x
  hidden x examples (Kaplan et al. 2020's training estimate, attention included).
Anchor: well-tuned dense training reaches 30-50% of peak on CPUs; small convs much less."""
import time

import numpy as np

NAME = "flops"


def matmul_peak(sizes=(1024, 2048, 4096), seconds=1.0, dtype="float32", jit_compile=False):
    """The best tf.matmul FLOP/s over ``sizes`` (square matrices of ``dtype``),
    as a TensorFlow graph or, with ``jit_compile``, compiled by XLA."""
    import tensorflow as tf
    best = 0.0
    for n in sizes:
        a, b = (tf.cast(tf.random.normal((n, n)), dtype) for _ in range(2))
        mm = tf.function(lambda a, b: tf.matmul(a, b), jit_compile=jit_compile)
        mm(a, b).numpy()
        reps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            mm(a, b).numpy()
            reps += 1
        best = max(best, 2 * n ** 3 * reps / (time.perf_counter() - start))
    return best


def _rate(model, x, y, batch, steps):
    for _ in range(3):  # trace and warm up
        model.train_on_batch(x[:batch], y[:batch])
    start = time.perf_counter()
    for i in range(steps):
        s = (i * batch) % (len(y) - batch)
        model.train_on_batch(x[s:s + batch], y[s:s + batch])
    return steps * batch / (time.perf_counter() - start)


def cnn_flops_rate(quick):
    from keras_arch import registry
    from keras_arch.config import Settings
    from keras_arch.data import images
    from keras_arch.models.flops import forward_flops
    from keras_arch.training.seeding import seed_everything
    from keras_arch.training.schedules import compile_model
    seed_everything(0)
    splits = images.load()
    model = registry.build("cnn", **splits.model_args())
    cfg = Settings(arch="cnn", dataset="digits", epochs=1, batch_size=128, learning_rate=1e-3, optimizer="adam",
                   lr_schedule="constant")
    compile_model(model, cfg, 100, "sparse_categorical_crossentropy")
    rate = _rate(model, splits.x_train, splits.y_train, 128, 20 if quick else 80)
    per_example = 3 * forward_flops(model)
    return rate, per_example


def bert_flops_rate(quick, length=64, batch=32):
    from keras_arch import registry
    from keras_arch.tasks import bert
    model = registry.build("bert")
    bert.compile_for_fine_tuning(model, 5e-5, 1000)
    splits = bert.load()
    tokenizer = bert.tokenizer_for("minilm", length)
    ds = bert.make_dataset(splits.x_train, splits.y_train, tokenizer, batch, shuffle=True, fixed_length=length)
    x, y = next(iter(ds.unbatch().batch(len(splits.y_train))))
    x = {k: v.numpy() for k, v in x.items()}
    encoder = model.get_layer("bert")
    params = sum(int(np.prod(w.shape)) for w in encoder.trainable_weights if "embeddings" not in w.name)
    cfg = encoder.config
    per_example = 6 * params * length + 12 * cfg.num_hidden_layers * length ** 2 * cfg.hidden_size
    # train_on_batch takes the dict of id tensors as one input structure
    class Feed:
        def __init__(self, d):
            self.d, self.n = d, len(next(iter(d.values())))

        def __len__(self):
            return self.n

        def __getitem__(self, sl):
            return {k: v[sl] for k, v in self.d.items()}
    rate = _rate(model, Feed(x), y.numpy(), batch, 4 if quick else 15)
    return rate, per_example, params


POLICIES = ("float32", "mixed_bfloat16")


def _under(policy, fn, *args):
    """fn(*args) with models built and trained under the Keras ``policy``."""
    from keras_arch.backend import keras
    keras.mixed_precision.set_global_policy(policy)
    try:
        return fn(*args)
    finally:
        keras.mixed_precision.set_global_policy("float32")


def run(quick=False):
    peaks = {p: matmul_peak(seconds=0.5 if quick else 2.0, dtype="float32" if p == "float32" else "bfloat16")
             for p in POLICIES}
    rows = [{"benchmark": NAME, "model": f"tf.matmul {'float32' if p == 'float32' else 'bfloat16'}, best of "
                                         f"1024/2048/4096", "precision": p, "flops_per_second": peaks[p],
             "fraction_of_float32_peak": peaks[p] / peaks["float32"],
             "fraction_of_bfloat16_peak": peaks[p] / peaks["mixed_bfloat16"],
             "anchor": "this machine's dense peak, measured in this run"} for p in POLICIES]
    models = (("run cnn train step (batch 128)", cnn_flops_rate, "small convs on CPU: a few % to ~20% of peak"),
              ("run bert train step (batch 32, 64 tokens; {:,} encoder weights)", bert_flops_rate,
               "dense training on CPU: ~30-50% of peak"))
    for label, fn, anchor in models:
        base = None
        for policy in POLICIES:
            rate, per_example, *params = _under(policy, fn, quick)
            base = base or rate
            achieved = rate * per_example
            rows.append({"benchmark": NAME, "model": label.format(*params), "precision": policy,
                         "examples_per_second": rate, "speedup_vs_float32": rate / base,
                         "flops_per_example": per_example, "flops_per_second": achieved,
                         "fraction_of_float32_peak": achieved / peaks["float32"],
                         "fraction_of_bfloat16_peak": achieved / peaks["mixed_bfloat16"], "anchor": anchor})
    own_peak = [r["flops_per_second"] / peaks[r["precision"]] for r in rows]
    return {"name": NAME, "rows": rows, "peaks": peaks,
            "checks": {"fractions of the policy's own peak below 1 (the estimate is sane)":
                       all(0 < f <= 1.0 for f in own_peak)}}
