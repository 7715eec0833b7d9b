"""Write the five document notebooks (000-004), and execute them.

    python notebooks/build.py                  write them without outputs
    python notebooks/build.py --execute        write, run top to bottom, write with outputs
    python notebooks/build.py --execute --fast the same in CI's fast setting (fewer epochs)

The committed notebooks hold their outputs (figures and numbers show on
GitHub); tests/notebooks_test.py checks that each has figures and no error.

Each notebook follows its document's section order and headings (Chinese,
with English; checked against the document's own headings at build time).
For every code example of the document it shows the code exactly as written,
read from the documents (../shared/seeds, or $KERAS_ARCH_SEEDS): Keras examples
run under ``%%as_written``, which prints their real error instead of raising
it; PyTorch examples are shown, not run (keras_arch never imports torch), with
the errata row saying what fails. Then the corrected Keras code, generated
from the library's source with inspect (tests/notebooks_test.py fails when a
cell drifts from it), trained through ``keras_arch.train``. Every formula is
typeset next to a cell that computes it with the layer and in NumPy and prints
the largest absolute difference. KERAS_ARCH_NOTEBOOK_FAST=1 (what CI sets)
trains for fewer epochs.
"""
import ast
import builtins
import glob
import importlib
import inspect
import os
import re
import sys
import textwrap
import time

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SEEDS = os.environ.get("KERAS_ARCH_SEEDS", os.path.join(ROOT, "..", "shared", "seeds"))
ERRATA_LINK = "../README.md#errata-every-code-example-of-the-five-documents"
SOURCE_MARK = "# source: "

SETUP = '''import os, sys, tempfile
sys.path.insert(0, os.path.abspath(".."))  # the repository root: keras_arch and its tests
FAST = os.environ.get("KERAS_ARCH_NOTEBOOK_FAST") == "1"  # CI's setting: fewer epochs
import keras_arch  # selects Keras 2 (tf_keras) before TensorFlow loads
import keras_arch.quiet
keras_arch.quiet.enable()  # this notebook's choice: TensorFlow's start-up log lines stay out of the outputs
from keras_arch import train  # python -m keras_arch.run's options as keywords, the same checks
from keras_arch import plots
from keras_arch.backend import keras
from IPython.display import Image, display
import numpy as np
FIG = tempfile.mkdtemp(prefix="keras_arch-figures-")

def show(path):
    display(Image(filename=path))

def formula_check(label, keras_value, numpy_value, tol=1e-4):
    """Print the largest absolute difference between the library's value and NumPy's."""
    diff = float(np.max(np.abs(np.asarray(keras_value, np.float64) - np.asarray(numpy_value, np.float64))))
    print(f"{label}: max |Keras - NumPy| = {diff:.1e}")
    assert diff < tol, f"{label} does not hold: {diff}"

import contextlib, io
from IPython.core.magic import register_cell_magic

@register_cell_magic
def as_written(line, cell):
    """Run a document's code exactly as written, in a namespace of its own
    (plus the notebook variables named on the %%as_written line), and print
    its error instead of raising it, so the notebook goes on."""
    namespace = {name: get_ipython().user_ns[name] for name in line.split()}
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(cell, "<document>", "exec"), namespace)
    except Exception as e:
        lines = [l for l in str(e).strip().splitlines() if l.strip()]
        if len(lines) > 10:  # a traceback inside Keras's graph: its last lines say what failed
            lines = lines[:1] + ["    ..."] + lines[-3:]
        print(f"{type(e).__name__}: " + "\\n".join(lines))
    else:
        last = (out.getvalue().strip().splitlines() or [""])[-1].split("\\r")[-1]
        print("runs to the end without an error; its last output line:\\n" + last)'''


def md(text):
    """Markdown written indented in this file: every line's leading spaces go (no markdown here needs them)."""
    return new_markdown_cell("\n".join(line.strip() for line in text.strip().splitlines()))


def code(text):
    return new_code_cell(textwrap.dedent(text).strip())


def closing_sections():
    """Sections 5-8 of documents 002 and 003, which hold no code (their headings as written there)."""
    titles = ("实际应用场景 · Applications", "工具和资源推荐 · Tools and resources",
              "总结：未来发展趋势与挑战 · Summary: trends and challenges", "附录：常见问题与解答 · Appendix: FAQ")
    return [md(f"## {n}. {title}\nNo code.") for n, title in enumerate(titles, 5)]


def curves(var="m"):
    return f'show(plots.training_curves({var}["history"], os.path.join(FIG, "{var}.png"), {var}["arch"]))'


# --- the documents -------------------------------------------------------------------------------------------

def seed_path(doc):
    paths = glob.glob(os.path.join(SEEDS, f"{doc}_*.txt"))
    if len(paths) != 1:
        sys.exit(f"build.py: document {doc} not found in {SEEDS} (set KERAS_ARCH_SEEDS)")
    return paths[0]


def code_blocks(doc):
    """The document's ```python blocks, exactly as written (the trailing newline dropped)."""
    return [b.rstrip("\n") for b in re.findall(r"```python\n(.*?)```", open(seed_path(doc), encoding="utf-8").read(), re.S)]


def headings(doc):
    """The document's own headings, in order, without '#' and spaces."""
    text = open(seed_path(doc), encoding="utf-8").read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return [re.sub(r"\s", "", line.lstrip("#")) for line in text.splitlines() if line.startswith("#")]


def check_headings(doc, cells):
    """Every section heading (## and ###) of the notebook is a heading of the document, in the document's order:
    its Chinese part (before ' · ') equals the document's heading."""
    own, at = headings(doc), -1
    for cell in cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("##"):
                chinese = re.sub(r"\s", "", line.lstrip("#").split(" · ")[0])
                found = [i for i, h in enumerate(own) if h == chinese and i > at]
                if not found:
                    raise SystemExit(f"build.py: notebook {doc} heading {line!r} is not the document's next heading")
                at = found[0]


def rows(doc):
    from keras_arch.errata import ROWS
    return [r for r in ROWS if r[0] == doc]


