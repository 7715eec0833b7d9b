"""BERT fine-tuning (document 001) on the real sentence polarity data, one run:
accuracy on the held-out 10%, training examples/s, p50/p95 latency of the
text-in SavedModel for single sentences, and training throughput with dynamic
padding against padding every batch to a fixed max length, each as a ratio to
the peer measured in the same run: transformers' own
TFBertForSequenceClassification on the same weights, batches, optimizer and
loss (issue 17).

Anchor: BERT-size models report roughly 0.80-0.87 on this corpus. Target >= 0.80.
"""
import os
import tempfile
import time

import numpy as np
from keras_arch.shared import data_path

NAME = "bert"
DEFAULT_DIR = data_path("text", "rt-polarity")


def _throughput(model, ds, steps, warmup=8):
    it = iter(ds.repeat())
    for _ in range(warmup):  # new lengths retrace until tf.function relaxes to (None, None)
        model.train_on_batch(*next(it))
    n, start = 0, time.perf_counter()
    for _ in range(steps):
        x, y = next(it)
        model.train_on_batch(x, y)
        n += len(y)
    return n / (time.perf_counter() - start)


def peer_model(num_labels=2):
    """The peer: transformers' own TFBertForSequenceClassification on the same
    packaged all-MiniLM-L6-v2 weights (loaded the torch-free way keras_arch
    uses), compiled with the same AdamW schedule, clipping and loss (on logits)."""
    import transformers  # the peer only: keras_arch's own BERT path never imports it
    from safetensors.numpy import load_file
    from transformers.modeling_tf_pytorch_utils import load_pytorch_state_dict_in_tf2_model
    from keras_arch.backend import keras
    from keras_arch.models.bert_config import default_pretrained_dir
    from keras_arch.training.schedules import make_optimizer, make_schedule
    directory = default_pretrained_dir()
    config = transformers.BertConfig.from_pretrained(directory, num_labels=num_labels)
    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()  # "You should probably TRAIN this model": we do
    try:
        model = transformers.TFBertForSequenceClassification(config)
        model(model.dummy_inputs)
        load_pytorch_state_dict_in_tf2_model(model, load_file(os.path.join(directory, "model.safetensors")),
                                             allow_missing_keys=True)
    finally:
        transformers.logging.set_verbosity(verbosity)
    schedule = make_schedule("warmup-linear", 5e-5, 1000, 100)
    model.compile(optimizer=make_optimizer("adamw", schedule, clipnorm=1.0),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


def run(quick=False, data_dir=None):
    import tensorflow as tf
    from keras_arch import registry
    from keras_arch.serving.export import load_servable
    from keras_arch.tasks import bert
    from keras_arch.config import RunConfig
    from keras_arch.training.train_lib import train
    data_dir = data_dir or os.environ.get("KERAS_ARCH_RT_DIR", DEFAULT_DIR)
    if not os.path.isdir(data_dir):
        return {"name": NAME, "skipped": f"no sentence polarity data at {data_dir}"}
    with tempfile.TemporaryDirectory() as base:
        model, m = train("bert", RunConfig(data_dir=data_dir, quiet=True, export=base, max_length=64,
                                            epochs=1 if quick else None))
        fn = load_servable(m["export_path"]).signatures["serving_default"]
        splits = bert.load(data_dir=data_dir)
        sentences = splits.x_test[:200].astype(str)
        for s in sentences[:5]:
            fn(text=tf.constant([s]))
        lat = []
        for s in sentences[: 50 if quick else 200]:
            t0 = time.perf_counter()
            fn(text=tf.constant([s]))
            lat.append(1000 * (time.perf_counter() - t0))
    tokenizer = bert.tokenizer_for("minilm", 64)
    steps = 10 if quick else 40
    rates = {}
    for label, fixed in (("dynamic padding", None), ("fixed max length 64", 64)):
        clone = registry.build("bert")
        bert.compile_for_fine_tuning(clone, 5e-5, 1000)
        ds = bert.make_dataset(splits.x_train, splits.y_train, tokenizer, 32, shuffle=True, fixed_length=fixed)
        rates[label] = _throughput(clone, ds, steps)
    # The peer, in the same run, on the same batches (dynamic padding, batch 32, 64 tokens at most).
    ds = bert.make_dataset(splits.x_train, splits.y_train, tokenizer, 32, shuffle=True)
    peer = _throughput(peer_model(), ds, steps)
    rows = [
        {"benchmark": NAME, "model": "run bert --data-dir rt-polarity (all-MiniLM-L6-v2)",
         "test_accuracy": m["test_accuracy"], "epochs": m["epochs"], "train_seconds": m["train_seconds"],
         "examples_per_second": m["samples_per_second"], "anchor": "BERT-size models ~0.80-0.87 on this corpus"},
        {"benchmark": NAME, "model": "text-in SavedModel, one sentence per request",
         "p50_ms": float(np.percentile(lat, 50)), "p95_ms": float(np.percentile(lat, 95))},
    ] + [{"benchmark": NAME, "model": f"training throughput, {k}", "examples_per_second": v,
          "ratio_to_peer": v / peer} for k, v in rates.items()] + [
        {"benchmark": NAME, "model": "peer: transformers TFBertForSequenceClassification, dynamic padding",
         "examples_per_second": peer, "ratio_to_peer": 1.0}]
    return {"name": NAME, "rows": rows, "dynamic_over_fixed": rates["dynamic padding"] / rates["fixed max length 64"],
            "ratio_to_peer": rates["dynamic padding"] / peer,
            "checks": {"accuracy >= 0.80": m["test_accuracy"] >= 0.80}}
