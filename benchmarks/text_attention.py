"""Attention classifier (document 000 §4.3, corrected) on the real sentence
polarity data: train on 80%, validate on 10%, report on the held-out 10%.

Anchor: randomly initialised LSTM models reach about 0.75-0.78 on this corpus;
Kim (2014)'s CNN with pretrained vectors 0.81. Target: >= 0.76.
"""
import os

NAME = "text_attention"
DEFAULT_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "text", "rt-polarity")


def run(quick=False, data_dir=None):
    from keras_arch.training.trainer import RunOptions, train
    data_dir = data_dir or os.environ.get("KERAS_ARCH_RT_DIR", DEFAULT_DIR)
    if not os.path.isdir(data_dir):
        return {"name": NAME, "skipped": f"no sentence polarity data at {data_dir}"}
    rows = []
    for arch in ("attention", "transformer"):
        _, m = train(arch, RunOptions(data_dir=data_dir, quiet=True, epochs=2 if quick else None))
        rows.append({"benchmark": NAME, "model": f"run {arch} --data-dir rt-polarity",
                     "test_accuracy": m["test_accuracy"], "epochs": m["epochs"],
                     "examples_per_second": m["samples_per_second"],
                     "seconds_per_epoch": m["train_seconds"] / m["epochs"], "parameters": m["parameters"],
                     "anchor": "random-init LSTMs ~0.75-0.78; Kim 2014 CNN 0.81"})
    return {"name": NAME, "rows": rows, "checks": {"attention >= 0.76": rows[0]["test_accuracy"] >= 0.76}}