def example(doc, i, provide="", pytorch=False):
    """The document's i-th code example as written: a %%as_written cell (Keras) or a markdown block (PyTorch)."""
    block, row = code_blocks(doc)[i], rows(doc)[i]
    head = f"**原文代码 · The document's code as written** ({row[1]}). "
    why = f"What happens as written: {row[3]} ([errata]({ERRATA_LINK}): `{row[4].split(',')[0].strip('`')}`)."
    if pytorch:
        return [new_markdown_cell(head + "PyTorch: shown, not run (keras_arch never imports torch).\n\n```python\n"
                                  + block + "\n```\n\n" + why)]
    return [md(head + why + (" " + provide if provide else "")),
            new_code_cell(("%%as_written " + " ".join(_provided(provide))).rstrip() + "\n" + block)]


def _provided(provide):
    return re.findall(r"`(\w+)`", provide.split("Provided:")[1]) if "Provided:" in provide else []


# --- the library's source ------------------------------------------------------------------------------------

def _resolve(ref):
    module_name, qualname = ref.split(":")
    module = importlib.import_module(module_name)
    obj = module
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return module, qualname, obj


def source_cell(*refs):
    """A cell holding the library's current source of refs ('module:function' or 'module:Class.method', one
    class per cell): the module globals it uses are imported first, and methods are written into a subclass of the
    library's class, so running the cell defines what it shows and editing it changes what the checks use."""
    sys.path.insert(0, ROOT)
    parts, names, modules = [], set(), []
    klass = None
    for ref in refs:
        module, qualname, obj = _resolve(ref)
        modules.append(module)
        src = textwrap.dedent(inspect.getsource(obj)).rstrip("\n")
        src = re.sub(r"^@keras\.utils\.register_keras_serializable\(.*\)\n",
                     "# (registered as a Keras serializable in the library)\n", src)
        names |= {n.id for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Name)}
        if "." in qualname:
            klass = qualname.split(".")[0]
            src = textwrap.indent(src, "    ")
        parts.append(src)
    module = modules[0]
    assert all(m is module for m in modules), refs
    if klass:
        names.add(klass)
    imports = sorted(n for n in names if n in vars(module) and not hasattr(builtins, n)
                     and n not in {r.split(":")[1] for r in refs})
    lines = [SOURCE_MARK + ", ".join(refs),
             "# The library's code, generated from its source by notebooks/build.py (tests/notebooks_test.py fails if it drifts)."]
    if imports:
        lines.append(f"from {module.__name__} import {', '.join(imports)}")
    lines.append("")
    if klass:
        lines.append(f"class {klass}({klass}):  # the library's class with the methods below: edit them and re-run")
    return new_code_cell("\n".join(lines) + "\n" + "\n\n".join(parts))


# --- the formulas --------------------------------------------------------------------------------------------

F_DENSE = code('''
    rng = np.random.default_rng(0)
    dense = keras.layers.Dense(4, activation="relu", bias_initializer="random_normal")
    x = rng.standard_normal((3, 5)).astype(np.float32)
    y = dense(x).numpy()
    W, b = dense.get_weights()
    formula_check("y = f(Wx + b), Dense, f = relu", y, np.maximum(x @ W + b, 0.0))''')

F_CONV = code('''
    rng = np.random.default_rng(1)
    conv = keras.layers.Conv2D(5, 3, activation="relu", bias_initializer="random_normal")
    x = rng.standard_normal((2, 7, 6, 3)).astype(np.float32)
    y = conv(x).numpy()
    w, b = conv.get_weights()  # w: (kh, kw, c_in, c_out)
    windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))  # (n, 5, 4, c_in, kh, kw)
    wx = np.einsum("nhwcij,ijcf->nhwf", windows, w)  # w * x, as Keras computes it (cross-correlation)
    formula_check("y = f(w * x + b), Conv2D, f = relu", y, np.maximum(wx + b, 0.0))''')

F_RNN = code('''
    from keras_arch.models import rnn
    from tests.reference import randomize
    model = randomize(rnn.simple_rnn_unit(units=5, input_dim=3), seed=2)  # SimpleRNN(tanh) then Dense(sigmoid) per step
    x = np.random.default_rng(3).normal(size=(2, 6, 3)).astype(np.float32)
    W, U, b = model.get_layer("rnn").get_weights()  # Keras keeps one bias: b = b_ih + b_hh
    W_y, b_y = model.get_layer("output").get_weights()
    h, hs, ys = np.zeros((2, 5)), [], []
    for t in range(6):
        h = np.tanh(x[:, t] @ W + h @ U + b)  # h_t = f(W x_t + U h_{t-1} + b)
        hs.append(h)
        ys.append(1 / (1 + np.exp(-(h @ W_y + b_y))))  # y_t = g(W_y h_t + b_y)
    hidden = keras.Model(model.input, model.get_layer("rnn").output)
    formula_check("h_t = f(W x_t + U h_{t-1} + b)", hidden(x), np.stack(hs, 1))
    formula_check("y_t = g(W h_t + b)", model(x), np.stack(ys, 1))''')

F_LSTM = code('''
    from tests.reference import lstm, randomize
    x = np.random.default_rng(4).normal(size=(2, 6, 5)).astype(np.float32)
    layer = keras.layers.LSTM(4, return_sequences=True)
    layer(x)
    randomize(layer, seed=3)  # every weight and bias at random, so no gate hides behind a zero
    outputs, h, c = lstm(x, *layer.get_weights())  # the gate equations above, step by step in NumPy
    formula_check("LSTM gates, h_t at every step", layer(x), outputs)''')

