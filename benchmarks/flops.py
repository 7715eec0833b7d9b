"""The limit (issue #10): achieved training FLOP/s of the CNN and of the BERT
fine-tuning as a fraction of this machine's dense float32 matmul peak, all
measured in one run.

- peak: the best of tf.matmul on 1024², 2048² and 4096² float32 matrices (2n³ FLOPs each);
- CNN (`cnn`, batch 128, 28x28): 3 x the analytical forward FLOPs (Conv2D and
  Dense multiply-adds; forward + two backward matmuls) x examples/s;
- BERT (all-MiniLM-L6-v2, batch 32, every sentence padded to 64 tokens so the
  work is known): 6 x encoder parameters x tokens + 12 x layers x length² x
  hidden x examples (Kaplan et al. 2020's training estimate, attention included).
Anchor: well-tuned dense training reaches 30-50% of peak on CPUs; small convs much less."""
import time

import numpy as np

NAME = "flops"


def matmul_peak(sizes=(1024, 2048, 4096), seconds=1.0):
    import tensorflow as tf
    best = 0.0
    for n in sizes:
        a, b = tf.random.normal((n, n)), tf.random.normal((n, n))
        mm = tf.function(lambda a, b: tf.matmul(a, b))
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
    from keras_arch.data import images
    from keras_arch.models.flops import forward_flops
    from keras_arch.training.trainer import seed_everything
    from keras_arch.training.schedules import compile_model
    seed_everything(0)
    splits = images.load()
    model = registry.build("cnn", **splits.model_args())
    cfg = {"epochs": 1, "warmup_epochs": 0, "lr_schedule": "constant", "learning_rate": 1e-3, "optimizer": "adam"}
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


def run(quick=False):
    peak = matmul_peak(seconds=0.5 if quick else 2.0)
    rows = [{"benchmark": NAME, "model": "tf.matmul float32, best of 1024/2048/4096", "flops_per_second": peak,
             "fraction_of_peak": 1.0, "anchor": "this machine's dense peak, measured in this run"}]
    rate, per_example = cnn_flops_rate(quick)
    rows.append({"benchmark": NAME, "model": "run cnn train step (batch 128)", "examples_per_second": rate,
                 "flops_per_example": per_example, "flops_per_second": rate * per_example,
                 "fraction_of_peak": rate * per_example / peak,
                 "anchor": "small convs on CPU: a few % to ~20% of peak"})
    rate, per_example, params = bert_flops_rate(quick)
    rows.append({"benchmark": NAME, "model": f"run bert train step (batch 32, 64 tokens; {params:,} encoder weights)",
                 "examples_per_second": rate, "flops_per_example": per_example, "flops_per_second": rate * per_example,
                 "fraction_of_peak": rate * per_example / peak, "anchor": "dense training on CPU: ~30-50% of peak"})
    return {"name": NAME, "rows": rows, "checks": {"fractions below 1 (the estimate is sane)":
                                                   all(0 < r["fraction_of_peak"] <= 1.0 for r in rows)}}
