"""--plot DIR: training curves for every arch, attention heat maps for the
attention models (matplotlib, Agg backend; files written atomically).

Every figure labels its axes and says what it shows; heat maps have a
colorbar, the tokens on their axes and a title that says whether heads are
averaged; an axis that does not start at 0 says so in its label.
"""
import io
import os

import numpy as np

from keras_arch.io import write_atomic


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    plt.MaxNLocator = MaxNLocator  # integer ticks for epochs, steps, positions
    return plt


def heatmap(ax, weights, rows, columns, title, fig, vmax=None):
    """A weights matrix with its labels on both axes and a colorbar (0 to ``vmax``,
    default the matrix's largest weight), in fonts a reader can read."""
    im = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=vmax or float(np.max(weights)), aspect="auto")
    ax.set_xticks(range(len(columns)), columns, rotation=90, fontsize=9)
    ax.set_yticks(range(len(rows)), rows, fontsize=9)
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02, label="attention weight")
    return im


def _save(fig, path):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    _plt().close(fig)
    return write_atomic(path, buffer.getvalue())


def training_curves(history, path, title=""):
    plt = _plt()
    # "accuracy", or the first per-output accuracy ("digit_accuracy") of multi-output models
    accuracy = next((k for k in history if k.endswith("accuracy") and not k.startswith("val_")), None)
    keys = ["loss"] + ([accuracy] if accuracy else [])
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 3.5), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for prefix, style in (("", "-"), ("val_", "--")):
            if prefix + key in history:
                ax.plot(range(1, len(history[prefix + key]) + 1), history[prefix + key], style,
                        label=(prefix or "train_") + key)
        ax.set_xlabel("epoch"), ax.set_ylabel(key), ax.set_title(key), ax.legend()
        ax.xaxis.set_major_locator(_plt().MaxNLocator(integer=True))
        ax.set_ylim(bottom=0)  # losses and accuracies from 0: a gap of 0.01 is not drawn as a cliff
    fig.suptitle(title)
    return _save(fig, path)


def _tokens(ids, vocab):
    return [vocab[i] if i < len(vocab) else "?" for i in ids if i != 0]


def attention_classifier(model, splits, directory, n=4):
    """Weights of the final-state query over the tokens of a few test
    sentences (one query, so a row per sentence; the weights of a row sum to 1)."""
    from keras_arch.models.attention import attention_weights_model
    plt = _plt()
    _, x, y = splits.eval_split()
    weights = attention_weights_model(model).predict(x[:n], verbose=0)[:, 0, :]  # (n, time)
    fig, axes = plt.subplots(n, 1, figsize=(12, 2.2 * n))
    fig.subplots_adjust(hspace=1.6)
    top = float(weights.max())
    for ax, ids, w, label in zip(np.atleast_1d(axes), x[:n], weights, y[:n]):
        words = _tokens(ids, splits.vocabulary)
        heatmap(ax, w[None, :len(words)], ["final state"], words,
                f"attention of the LSTM's final state over the words · 末状态对各词的注意力 (label {label})", fig, top)
        ax.set_xlabel("word (key)")
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
    heads = weights.shape[1]
    fig, axes = plt.subplots(1, n, figsize=(8 * n, 7))
    for ax, ids, w in zip(np.atleast_1d(axes), x[:n], weights.numpy().mean(1)):
        words = _tokens(ids, splits.vocabulary)
        heatmap(ax, w[:len(words), :len(words)], words, words,
                f"self-attention, mean of the {heads} heads · {heads} 个头的平均自注意力", fig)
        ax.set_xlabel("attended word (key)"), ax.set_ylabel("attending word (query)")
    return [_save(fig, os.path.join(directory, "self_attention.png"))]