F_ATTENTION = code('''
    import tensorflow as tf
    from keras_arch.layers.multi_head_self_attention import MultiHeadSelfAttention
    from tests.reference import multi_head_self_attention, mhsa_weights, randomize
    x = np.random.default_rng(3).normal(size=(3, 6, 7)).astype(np.float32)
    mask = np.array([[True] * 6, [True] * 4 + [False] * 2, [True] * 3 + [False] * 3])  # padding at the end
    layer = MultiHeadSelfAttention(num_heads=3, key_dim=5)  # 3 heads of d_k = 5 over d_model = 7
    layer(x)
    randomize(layer, seed=4)
    out, weights = layer(x, mask=tf.constant(mask), return_attention_scores=True)
    ref_out, ref_weights = multi_head_self_attention(x, *mhsa_weights(layer), mask=mask)
    formula_check("softmax(QK^T / sqrt(d_k)) per head", weights, ref_weights)
    formula_check("MultiHead = Concat(head_1..head_h) W^O", out, ref_out)''')

F_BAHDANAU = code('''
    from keras_arch.layers.bahdanau_attention import BahdanauAttention
    from tests.reference import bahdanau, randomize
    rng = np.random.default_rng(3)
    q, k = rng.normal(size=(2, 3, 5)).astype(np.float32), rng.normal(size=(2, 6, 4)).astype(np.float32)
    layer = BahdanauAttention(7)
    layer([q, k])
    randomize(layer, seed=4, scale=0.8)
    context, weights = layer([q, k])
    ref_context, ref_weights = bahdanau(q, k, layer.query_dense.kernel.numpy(), layer.key_dense.kernel.numpy(),
                                        layer.score_dense.kernel.numpy()[:, 0])
    formula_check("a(i,j) = exp e(i,j) / sum_k exp e(i,k)", weights, ref_weights)
    formula_check("context_i = sum_j a(i,j) h_j", context, ref_context)''')

F_DISTILL = code('''
    import tensorflow as tf
    from keras_arch.models.cnn import doc001_cnn, tiny_cnn
    from keras_arch.optimize.distiller import Distiller
    from tests.reference import softmax
    T, alpha = 3.0, 0.25
    d = Distiller(doc001_cnn(), tiny_cnn(), temperature=T, alpha=alpha)
    rng = np.random.default_rng(1)
    zt, zs = rng.normal(0, 2, (5, 10)).astype(np.float32), rng.normal(0, 2, (5, 10)).astype(np.float32)  # logits
    y = np.array([0, 3, 9, 2, 2])
    loss, hard, soft = [v.numpy() for v in d.distillation_loss(tf.constant(y), zt, zs)]
    zt64, zs64 = zt.astype(np.float64), zs.astype(np.float64)  # NumPy in double precision
    ce = -np.mean(np.log(softmax(zs64)[np.arange(5), y]))
    pt, ps = softmax(zt64 / T), softmax(zs64 / T)
    kl = np.mean(np.sum(pt * np.log(pt / ps), -1))
    formula_check("CE(y, softmax(s))", hard, ce)
    formula_check("T^2 KL(softmax(t/T) || softmax(s/T))", soft, T * T * kl)
    formula_check("L = alpha CE + (1 - alpha) T^2 KL", loss, alpha * ce + (1 - alpha) * T * T * kl)''')

F_MOE = code('''
    import tensorflow as tf
    from keras_arch.layers.mixture_of_experts import MixtureOfExperts
    from tests.reference import softmax
    tokens, n, alpha = 12, 4, 0.01
    logits = np.random.default_rng(0).normal(size=(tokens, n)) * 2
    layer = MixtureOfExperts(num_experts=n, hidden_units=3, aux_loss_weight=alpha)
    layer.build((None, tokens))
    layer.router.assign(logits.astype(np.float32))  # identity tokens: their router logits are exactly `logits`
    r = layer.route(tf.eye(tokens))
    p = softmax(logits)
    f = np.bincount(p.argmax(1), minlength=n) / tokens  # share of tokens whose first choice is expert i
    P = p.mean(0)  # mean router probability of expert i
    print("f =", f.round(3), " P =", P.round(3))
    formula_check("aux = alpha N sum_i f_i P_i", r["aux_loss"], alpha * n * np.sum(f * P))''')

F_INFONCE = code('''
    from keras_arch.losses import symmetric_infonce
    from tests.reference import log_softmax
    S = np.random.default_rng(5).normal(0, 3, (6, 6)).astype(np.float32)  # similarities of 6 images x 6 captions
    S64 = S.astype(np.float64)  # NumPy in double precision
    i2t = -np.diag(log_softmax(S64, axis=1))  # image i must pick caption i among the row
    t2i = -np.diag(log_softmax(S64, axis=0))  # caption i must pick image i among the column
    formula_check("L = (CE_rows + CE_columns) / 2", symmetric_infonce(None, S), (i2t + t2i) / 2)''')

F_FUSION = code('''
    from keras_arch.layers.weighted_fusion import WeightedFusion
    from keras_arch.layers.contrastive_similarity import ContrastiveSimilarity
    from tests.reference import randomize
    rng = np.random.default_rng(0)
    inputs = [rng.normal(size=(3, d)).astype(np.float32) for d in (4, 6, 5)]  # N = 2 image features, M = 1 text
    layer = WeightedFusion(7, num_image_features=2)
    layer(inputs)
    randomize(layer, seed=1)
    mapped = [x @ d.kernel.numpy() + d.bias.numpy() for d, x in zip(layer.maps, inputs)]  # f_j(x_i), f_k(y_i)
    scores = np.stack([np.tanh(m) @ layer.score.kernel.numpy()[:, 0] for m in mapped], axis=1)
    w = np.exp(scores) / np.exp(scores).sum(1, keepdims=True)  # alpha_i1, alpha_i2, beta_i1: sum 1 per example
    print("alpha, beta per example:\\n", w.round(3))
    formula_check("f(x_i, y_i) = sum_j alpha_ij f_j(x_i) + sum_k beta_ik f_k(y_i)", layer(inputs),
                  w[:, 0:1] * mapped[0] + w[:, 1:2] * mapped[1] + w[:, 2:3] * mapped[2])
    a, b = rng.normal(size=(5, 8)).astype(np.float32), rng.normal(size=(5, 8)).astype(np.float32)
    cos = (a / np.linalg.norm(a, axis=1, keepdims=True)) @ (b / np.linalg.norm(b, axis=1, keepdims=True)).T
    formula_check("S_ij = cos(image_i, text_j) / T, T = 0.5", ContrastiveSimilarity(initial_temperature=0.5)([a, b]), cos / 0.5)''')

