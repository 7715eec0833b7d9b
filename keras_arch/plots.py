"""--plot DIR: training curves for every arch, attention heat maps for the
attention models (matplotlib, Agg backend; files written atomically)."""
import os

import numpy as np


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path):
    import io
    from keras_arch.io import write_atomic
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    _plt().close(fig)
    return write_atomic(path, buffer.getvalue())


def training_curves(history, path, title=""):
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for ax, key in zip(axes, ("loss", "accuracy")):
        for prefix, style in (("", "-"), ("val_", "--")):
            if prefix + key in history:
                ax.plot(range(1, len(history[prefix + key]) + 1), history[prefix + key], style,
                        label=(prefix or "train_") + key)
        ax.set_xlabel("epoch"), ax.set_title(key), ax.legend()
    fig.suptitle(title)
    return _save(fig, path)


def _tokens(ids, vocab):
    return [vocab[i] if i < len(vocab) else "?" for i in ids if i != 0]


def attention_classifier(model, splits, directory, n=4):
    """Weights of the final-state query over the tokens of a few test sentences."""
    from keras_arch.models.attention import attention_weights_model
    plt = _plt()
    _, x, y = splits.eval_split()
    weights = attention_weights_model(model).predict(x[:n], verbose=0)[:, 0, :]  # (n, time)
    fig, axes = plt.subplots(n, 1, figsize=(12, 1.8 * n))
    fig.subplots_adjust(hspace=1.4)
    for ax, ids, w, label in zip(np.atleast_1d(axes), x[:n], weights, y[:n]):
        words = _tokens(ids, splits.vocabulary)
        ax.imshow(w[None, :len(words)], cmap="viridis", aspect="auto")
        ax.set_xticks(range(len(words)), words, rotation=60, fontsize=7), ax.set_yticks([])
        ax.set_title(f"label {label}", fontsize=8)
    return [_save(fig, os.path.join(directory, "attention.png"))]


def transformer_attention(model, splits, directory, n=2):
    """Head-averaged self-attention of the first encoder block."""
    import tensorflow as tf
    plt = _plt()
    _, x, _ = splits.eval_split()
    block = model.get_layer("encoder_0")
    embedded = model.get_layer("embedding")(x[:n])
    mask = tf.not_equal(x[:n], 0)
    _, weights = block.attention(embedded, mask=mask, return_attention_scores=True)  # (n, heads, q, k)
    fig, axes = plt.subplots(1, n, figsize=(6 * n, 5))
    for ax, ids, w in zip(np.atleast_1d(axes), x[:n], weights.numpy().mean(1)):
        words = _tokens(ids, splits.vocabulary)
        ax.imshow(w[:len(words), :len(words)], cmap="viridis")
        ax.set_xticks(range(len(words)), words, rotation=90, fontsize=6)
        ax.set_yticks(range(len(words)), words, fontsize=6)
    return [_save(fig, os.path.join(directory, "self_attention.png"))]


def seq2seq_attention(model, splits, directory, n=2):
    """Decoder-step x source-position weights: reversal shows an anti-diagonal."""
    from keras_arch.backend import keras
    plt = _plt()
    _, x, _ = splits.eval_split()
    probe = keras.Model(model.inputs, model.get_layer("attention").output[1])
    weights = probe.predict({k: v[:n] for k, v in x.items()}, verbose=0)  # (n, target, source)
    fig, axes = plt.subplots(1, n, figsize=(5 * n, 4.5))
    for ax, w, src in zip(np.atleast_1d(axes), weights, x["source"][:n]):
        k = int(np.sum(src != 0))
        ax.imshow(w[:k + 1, :k], cmap="viridis")
        ax.set_xlabel("source position"), ax.set_ylabel("output step")
    return [_save(fig, os.path.join(directory, "seq2seq_attention.png"))]