def seq2seq_attention(model, splits, directory, n=2):
    """Decoder-step x source-position weights: reversal shows an anti-diagonal."""
    from keras_arch.backend import keras
    plt = _plt()
    _, x, _ = splits.eval_split()
    probe = keras.Model(model.inputs, model.get_layer("attention").output[1])
    weights = probe.predict({k: v[:n] for k, v in x.items()}, verbose=0)  # (n, target, source)
    fig, axes = plt.subplots(1, n, figsize=(7 * n, 6))
    for ax, w, src in zip(np.atleast_1d(axes), weights, x["source"][:n]):
        k = int(np.sum(src != 0))
        heatmap(ax, w[:k + 1, :k], [f"out {t}" for t in range(k)] + ["END"], [f"{i}:{src[i]}" for i in range(k)],
                "Bahdanau attention of each output step over the source · 每个输出步对源序列的注意力", fig)
        ax.set_xlabel("source position:token (key)"), ax.set_ylabel("output step (query)")
    return [_save(fig, os.path.join(directory, "seq2seq_attention.png"))]


def similarity_matrix(images, texts, captions, digits, directory):
    """Cosine similarity of held-out images (rows) and their captions
    (columns), sorted by digit: a good model shows bright blocks on the
    diagonal.

    Args:
        images: (n, d) L2-normalised image embeddings.
        texts: (n, d) L2-normalised caption embeddings, row i describing image i.
        captions: the n caption strings (column labels).
        digits: the n images' digits (row labels).
        directory: where similarity.png goes.
    """
    plt = _plt()
    sim = np.asarray(images) @ np.asarray(texts).T  # (n images, n captions)
    n = len(captions)
    fig, ax = plt.subplots(figsize=(9, 8))
    im = ax.imshow(sim, cmap="viridis", vmin=-1, vmax=1)
    ax.set_xticks(range(n), [str(c) for c in captions], rotation=90, fontsize=6)
    ax.set_yticks(range(n), [f"image of {d}" for d in digits], fontsize=6)
    ax.set_title("image–caption cosine similarity (held-out pairs)")
    fig.colorbar(im, ax=ax, fraction=0.046)
    return [_save(fig, os.path.join(directory, "similarity.png"))]


def early_exit_tradeoff(rows, path):
    """Accuracy against relative compute, one point per exit threshold."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    xs, ys = [r["relative_compute"] for r in rows], [r["accuracy"] for r in rows]
    ax.plot(xs, ys, "o-")
    for r in rows:
        ax.annotate(f"{r['threshold']:g}", (r["relative_compute"], r["accuracy"]), fontsize=7,
                    textcoords="offset points", xytext=(4, -10))
    ax.set_xlabel("mean compute / plain CNN (FLOPs)"), ax.set_ylabel("accuracy")
    ax.set_title("early exit: accuracy vs compute, labelled by threshold")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def confusion_matrix(y_true, y_pred, path, labels=None, title="confusion matrix"):
    """Counts of (true, predicted) classes."""
    plt = _plt()
    n = int(max(np.max(y_true), np.max(y_pred))) + 1
    counts = np.zeros((n, n), np.int64)
    np.add.at(counts, (np.asarray(y_true), np.asarray(y_pred)), 1)
    fig, ax = plt.subplots(figsize=(5, 4.5))
    im = ax.imshow(counts, cmap="Blues")
    for i in range(n):
        for j in range(n):
            if counts[i, j]:
                ax.text(j, i, counts[i, j], ha="center", va="center", fontsize=7,
                        color="white" if counts[i, j] > counts.max() / 2 else "black")
    ticks = labels or list(range(n))
    ax.set_xticks(range(n), ticks), ax.set_yticks(range(n), ticks)
    ax.set_xlabel("predicted"), ax.set_ylabel("true"), ax.set_title(title)
    fig.colorbar(im, ax=ax, fraction=0.046)
    return _save(fig, path)


def layer_sparsity(per_layer, path, title="fraction of zero weights per layer"):
    """Bar chart of {layer: sparsity}."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3))
    names = list(per_layer)
    ax.bar(range(len(names)), [per_layer[n] for n in names])
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right"), ax.set_ylim(0, 1)
    ax.set_ylabel("sparsity"), ax.set_title(title)
    return _save(fig, path)