F_KG = code('''
    from keras_arch.layers.er_mlp_scorer import ERMLPScorer
    def numpy_score(layer, h, r, t):
        """f = w2 . relu(W1 (E(h) + E(t) + E(r)) + b1) + b2, with + as concatenation or as addition."""
        e, rel = layer.entity_embeddings.numpy(), layer.relation_embeddings.numpy()
        x = np.concatenate([e[h], e[t], rel[r]], -1) if layer.combine == "concat" else e[h] + e[t] + rel[r]
        return np.maximum(x @ layer.kernel1.numpy() + layer.bias1.numpy(), 0) @ layer.kernel2.numpy() + layer.bias2.numpy()
    h, r, t = np.array([0, 3, 6], np.int32), np.array([2, 0, 1], np.int32), np.array([5, 5, 1], np.int32)
    for combine in ("concat", "sum"):
        layer = ERMLPScorer(7, 3, dim=4, hidden=5, combine=combine)
        layer.build(None)
        rng = np.random.default_rng(0)
        for w in layer.weights:
            w.assign(rng.normal(size=w.shape).astype(np.float32))
        formula_check(f"f(e_i, r, e_j) = MLP(E(e_i) ⊕ E(e_j) ⊕ E(r)), ⊕ = {combine}", layer([h, r, t]),
                      numpy_score(layer, h, r, t))''')

LSTM_TEX = r"""$$\begin{aligned}
i_t &= \sigma(x_t W_i + h_{t-1} U_i + b_i) & f_t &= \sigma(x_t W_f + h_{t-1} U_f + b_f) & o_t &= \sigma(x_t W_o + h_{t-1} U_o + b_o)\\
g_t &= \tanh(x_t W_c + h_{t-1} U_c + b_c) & c_t &= f_t \odot c_{t-1} + i_t \odot g_t & h_t &= o_t \odot \tanh(c_t)
\end{aligned}$$"""

ATTENTION_TEX = r"""$$\text{Attention}(Q,K,V) = \text{softmax}\left(\frac{QK^T}{\sqrt{d_k}}\right)V,\qquad
\text{MultiHead}(X) = \text{Concat}(\text{head}_1,\dots,\text{head}_h)\,W^O,\quad
\text{head}_i = \text{Attention}(XW_i^Q, XW_i^K, XW_i^V)$$"""


# --- the notebooks -------------------------------------------------------------------------------------------

def doc000():
    return [
        md("""# 文档 000 · Document 000: AI大模型的未来发展趋势-8.1 模型结构的创新-8.1.1 新型神经网络结构
        (new neural-network structures). Every code example of the document as written, then corrected and trained
        on embedded data; the [errata table](""" + ERRATA_LINK + """) says what each one does as written."""),
        code(SETUP),
        md("""## 1.背景介绍 · Background
        Large models are costly; the document surveys structure (CNN, RNN, attention), training methods
        and knowledge transfer as ways to do more with less."""),
        md("""## 2.核心概念与联系 · Core concepts
        CNNs for grid data, RNNs for sequences, attention for long-range dependencies; training methods
        decide how fast they converge; transfer reuses what was learnt."""),
        md("""## 3.核心算法原理和具体操作步骤以及数学模型公式详细讲解 · Algorithms (the document states no formula)
        ### 3.1 模型结构的优化 · Optimising the structure
        CNN, RNN and attention: their code is in §4 below."""),
        md("""### 3.2 训练方法的创新 · Training methods
        SGD, batch gradient descent and learning-rate decay, side by side on the document's CNN
        (`--optimizer`, `--full-batch`, `--lr-schedule`)."""),
        code('''epochs = 4 if FAST else 15
runs = {"SGD, mini-batch 32": dict(optimizer="sgd", learning_rate=0.05, batch_size=32, epochs=epochs, quiet=True),
        "batch GD (full batch)": dict(optimizer="sgd", learning_rate=0.05, full_batch=True, epochs=epochs, quiet=True),
        "Adam + step decay": dict(lr_schedule="step", learning_rate=3e-3, epochs=epochs, quiet=True)}
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(6, 4))
for label, options in runs.items():
    _, m = train("cnn-doc000", **options)
    ax.plot(range(1, epochs + 1), m["history"]["val_loss"], label=f"{label}: test acc {m['test_accuracy']:.3f}")
ax.set_xlabel("epoch"), ax.set_ylabel("validation loss"), ax.set_yscale("log"), ax.legend()
plt.show()'''),
        md("""### 3.3 知识迁移 · Knowledge transfer
        Pre-training and fine-tuning (`run transfer`), cross-task learning (`run multitask`); knowledge
        graphs are document 004's §3.3 (notebook 004)."""),
        code('''_, t = train("transfer", quiet=True)
print({k: round(t[k], 4) for k in ("source_accuracy", "frozen_trunk_accuracy", "fine_tuned_accuracy", "scratch_accuracy")})
_, mt = train("multitask", epochs=5 if FAST else None, quiet=True)
print("digit", mt["test_digit_accuracy"], "parity", mt["test_parity_accuracy"])'''),
        md("""## 4.具体最佳实践：代码实例和详细解释说明 · Code examples
        ### 4.1 CNN实现 · CNN"""),
        code('''from keras_arch.data import images
splits = images.load()
x_train, y_train = splits.x_train[:1024], splits.y_train[:1024]  # what the document never defines'''),
        *example("000", 0, "As written it stops at `NameError: name 'x_train' is not defined`. "
                 "Provided: `x_train`, `y_train` (1,024 of the suite's training digits, the cell above), "
                 "and the rest runs as written, 10 epochs:"),
        md("""**The corrected Keras code** (`cnn-doc000` is the document's model exactly, 93,322 parameters; `cnn`
        adds BatchNorm and dropout) and its training through the library's pipeline:"""),
        source_cell("keras_arch.models.cnn:_conv_block", "keras_arch.models.cnn:doc000_cnn"),
        code('''model, m = train("cnn-doc000", epochs=3 if FAST else None, quiet=True)
print("test accuracy", m["test_accuracy"], "parameters", m["parameters"])
''' + curves() + '''
_, x, y = splits.eval_split()
show(plots.confusion_matrix(y, model.predict(x, verbose=0).argmax(1), os.path.join(FIG, "confusion.png")))'''),
        md("### 4.2 RNN实现 · RNN"),
        code('''rng = np.random.default_rng(0)
x_train = rng.normal(size=(256, 100, 64)).astype(np.float32)  # 256 sequences of the document's shape (100, 64)
y_train = rng.integers(0, 10, 256)  # one label per sequence, as the text implies'''),
        *example("000", 1, "Provided: `x_train`, `y_train` (random sequences of the document's shape with one "
                 "label each, the cell above): the per-timestep output then meets one label per sequence."),
        md("""**The corrected Keras code**: the same stacked LSTM, trained where a label exists at every timestep
        (`run lstm`: generated sequences whose label at t depends on t-1 and t). The LSTM's gates:

        """ + LSTM_TEX + """

        computed by the Keras layer and in NumPy (`tests/reference.py::lstm`):"""),
        F_LSTM,
        source_cell("keras_arch.models.rnn:doc000_stacked_lstm"),
        code('''model, m = train("lstm", epochs=3 if FAST else None, quiet=True)
print("per-timestep test accuracy", m["test_accuracy"])
''' + curves()),
        md("### 4.3 Attention实现 · Attention"),
        *example("000", 2),
        md("""**The corrected Keras code** (`run attention`): the LSTM's final state queries every LSTM step,
        padding masked, in the functional API:"""),
        source_cell("keras_arch.models.attention:doc000_attention_classifier"),
        code('''model, m = train("attention", epochs=3 if FAST else None, quiet=True)
print("test accuracy", m["test_accuracy"])
from keras_arch.data import text
for path in plots.attention_classifier(model, text.load(), FIG):
    show(path)'''),
        md("""## 5.实际应用场景 · Applications
        Image classification (CNN), speech (RNN), machine translation (attention): no code."""),
        md("""## 6.工具和资源推荐 · Tools and resources
        TensorFlow, Keras, PyTorch, papers and blogs: no code."""),
        md("""## 7.总结：未来发展趋势与挑战 · Summary: trends and challenges
        No code."""),
        md("""## 8.附录：常见问题与解答 · Appendix: FAQ
        No code."""),
    ]


