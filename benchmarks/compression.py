"""Compression and distillation on real MNIST (document 002), one run:

- QAT -> full-int8 TFLite: int8 file <= 0.27x the float file; int8 accuracy
  within 0.3 points of the QAT Keras model and within 0.5 of the float model.
- 80% magnitude pruning: measured sparsity >= 0.79, gzip <= 0.35x dense,
  accuracy within 1 point; pruning-preserving QAT keeps sparsity >= 0.79.
- Distilled student (<= 1/10 of the teacher's parameters) >= the same student
  from scratch with the same budget (mean of 3 seeds), within 1 point of the teacher.
- Latency per image and throughput of Keras, SavedModel, TFLite float and
  TFLite int8 at batch 1 and 256.

Anchors: the TFMOT guides report ~4x smaller int8 models with negligible
accuracy change on MNIST, and 80% sparsity with ~1 point loss or less.
"""
import os
import tempfile
import time

import numpy as np
from keras_arch.shared import data_path

NAME = "compression"
DEFAULT_DIR = data_path("mnist")


def _time(fn, x, batch, seconds):
    fn(x[:batch])  # warm
    n, start = 0, time.perf_counter()
    lat = []
    while time.perf_counter() - start < seconds:
        i = (n * batch) % (len(x) - batch)
        t0 = time.perf_counter()
        fn(x[i:i + batch])
        lat.append(time.perf_counter() - t0)
        n += 1
    return {"batch": batch, "ms_per_image": 1000 * float(np.median(lat)) / batch,
            "images_per_second": batch * n / (time.perf_counter() - start)}


def latency_rows(model, recipe, splits, float_bytes, int8_bytes, seconds):
    import tensorflow as tf
    from keras_arch.optimize.tflite import TFLiteModel
    from keras_arch.serving.servable import export_arch
    from keras_arch.serving.export import load_servable
    x = splits.eval_split()[1][:2048]
    rows = []
    with tempfile.TemporaryDirectory() as base:
        sig = load_servable(export_arch(model, recipe, base, splits)).signatures["serving_default"]
        runners = {"Keras (model(x))": lambda b: model(b, training=False),
                   "SavedModel signature": lambda b: sig(image=tf.constant(b)),
                   "TFLite float": TFLiteModel(float_bytes), "TFLite int8": TFLiteModel(int8_bytes)}
        for label, fn in runners.items():
            for batch in (1, 256):
                rows.append({"benchmark": NAME, "model": f"latency: {label}", **_time(fn, x, batch, seconds)})
    return rows