def expert_load(load, path, capacity_factor=None, title="share of held-out tokens per expert"):
    """Bar chart of a mixture of experts' load (fractions summing to 1), with
    the balanced share 1/E and, if given, the capacity limit factor/E."""
    plt = _plt()
    load = np.asarray(load, np.float64)
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.bar(range(len(load)), load)
    ax.axhline(1 / len(load), ls="--", c="gray", label="balanced 1/E")
    if capacity_factor:
        ax.axhline(capacity_factor / len(load), ls=":", c="red", label=f"capacity {capacity_factor:g}/E")
    top = max(float(load.max()), (capacity_factor or 1) / len(load))
    ax.set_ylim(0, 1.15 * top)  # the capacity line clear of the top edge
    ax.set_xticks(range(len(load))), ax.set_xlabel("expert"), ax.set_ylabel("share of tokens")
    ax.set_title(title), ax.legend(fontsize=8)
    return _save(fig, path)


def compression_stages(stages, path):
    """Accuracy and size of each compression stage (the pipeline's ``stages``
    dict): Keras float, pruned, QAT, then the float and int8 TFLite files."""
    plt = _plt()
    acc, size = {}, {}
    base = stages.get("baseline", {})
    if base:
        acc["Keras float"], size["Keras float\n(gzip)"] = base["accuracy"], base["gzip_bytes"]
    if "pruned" in stages:
        acc["pruned"], size["pruned\n(gzip)"] = stages["pruned"]["accuracy"], stages["pruned"]["gzip_bytes"]
    if "qat" in stages:
        acc["QAT"] = stages["qat"]["accuracy"]
    if "tflite" in stages:
        t = stages["tflite"]
        acc["TFLite float"], acc["TFLite int8"] = t["float_accuracy"], t["int8_accuracy"]
        size["TFLite float"], size["TFLite int8"] = t["float_bytes"], t["int8_bytes"]
        size["TFLite int8\n(gzip)"] = t["int8_gzip_bytes"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.5))
    for ax, values, fmt, label in ((a1, acc, "{:.3f}", "accuracy"), (a2, size, "{:.0f} kB", "size (kB)")):
        shown = [v / 1024 if ax is a2 else v for v in values.values()]
        bars = ax.bar(range(len(values)), shown, color=["C0" if "int8" not in k else "C1" for k in values])
        for bar, v in zip(bars, shown):
            ax.annotate(fmt.format(v), (bar.get_x() + bar.get_width() / 2, v), ha="center", va="bottom", fontsize=8)
        ax.set_xticks(range(len(values)), list(values), fontsize=8), ax.set_ylabel(label)
    lowest = min(acc.values()) if acc else 0
    bottom = max(0.0, lowest - 0.05)
    a1.set_ylim(bottom, 1.0)
    if bottom > 0:  # say so: bars cut at the bottom magnify small differences
        a1.set_ylabel(f"accuracy (axis starts at {bottom:.2f}, not 0)")
    a1.set_title("accuracy per stage"), a2.set_title("model size per stage")
    return _save(fig, path)


def rank_histograms(ranks, path, title="filtered rank of the true entity (test triples, both directions)"):
    """Histograms of link-prediction ranks on a log axis, one line per model:
    ``ranks`` is {label: array of filtered ranks}."""
    plt = _plt()
    top = max(float(np.max(r)) for r in ranks.values())
    bins = np.unique(np.geomspace(1, max(top, 2) + 1, 30).round())
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    for label, r in ranks.items():
        r = np.asarray(r, np.float64)
        ax.hist(r, bins=bins, histtype="step", lw=1.5,
                label=f"{label}: MRR {np.mean(1 / r):.3f}, Hits@10 {np.mean(r <= 10):.2f}")
    ax.set_xscale("log"), ax.set_xlabel("rank (1 = best; log scale)"), ax.set_ylabel("test queries")
    ax.set_title(title, fontsize=9), ax.legend(fontsize=8)
    return _save(fig, path)