def doc001():
    return [
        md("""# 文档 001 · Document 001: 9.2.1 模型结构创新 (model-structure innovation)
        Every code example of the document as written, then corrected and trained on embedded data; the
        [errata table](""" + ERRATA_LINK + """) says what each one does as written."""),
        code(SETUP),
        md("""## 背景介绍 · Background
        From one or two hidden layers to CNNs, RNNs and Transformers."""),
        md("""## 核心概念与联系 · Core concepts
        ### 什么是神经网络？ · What is a neural network?
        Neurons: inputs, weights and an activation function.
        ### 什么是深度学习？ · What is deep learning?
        Networks of many hidden layers.
        ### CNN、RNN和Transformer的区别 · CNN, RNN and Transformer
        Local connections and pooling; memory of earlier steps; attention between positions."""),
        md("""## 核心算法原理和具体操作步骤以及数学模型公式详细讲解 · Algorithms and formulas
        ### CNN算法原理 · CNN
        $$y = f(w * x + b)$$
        $*$ the convolution, $w$ the filters, $b$ the bias, $f$ the activation. A Conv2D against NumPy:"""),
        F_CONV,
        md("""### RNN算法原理 · RNN
        $$h_t = f(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})$$
        Keras's SimpleRNN keeps one bias, $b = b_{ih} + b_{hh}$ (the same function). Against NumPy, with a
        sigmoid output $y_t = g(W_y h_t + b_y)$ at every step:"""),
        F_RNN,
        md("""### Transformer算法原理 · Transformer
        """ + ATTENTION_TEX + """

        keras_arch's `MultiHeadSelfAttention` against the formula written out in NumPy (`tests/reference.py`),
        random weights, three heads, padding masked:"""),
        F_ATTENTION,
        md("""## 具体最佳实践：代码实例和详细解释说明 · Code examples
        ### CNN实现 · CNN (functional API)"""),
        *example("001", 0),
        md("**The corrected Keras code** (`cnn-doc001`, the Dense layer applied, 54,410 parameters):"),
        source_cell("keras_arch.models.cnn:doc001_cnn"),
        code('''model, m = train("cnn-doc001", epochs=2 if FAST else None, quiet=True)
print("test accuracy", m["test_accuracy"], "parameters", m["parameters"])
''' + curves()),
        md("### RNN实现 · RNN"),
        code('''num_features, num_classes = 28, 10  # what the document never defines: 28 pixels per row, 10 digits'''),
        *example("001", 1, "Provided: `num_features`, `num_classes` (the cell above), so it gets as far as its bug."),
        md("""**The corrected Keras code** (`lstm-doc001`: each digit image read row by row as a sequence). Its
        LSTM's gates,

        """ + LSTM_TEX + """

        computed by the Keras layer and in NumPy:"""),
        F_LSTM,
        source_cell("keras_arch.models.rnn:doc001_lstm_classifier"),
        code('''model, m = train("lstm-doc001", epochs=5 if FAST else None, quiet=True)
print("test accuracy", m["test_accuracy"])
''' + curves()),
        md("### Transformer实现 · BERT classifier"),
        code('''os.environ["HF_HUB_OFFLINE"] = "1"  # no network here: fail at once instead of retrying the download for a minute'''),
        *example("001", 2, "Offline, `BertTokenizer.from_pretrained('bert-base-uncased')` finds no cached copy and "
                 "fails inside transformers; with a network it would download the model and then stop at "
                 "`tf.keras.Model(outputs=output_layer)`, the unapplied Dense layer of the two examples above."),
        md("""**The corrected Keras code** (`run bert`: the packaged all-MiniLM-L6-v2 encoder, offline, [CLS] ->
        Dropout -> Dense softmax, exported text-in):"""),
        source_cell("keras_arch.models.bert_classifier:bert_classifier"),
        code('''model, m = train("bert", quiet=True)  # the recipe: 5 epochs at batch 8, about 3.5 min here; no fast setting
print("test accuracy", m["test_accuracy"], "parameters", f"{m['parameters']:,}")'''),
        md("""## 实际应用场景 · Applications
        ### 计算机视觉 · Computer vision
        ### 自然语言处理 · Natural-language processing
        No code."""),
        md("""## 工具和资源推荐 · Tools and resources
        ### TensorFlow 2.0
        ### Hugging Face Transformers
        ### Kaggle
        No code."""),
        md("""## 总结：未来发展趋势与挑战 · Summary: trends and challenges
        No code."""),
        md("""## 附录：常见问题与解答 · Appendix: FAQ
        No code."""),
    ]