def run(quick=False, data_dir=None):
    from keras_arch import registry
    from keras_arch.config import RunConfig
    from keras_arch.optimize.pipeline import compress_model
    from keras_arch.tasks.classification import ClassificationTask
    from keras_arch.tasks.distill import DistillTask
    from keras_arch.config import resolve_settings
    from keras_arch.training.train_lib import train
    data_dir = data_dir or os.environ.get("KERAS_ARCH_MNIST_DIR", DEFAULT_DIR)
    if not os.path.isdir(data_dir):
        return {"name": NAME, "skipped": f"no MNIST IDX files at {data_dir}"}
    recipe = registry.get("cnn")
    options = RunConfig(data_dir=data_dir, quiet=True)
    teacher, base = train("cnn", options)
    splits = registry.resolve(recipe.data)(data_dir=data_dir)
    settings = resolve_settings(options, recipe, splits.family)
    rows, checks = [], {}
    with tempfile.TemporaryDirectory() as d:
        _, q = compress_model(teacher, recipe, settings, splits, qat=True, tflite=os.path.join(d, "q.tflite"))
        _, p = compress_model(teacher, recipe, settings, splits, prune=0.8, qat=True,
                              tflite=os.path.join(d, "p.tflite"))
        float_bytes = open(os.path.join(d, "q-float.tflite"), "rb").read()
        int8_bytes = open(os.path.join(d, "q.tflite"), "rb").read()
    float_acc = base["val_accuracy"]
    t = q["tflite"]
    rows.append({"benchmark": NAME, "model": "cnn float (Keras)", "val_accuracy": float_acc,
                 "bytes": t["float_bytes"], "anchor": "TFMOT QAT guide: ~4x smaller, accuracy kept"})
    rows.append({"benchmark": NAME, "model": "cnn QAT (Keras)", "val_accuracy": q["qat"]["accuracy"]})
    rows.append({"benchmark": NAME, "model": "cnn QAT -> TFLite int8", "val_accuracy": t["int8_accuracy"],
                 "bytes": t["int8_bytes"], "size_ratio": t["size_ratio"]})
    rows.append({"benchmark": NAME, "model": "cnn TFLite float", "val_accuracy": t["float_accuracy"],
                 "bytes": t["float_bytes"]})
    checks["int8 size <= 0.27x float"] = t["size_ratio"] <= 0.27
    checks["int8 within 0.3 pt of QAT"] = abs(t["int8_accuracy"] - q["qat"]["accuracy"]) <= 0.003
    checks["int8 within 0.5 pt of float"] = abs(t["int8_accuracy"] - float_acc) <= 0.005
    pr = p["pruned"]
    gzip_ratio = pr["gzip_bytes"] / p["baseline"]["gzip_bytes"]
    rows.append({"benchmark": NAME, "model": "cnn pruned 80% (stripped)", "val_accuracy": pr["accuracy"],
                 "sparsity": pr["sparsity"], "gzip_bytes": pr["gzip_bytes"], "gzip_ratio": gzip_ratio,
                 "anchor": "TFMOT pruning guide: 80% sparse MNIST CNN, ~3x smaller gzip, <1 pt loss"})
    rows.append({"benchmark": NAME, "model": "cnn pruned 80% + pruning-preserving QAT",
                 "val_accuracy": p["qat"]["accuracy"], "sparsity": p["qat"]["sparsity"],
                 "int8_gzip_bytes": p["tflite"]["int8_gzip_bytes"]})
    checks["pruned sparsity >= 0.79"] = pr["sparsity"] >= 0.79
    checks["pruned gzip <= 0.35x dense"] = gzip_ratio <= 0.35
    checks["pruned within 1 pt"] = float_acc - pr["accuracy"] <= 0.01
    checks["PQAT keeps sparsity >= 0.79"] = p["qat"]["sparsity"] >= 0.79

    student_recipe = registry.get("distill")
    seeds = (0,) if quick else (0, 1, 2)
    distilled, scratch = [], []
    for seed in seeds:
        config = options.replace(seed=seed)
        # The same student, recipe and seed: distilled from the teacher, and trained alone.
        for task, out in ((DistillTask(student_recipe, config, teacher=teacher), distilled),
                          (ClassificationTask(student_recipe, config), scratch)):
            student, m = train("distill", config, task)
            out.append((m["eval_accuracy"], m["train_seconds"]))
    d_acc, s_acc = np.mean([a for a, _ in distilled]), np.mean([a for a, _ in scratch])
    rows.append({"benchmark": NAME, "model": f"student distilled (mean of {len(seeds)} seeds)",
                 "val_accuracy": float(d_acc), "parameters": student.count_params(),
                 "train_seconds": float(np.mean([s for _, s in distilled])),
                 "per_seed": [round(a, 4) for a, _ in distilled],
                 "anchor": "Hinton et al. 2015: distilled small nets beat the same net trained alone"})
    rows.append({"benchmark": NAME, "model": f"student from scratch (mean of {len(seeds)} seeds)",
                 "val_accuracy": float(s_acc), "parameters": student.count_params(),
                 "train_seconds": float(np.mean([s for _, s in scratch])),
                 "per_seed": [round(a, 4) for a, _ in scratch]})
    checks["student params <= 1/10 teacher"] = student.count_params() * 10 <= teacher.count_params()
    checks["distilled >= scratch (mean)"] = bool(d_acc >= s_acc)
    checks["distilled within 1 pt of teacher"] = float_acc - d_acc <= 0.01
    rows += latency_rows(teacher, recipe, splits, float_bytes, int8_bytes, 1.0 if quick else 3.0)
    return {"name": NAME, "rows": rows, "checks": checks}