def doc002():
    return [
        md("""# 文档 002 · Document 002: 新型神经网络结构 — 优化、并行、压缩、自适应
        (structure optimisation, parallelism, compression, adaptation). The document's four examples are
        PyTorch placeholders: shown as written, with what fails, then done in Keras."""),
        code('''# Two logical CPU devices for the data-parallel example: this must run before TensorFlow starts.
import os, sys
sys.path.insert(0, os.path.abspath(".."))
import keras_arch.quiet
keras_arch.quiet.enable()  # TensorFlow's start-up log lines stay out of the outputs
from keras_arch.training import distribute
distribute.configure_devices(2)'''),
        code(SETUP),
        md("""## 1. 背景介绍 · Background
        Costs of large models."""),
        md("""## 2. 核心概念与联系 · Core concepts
        Four levers: structure, parallelism, compression, adaptation."""),
        md(r"""## 3. 核心算法原理和具体操作步骤以及数学模型公式详细讲解 · Algorithms
        ### 3.1 模型结构的优化 · Structure: knowledge distillation
        The document names distillation without a formula; keras_arch's `Distiller` trains the student on
        $$L = \alpha\,CE\big(y, \mathrm{softmax}(s)\big) + (1-\alpha)\,T^2\,KL\big(\mathrm{softmax}(t/T)\,\|\,\mathrm{softmax}(s/T)\big)$$
        ($t$, $s$ the teacher's and student's logits). Its loss against NumPy:"""),
        F_DISTILL,
        md("""### 3.2 模型的并行化 · Parallelism
        Distributed and data-parallel training: §4.2."""),
        md("""### 3.3 模型的压缩 · Compression
        Quantisation and pruning: §4.3."""),
        md(r"""### 3.4 模型的自适应 · Adaptation
        A mixture of experts adapts per token: a router sends each token to its top-$k$ experts, and a
        load-balancing loss keeps the experts evenly used:
        $$\mathcal{L}_{aux} = \alpha N \sum_{i=1}^{N} f_i P_i$$
        $f_i$ the share of tokens whose first choice is expert $i$, $P_i$ the mean router probability of $i$.
        The layer's value against NumPy:"""),
        F_MOE,
        md("""## 4. 具体最佳实践：代码实例和详细解释说明 · Code examples
        ### 4.1 模型结构的优化 · Distillation"""),
        *example("002", 0, pytorch=True),
        md("""**The corrected Keras code**: the distiller's loss and training step, then `run distill` (the `cnn`
        teacher, a 5,258-parameter student):"""),
        source_cell("keras_arch.optimize.distiller:Distiller.distillation_loss",
                    "keras_arch.optimize.distiller:Distiller.train_step"),
        source_cell("keras_arch.models.cnn:tiny_cnn"),
        code('''student, m = train("distill", epochs=5 if FAST else None, quiet=True)
print("student", m["test_accuracy"], "teacher", m["teacher"]["eval_accuracy"], "parameter ratio", round(m["parameter_ratio"], 3))'''),
        md("### 4.2 模型的并行化 · Data parallelism"),
        *example("002", 1, pytorch=True),
        md("""**In Keras**: MirroredStrategy over the two logical CPUs configured at the top; the global batch of
        64 splits 32 + 32, the gradients are summed across replicas:"""),
        code('''model, m = train("cnn-doc000", strategy="mirrored", epochs=2, batch_size=64, quiet=True)
print(m["distribution"], "test accuracy", m["test_accuracy"])'''),
        md("### 4.3 模型的压缩 · Compression"),
        *example("002", 2, pytorch=True),
        md("**In Keras**: prune to 80% sparsity, pruning-preserving quantisation-aware training, full-int8 TFLite:"),
        code('''tflite_path = os.path.join(FIG, "cnn.tflite")
model, m = train("cnn", epochs=3 if FAST else None, prune=0.8, qat=True, tflite=tflite_path,
                 compress_epochs=1 if FAST else 2, quiet=True)
for stage, s in m["stages"].items():
    print(stage, {k: v for k, v in s.items() if isinstance(v, (int, float))})
show(plots.layer_sparsity(m["stages"]["pruned"]["layer_sparsity"], os.path.join(FIG, "sparsity.png")))
show(plots.compression_stages(m["stages"], os.path.join(FIG, "compression.png")))  # float vs int8: accuracy and size'''),
        md("### 4.4 模型的自适应 · Adaptive networks"),
        *example("002", 3, pytorch=True),
        md("""**The corrected Keras code**: two networks that do adapt. A mixture of experts (each token picks its
        expert; the layer's `call`):"""),
        source_cell("keras_arch.layers.mixture_of_experts:MixtureOfExperts.call"),
        code('''model, m = train("moe", epochs=3 if FAST else None, quiet=True)
moe_layer = next(layer for layer in model.submodules if type(layer).__name__ == "MixtureOfExperts")
show(plots.expert_load(m["encoder_0/moe_expert_load"], os.path.join(FIG, "moe_load.png"), moe_layer.capacity_factor))'''),
        md("And an early-exit CNN (easy images stop at an early head):"),
        source_cell("keras_arch.models.early_exit:early_exit_cnn"),
        code('''model, m = train("early-exit", epochs=8 if FAST else None, quiet=True)
show(plots.early_exit_tradeoff(m["tradeoff"], os.path.join(FIG, "early_exit.png")))'''),
        *closing_sections(),
    ]


def doc003():
    return [
        md("""# 文档 003 · Document 003: 大模型与新型神经网络结构 (large models and new structures)
        The document's formulas computed by Keras layers and in NumPy; its one code example (PyTorch) as
        written, then corrected in Keras."""),
        code(SETUP),
        md("""## 1. 背景介绍 · Background
        Larger models, higher costs."""),
        md("""## 2. 核心概念与联系 · Core concepts
        ### 2.1 大模型与小模型的区别 · Large vs small models
        ### 2.2 模型压缩与优化 · Compression and optimisation
        ### 2.3 新型神经网络结构 · New structures"""),
        md("""## 3. 核心算法原理和具体操作步骤及数学模型公式详细讲解 · Algorithms and formulas
        ### 3.1 卷积神经网络（CNN） · CNN
        $$y = f(Wx + b)$$
        For a Dense layer, and for a Conv2D where $Wx$ is the convolution:"""),
        F_DENSE,
        F_CONV,
        md("""### 3.2 循环神经网络（RNN） · RNN
        $$h_t = f(Wx_t + Uh_{t-1} + b),\\qquad y_t = g(Wh_t + b)$$
        (the output's $W$, $b$ are a second pair: $W_y$, $b_y$ below). $f = \\tanh$, $g = \\sigma$:"""),
        F_RNN,
        md(r"""### 3.3 自注意力机制（Attention） · Attention
        $$a(i,j) = \frac{\exp(e(i,j))}{\sum_{k=1}^{N}\exp(e(i,k))},\qquad y_t = g\Big(\sum_{i=1}^{T}a(t,i)\,Wh_i + b\Big)$$
        The document leaves the score $e(i,j)$ open; its code (§4) is additive (Bahdanau) attention,
        $e(i,j) = v^T\tanh(W_q q_i + W_k k_j)$, whose context $\sum_j a(i,j)\,h_j$ is the sum inside $g$.
        keras_arch's `BahdanauAttention` against NumPy (`tests/reference.py::bahdanau`):"""),
        F_BAHDANAU,
        md("## 4. 具体最佳实践：代码实例和详细解释说明 · Code example: attention for summarisation"),
        *example("003", 0, pytorch=True),
        md("""**The corrected Keras code**: additive attention whose scores see every encoder output, a softmax
        over the encoder steps, padding masked; in an LSTM encoder-decoder (`run seq2seq`, sequence reversal:
        a summary needs the same alignment skill):"""),
        source_cell("keras_arch.layers.bahdanau_attention:BahdanauAttention.call"),
        source_cell("keras_arch.models.seq2seq:seq2seq"),
        code('''model, m = train("seq2seq", epochs=4 if FAST else None, quiet=True)
print("teacher-forced token accuracy", m["test_accuracy"])
''' + curves() + '''
from keras_arch.data import sequences
for path in plots.seq2seq_attention(model, sequences.load_reversal(), FIG):
    show(path)'''),
        *closing_sections(),
    ]


def doc004():
    return [
        md("""# 文档 004 · Document 004: 大型模型的新型神经网络结构 — 自注意力、跨模态、结构化知识
        (self-attention, cross-modal learning, structured knowledge). The formulas computed by Keras layers
        and in NumPy; the three PyTorch examples as written, then corrected in Keras."""),
        code(SETUP),
        md("""## 1.背景介绍 · Background
        No code."""),
        md("""## 2.核心概念与联系 · Core concepts
        ### 2.1 大型神经网络 · Large networks
        ### 2.2 模型结构的创新 · Structural innovation
        ### 2.3 新型神经网络结构 · New structures"""),
        md("""## 3.核心算法原理和具体操作步骤以及数学模型公式详细讲解 · Algorithms and formulas
        ### 3.1 自注意力机制（Self-Attention） · Self-attention
        """ + ATTENTION_TEX + """

        keras_arch's `MultiHeadSelfAttention` against NumPy, random weights, three heads, padding masked:"""),
        F_ATTENTION,
        md(r"""### 3.2 跨模态学习 · Cross-modal learning
        $$f(x_i, y_i) = \sum_{j=1}^N \alpha_{ij} f_j(x_i) + \sum_{k=1}^M \beta_{ik} f_k(y_i)$$
        keras_arch's `WeightedFusion` (weights from a softmax over the mapped features, $\sum\alpha + \sum\beta = 1$)
        and the scaled cosine similarity $S_{ij} = \cos(\text{image}_i, \text{text}_j)/T$ of the two towers:"""),
        F_FUSION,
        md(r"""The towers learn with the symmetric InfoNCE loss over a batch's similarity matrix $S$ (true pairs on
        the diagonal):
        $$L_i = \tfrac12\Big(-\log\frac{e^{S_{ii}}}{\sum_j e^{S_{ij}}} - \log\frac{e^{S_{ii}}}{\sum_j e^{S_{ji}}}\Big)$$"""),
        F_INFONCE,
        md(r"""### 3.3 结构化知识迁移 · Structured knowledge
        $$f(e_i, r, e_j) = \text{MLP}\big(E(e_i) \oplus E(e_j) \oplus E(r)\big)$$
        The text says ⊕ is addition, the code concatenates: `ERMLPScorer` does both (`combine="sum"|"concat"`),
        each against NumPy:"""),
        F_KG,
        md("""## 4.具体代码实例和详细解释说明 · Code examples
        ### 4.1 自注意力机制（Self-Attention） · Self-attention"""),
        *example("004", 0, pytorch=True),
        md("""**The corrected Keras code**: the multi-head self-attention's `call`, the encoder block around it, and
        the classifier (`run transformer`):"""),
        source_cell("keras_arch.layers.multi_head_self_attention:MultiHeadSelfAttention.call"),
        source_cell("keras_arch.layers.transformer_encoder_block:TransformerEncoderBlock.call"),
        source_cell("keras_arch.models.attention:transformer_classifier"),
        code('''model, m = train("transformer", epochs=4 if FAST else None, quiet=True)  # 2 epochs stop on the plateau (README, Short runs)
print("test accuracy", m["test_accuracy"])
from keras_arch.data import text
for path in plots.transformer_attention(model, text.load(), FIG):
    show(path)'''),
        md("### 4.2 跨模态学习 · Cross-modal learning"),
        *example("004", 1, pytorch=True),
        md("""**The corrected Keras code**: two towers into one space, the similarity, the fusion head and the loss
        (`run crossmodal`):"""),
        source_cell("keras_arch.models.two_tower:two_tower"),
        source_cell("keras_arch.layers.contrastive_similarity:ContrastiveSimilarity.call"),
        source_cell("keras_arch.layers.weighted_fusion:WeightedFusion.weights_and_features",
                    "keras_arch.layers.weighted_fusion:WeightedFusion.call"),
        source_cell("keras_arch.losses:symmetric_infonce"),
        code('''model, m = train("crossmodal", epochs=8 if FAST else None, quiet=True)
print({k: round(v, 4) for k, v in m.items() if "recall" in k or "fused" in k})
from keras_arch.data import captions
from keras_arch.tasks.crossmodal import similarity_pairs
for path in plots.similarity_matrix(*similarity_pairs(model, captions.load()), FIG):
    show(path)'''),
        md("### 4.3 结构化知识迁移 · Structured knowledge"),
        *example("004", 2, pytorch=True),
        md("""**The corrected Keras code**: the scorer sees the head, the relation and the tail (`run kg` scores
        the triples of a generated family tree; filtered MRR and Hits@k):"""),
        source_cell("keras_arch.layers.triple_scorer:TripleScorer.call"),
        source_cell("keras_arch.layers.er_mlp_scorer:ERMLPScorer.query", "keras_arch.layers.er_mlp_scorer:ERMLPScorer._head",
                    "keras_arch.layers.er_mlp_scorer:ERMLPScorer.score_entities",
                    "keras_arch.layers.er_mlp_scorer:ERMLPScorer.score_candidates"),
        code('''from keras_arch.data import kg as kg_data
from keras_arch.training.kg_scoring import eval_batch_size, score_function
from keras_arch.training import ranking
graph = kg_data.load().graph  # the generated family tree, as run kg trains on it
ranks = {}
for combine in ("concat", "sum"):
    model, m = train("kg", epochs=10 if FAST else None, combine=combine, quiet=True)
    print(combine, "test MRR", round(m["test_mrr"], 4), "Hits@1/3/10",
          [round(m[f"test_hits@{k}"], 3) for k in (1, 3, 10)])
    both = ranking.ranks(score_function(model), graph.test, graph.num_relations, graph.known_tails(),
                         eval_batch_size(model))  # {"tail": (n,), "head": (n,)}
    ranks[f"kg, combine={combine}"] = np.concatenate([both["tail"], both["head"]])
show(plots.rank_histograms(ranks, os.path.join(FIG, "kg_ranks.png")))'''),
        md("""## 5.未来发展趋势与挑战 · Trends and challenges
        ### 5.1 模型规模和效率 · Scale and efficiency
        ### 5.2 模型解释性和可解释性 · Interpretability
        ### 5.3 模型伦理和道德 · Ethics
        No code."""),
        md("""## 6.附录常见问题与解答 · Appendix: FAQ
        No code."""),
        md("""## 总结 · Summary
        No code."""),
    ]


NOTEBOOKS = {"000_structures_training_transfer.ipynb": ("000", doc000), "001_cnn_rnn_bert.ipynb": ("001", doc001),
             "002_distill_parallel_compress_adapt.ipynb": ("002", doc002),
             "003_attention_summarisation.ipynb": ("003", doc003),
             "004_selfattention_crossmodal_kg.ipynb": ("004", doc004)}


def build():
    """{file name: notebook}, checked: the document's headings in its order, every code example present."""
    sys.path.insert(0, ROOT)
    out, shown = {}, 0
    for name, (doc, cells) in NOTEBOOKS.items():
        cells = cells()
        for i, cell in enumerate(cells):  # fixed ids: a rebuild of unchanged code leaves the files unchanged
            cell.id = f"doc{doc}-{i:03d}"
        check_headings(doc, cells)
        blocks = code_blocks(doc)
        assert len(blocks) == len(rows(doc)), (doc, len(blocks))
        for block in blocks:
            assert sum(block in c.source for c in cells) == 1, f"{doc}: an example is missing or repeated"
        shown += len(blocks)
        out[name] = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                       "language": "python"}})
    assert shown == 14, shown
    return out


def execute(nb, timeout=1200):
    """Run ``nb`` top to bottom in a fresh kernel from this folder; returns it with outputs."""
    from nbclient import NotebookClient
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": HERE}}).execute()
    return nb


def main(argv=None):
    import argparse
    p = argparse.ArgumentParser(description="Write (and execute) the five document notebooks.", allow_abbrev=False)
    p.add_argument("--execute", action="store_true", help="run each notebook and write it with its outputs")
    p.add_argument("--fast", action="store_true", help="with --execute: KERAS_ARCH_NOTEBOOK_FAST=1 (fewer epochs)")
    p.add_argument("names", nargs="*", help="only these notebooks (default: all five)")
    args = p.parse_args(argv)
    if args.fast:
        os.environ["KERAS_ARCH_NOTEBOOK_FAST"] = "1"
    for name, nb in build().items():
        if args.names and name not in args.names:
            continue
        start = time.perf_counter()
        if args.execute:
            nb = execute(nb)
        nbformat.write(nb, os.path.join(HERE, name))
        print("wrote", name, f"with outputs (executed in {time.perf_counter() - start:.0f} s)" if args.execute else "")


if __name__ == "__main__":
    main()
