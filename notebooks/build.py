"""Write the five document notebooks (000-004), without outputs.

    python notebooks/build.py

Each notebook follows its document's section order and headings (Chinese,
with English), runs every code example as the corrected keras_arch call on
embedded data, draws the pictures a reader wants, and runs each formula's
test next to the formula. KERAS_ARCH_NOTEBOOK_FAST=1 (what CI sets) trains
for fewer epochs.
"""
import os

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = os.path.dirname(os.path.abspath(__file__))

SETUP = '''import os, sys, tempfile
sys.path.insert(0, os.path.abspath(".."))  # the repository root: keras_arch and its tests
FAST = os.environ.get("KERAS_ARCH_NOTEBOOK_FAST") == "1"  # CI's setting: fewer epochs
import keras_arch  # selects Keras 2 (tf_keras) before TensorFlow loads
from keras_arch import train  # python -m keras_arch.run's options as keywords, the same checks
from keras_arch import plots
from IPython.display import Image, display
import numpy as np
FIG = tempfile.mkdtemp(prefix="keras_arch-figures-")

def show(path):
    display(Image(filename=path))

def formula_check(test, *args):
    """Run the test that proves a formula; it raises if the formula does not hold."""
    test(*args)
    print(f"{test.__module__}::{test.__name__}: holds")'''


def md(text):
    return new_markdown_cell(text.strip())


def code(text):
    return new_code_cell(text.strip())


def curves(var="m"):
    return f'show(plots.training_curves({var}["history"], os.path.join(FIG, "{var}.png"), {var}["arch"]))'


DOC000 = [
    md("""# 文档 000 · Document 000: 新型神经网络结构的创新 (new neural-network structures)
Every code example of the document, corrected and trained on embedded data. The errata table
(README, `python -m keras_arch.run --list`) says what each one does as written."""),
    code(SETUP),
    md("""## 1. 背景介绍 · Background
Large models are costly; the document surveys structure (CNN, RNN, attention), training methods
and knowledge transfer as ways to do more with less."""),
    md("""## 2. 核心概念与联系 · Core concepts
CNNs for grid data, RNNs for sequences, attention for long-range dependencies; training methods
decide how fast they converge; transfer reuses what was learnt."""),
    md("""## 3. 核心算法原理和具体操作步骤 · Algorithms
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
    md("""## 4. 具体最佳实践：代码实例 · Code examples
### 4.1 CNN实现 · CNN
The document's Sequential CNN is sound; it never defines `x_train`. `cnn-doc000` is it exactly
(93,322 parameters); `cnn` adds BatchNorm and reaches 99.40% on MNIST."""),
    code('''model, m = train("cnn-doc000", epochs=3 if FAST else None, quiet=True)
print("test accuracy", m["test_accuracy"], "parameters", m["parameters"])
''' + curves() + '''
from keras_arch.data import images
splits = images.load()
_, x, y = splits.eval_split()
show(plots.confusion_matrix(y, model.predict(x, verbose=0).argmax(1), os.path.join(FIG, "confusion.png")))'''),
    md("""### 4.2 RNN实现 · RNN
`LSTM(128, return_sequences=True)` x2 then Dense: the document's model labels every timestep, which
needs per-timestep labels it never mentions. `run lstm` trains it on generated sequences whose label
at t depends on t-1 and t."""),
    code('''model, m = train("lstm", epochs=3 if FAST else None, quiet=True)
print("per-timestep test accuracy", m["test_accuracy"])
''' + curves()),
    md("""### 4.3 Attention实现 · Attention
As written, `Attention()` inside a Sequential fails (it needs a [query, value] list) and the LSTM
returns only its last state. `run attention`: the final state queries every LSTM step, padding masked."""),
    code('''model, m = train("attention", epochs=3 if FAST else None, quiet=True)
print("test accuracy", m["test_accuracy"])
from keras_arch.data import text
splits = text.load()
for path in plots.attention_classifier(model, splits, FIG):
    show(path)'''),
    md("""## 5–8. 实际应用场景 · 工具和资源推荐 · 总结 · 附录
Applications, tools, outlook and FAQ: no code. The suite's commands for each example are in the
README's errata table."""),
]

DOC001 = [
    md("""# 文档 001 · Document 001: 9.2.1 模型结构创新 (model-structure innovation)"""),
    code(SETUP),
    md("""## 背景介绍 · Background, 核心概念与联系 · Core concepts
什么是神经网络 / 深度学习 / CNN、RNN和Transformer的区别: what a neural network is, what deep
learning is, and how CNNs, RNNs and Transformers differ."""),
    md("""## 核心算法原理 · Algorithms
### CNN算法原理 · CNN: $y = f(w * x + b)$
Checked by `tests/models/cnn_test.py::test_conv_layer_equals_formula_y_f_wx_plus_b` (a Conv2D
recomputed in NumPy):"""),
    code('''from tests.models.cnn_test import test_conv_layer_equals_formula_y_f_wx_plus_b
formula_check(test_conv_layer_equals_formula_y_f_wx_plus_b)'''),
    md("""### RNN算法原理 · RNN: $h_t = f(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})$
Checked by `tests/models/rnn_test.py::test_simple_rnn_equals_the_recurrence_formula`:"""),
    code('''from tests.models.rnn_test import test_simple_rnn_equals_the_recurrence_formula
formula_check(test_simple_rnn_equals_the_recurrence_formula)'''),
    md("""### Transformer算法原理 · Transformer: $\\text{Attention}(Q,K,V) = \\text{softmax}(QK^T/\\sqrt{d_k})V$
Checked by `tests/layers/multi_head_self_attention_test.py::test_formula_in_numpy_with_and_without_mask`:"""),
    code('''from tests.layers.multi_head_self_attention_test import test_formula_in_numpy_with_and_without_mask
formula_check(test_formula_in_numpy_with_and_without_mask)'''),
    md("""## 具体最佳实践：代码实例 · Code examples
### CNN实现 · CNN (functional API)
As written, `outputs=` is the Dense layer object, never applied: `keras.Model` refuses it.
`doc001_cnn` applies it (54,410 parameters)."""),
    code('''model, m = train("cnn-doc001", epochs=2 if FAST else None, quiet=True)
print("test accuracy", m["test_accuracy"], "parameters", m["parameters"])
''' + curves()),
    md("""### RNN实现 · RNN
Same defect (`outputs=` an unapplied Dense; `num_features`, `num_classes` undefined). `run lstm-doc001`
reads each digit image row by row as a variable-length sequence."""),
    code('''model, m = train("lstm-doc001", epochs=5 if FAST else None, quiet=True)
print("test accuracy", m["test_accuracy"])
''' + curves()),
    md("""### Transformer实现 · BERT classifier
As written: downloads bert-base-uncased, reuses the name `model`, never applies the Dense layer.
`run bert` fine-tunes the packaged all-MiniLM-L6-v2 offline and exports a text-in SavedModel."""),
    code('''model, m = train("bert", epochs=1, max_length=32 if FAST else 64, quiet=True)
print("test accuracy", m["test_accuracy"], "parameters", f"{m['parameters']:,}")'''),
    md("""## 实际应用场景 · 工具和资源推荐 · 总结 · 附录
Applications (vision, language, speech), tools, outlook: no code."""),
]

DOC002 = [
    md("""# 文档 002 · Document 002: 新型神经网络结构 — 优化、并行、压缩、自适应
(structure optimisation, parallelism, compression, adaptation)"""),
    code('''# Two logical CPU devices for the data-parallel example: this must run before TensorFlow starts.
from keras_arch.training import distribute
distribute.configure_devices(2)'''),
    code(SETUP),
    md("""## 1. 背景介绍 · Background; 2. 核心概念与联系 · Core concepts
Costs of large models; four levers: structure, parallelism, compression, adaptation."""),
    md("""## 3. 核心算法原理 · Algorithms
### 3.1 模型结构的优化 · Structure: knowledge distillation
$L = \\alpha\\,CE(y, s) + (1-\\alpha)\\,T^2\\,KL(\\mathrm{softmax}(t/T)\\,\\|\\,\\mathrm{softmax}(s/T))$, checked by
`tests/optimize/distiller_test.py::test_loss_equals_the_formula_in_numpy`:"""),
    code('''from tests.optimize.distiller_test import test_loss_equals_the_formula_in_numpy
formula_check(test_loss_equals_the_formula_in_numpy)'''),
    md("""### 3.2 模型的并行化 · Parallelism; 3.3 模型的压缩 · Compression; 3.4 模型的自适应 · Adaptation
Their code follows in §4.4's order. The load-balancing loss of the mixture of experts,
$\\alpha N \\sum_i f_i P_i$, is checked by `tests/layers/mixture_of_experts_test.py::test_aux_loss_on_a_hand_computed_case`:"""),
    code('''from tests.layers.mixture_of_experts_test import test_aux_loss_on_a_hand_computed_case
formula_check(test_aux_loss_on_a_hand_computed_case)'''),
    md("""## 4. 代码实例 · Code examples
### 4.1 模型结构的优化 · Distillation
As written both models return `x` and nothing trains. `run distill` trains the `cnn` teacher, then a
5,258-parameter student."""),
    code('''student, m = train("distill", epochs=5 if FAST else None, quiet=True)
print("student", m["test_accuracy"], "teacher", m["teacher"]["eval_accuracy"], "parameter ratio", round(m["parameter_ratio"], 3))'''),
    md("""### 4.2 模型的并行化 · Data parallelism
As written `parser` is undefined and no process group exists. Here: MirroredStrategy over the two
logical CPUs configured above; the global batch splits 32 + 32."""),
    code('''model, m = train("cnn-doc000", strategy="mirrored", epochs=2, batch_size=64, quiet=True)
print(m["distribution"], "test accuracy", m["test_accuracy"])'''),
    md("""### 4.3 模型的压缩 · Compression
`torch.quantization.q_module` does not exist. Here: prune to 80%, pruning-preserving QAT, full-int8 TFLite."""),
    code('''tflite_path = os.path.join(FIG, "cnn.tflite")
model, m = train("cnn", epochs=3 if FAST else None, prune=0.8, qat=True, tflite=tflite_path,
                                   compress_epochs=1 if FAST else 2, quiet=True)
for stage, s in m["stages"].items():
    print(stage, {k: v for k, v in s.items() if isinstance(v, (int, float))})
show(plots.layer_sparsity(m["stages"]["pruned"]["layer_sparsity"], os.path.join(FIG, "sparsity.png")))'''),
    md("""### 4.4 模型的自适应 · Adaptive networks
`adapt()` is `pass` as written. Two networks that do adapt: a mixture of experts (each token picks
its expert) and an early-exit CNN (easy images stop early)."""),
    code('''model, m = train("moe", epochs=3 if FAST else None, quiet=True)
load = m["encoder_0/moe_expert_load"]
import matplotlib.pyplot as plt
plt.bar(range(len(load)), load); plt.title("share of held-out tokens per expert"); plt.show()
model, m = train("early-exit", epochs=8 if FAST else None, quiet=True)
show(plots.early_exit_tradeoff(m["tradeoff"], os.path.join(FIG, "early_exit.png")))'''),
    md("""## 5–8. 实际应用场景 · 工具和资源推荐 · 总结 · 附录
No code."""),
]

DOC003 = [
    md("""# 文档 003 · Document 003: 大模型与新型神经网络结构 (large models and new structures)"""),
    code(SETUP),
    md("""## 1. 背景介绍 · Background; 2. 核心概念与联系 · Core concepts
2.1 大模型与小模型的区别 (large vs small models), 2.2 模型压缩与优化 (compression), 2.3 新型神经网络结构 (new structures)."""),
    md("""## 3. 核心算法原理 · Algorithms
### 3.1 卷积神经网络（CNN）: $y = f(Wx + b)$
Checked by `tests/models/cnn_test.py::test_conv_layer_equals_formula_y_f_wx_plus_b`:"""),
    code('''from tests.models.cnn_test import test_conv_layer_equals_formula_y_f_wx_plus_b
formula_check(test_conv_layer_equals_formula_y_f_wx_plus_b)'''),
    md("""### 3.2 循环神经网络（RNN）: $h_t = f(Wx_t + Uh_{t-1} + b)$, $y_t = g(Wh_t + b)$
Checked by `tests/models/rnn_test.py::test_simple_rnn_equals_the_recurrence_formula`:"""),
    code('''from tests.models.rnn_test import test_simple_rnn_equals_the_recurrence_formula
formula_check(test_simple_rnn_equals_the_recurrence_formula)'''),
    md("""### 3.3 自注意力机制（Attention）: $a(i,j) = \\frac{\\exp e(i,j)}{\\sum_k \\exp e(i,k)}$, $y_t = g(\\sum_i a(t,i) W h_i + b)$
With $e(i,j) = v^T\\tanh(W_q q_i + W_k k_j)$ (additive attention), checked by
`tests/layers/bahdanau_attention_test.py::test_additive_formula_in_numpy`:"""),
    code('''from tests.layers.bahdanau_attention_test import test_additive_formula_in_numpy
formula_check(test_additive_formula_in_numpy)'''),
    md("""## 4. 代码实例 · Code example: attention for summarisation
As written, the scores never see `encoder_outputs`, `V` gets the wrong input width, and the softmax
runs over an axis of size 1 (every weight is 1). `run seq2seq`: an LSTM encoder-decoder with
Bahdanau attention, on sequence reversal (a summary needs the same alignment skill)."""),
    code('''model, m = train("seq2seq", epochs=4 if FAST else None, quiet=True)
print("teacher-forced token accuracy", m["test_accuracy"])
''' + curves() + '''
from keras_arch.data import sequences
splits = sequences.load_reversal()
for path in plots.seq2seq_attention(model, splits, FIG):
    show(path)'''),
    md("""## 5–8. 实际应用场景 · 工具和资源推荐 · 总结 · 附录
No code."""),
]

DOC004 = [
    md("""# 文档 004 · Document 004: 大型模型的新型神经网络结构 — 自注意力、跨模态、结构化知识
(self-attention, cross-modal learning, structured knowledge)"""),
    code(SETUP),
    md("""## 1. 背景介绍 · Background; 2. 核心概念与联系 · Core concepts
2.1 大型神经网络, 2.2 模型结构的创新, 2.3 新型神经网络结构."""),
    md("""## 3. 核心算法原理 · Algorithms
### 3.1 自注意力机制 · Self-attention: $\\text{softmax}(QK^T/\\sqrt{d_k})V$
Checked by `tests/layers/multi_head_self_attention_test.py::test_formula_in_numpy_with_and_without_mask`:"""),
    code('''from tests.layers.multi_head_self_attention_test import test_formula_in_numpy_with_and_without_mask
formula_check(test_formula_in_numpy_with_and_without_mask)'''),
    md("""### 3.2 跨模态学习 · Cross-modal: $f(x_i, y_i) = \\sum_j \\alpha_{ij} f_j(x_i) + \\sum_k \\beta_{ik} f_k(y_i)$
Checked by `tests/layers/weighted_fusion_test.py::test_fusion_formula_against_numpy`; the similarity
matrix by `tests/layers/contrastive_similarity_test.py::test_scaled_cosine_matrix_against_numpy`:"""),
    code('''import pathlib
from tests.layers.weighted_fusion_test import test_fusion_formula_against_numpy
from tests.layers.contrastive_similarity_test import test_scaled_cosine_matrix_against_numpy
formula_check(test_fusion_formula_against_numpy, pathlib.Path(tempfile.mkdtemp()))
formula_check(test_scaled_cosine_matrix_against_numpy, pathlib.Path(tempfile.mkdtemp()))'''),
    md("""### 3.3 结构化知识迁移 · Structured knowledge: $f(e_i, r, e_j) = \\text{MLP}(E(e_i) \\oplus E(e_j) \\oplus E(r))$
⊕ as concatenation and as the text's addition, checked by
`tests/layers/er_mlp_scorer_test.py::test_every_form_equals_the_formula`; the filtered ranking by
`tests/training/ranking_test.py::test_filtered_ranking_equals_brute_force`:"""),
    code('''from tests.layers.er_mlp_scorer_test import test_every_form_equals_the_formula
from tests.training.ranking_test import test_filtered_ranking_equals_brute_force
for combine in ("concat", "sum"):
    formula_check(test_every_form_equals_the_formula, combine)
formula_check(test_filtered_ranking_equals_brute_force)'''),
    md("""## 4. 代码实例 · Code examples
### 4.1 自注意力机制 · Self-attention
As written: no softmax over the scores, `unbind(dim=2)` splits the sequence instead of q/k/v, `np`
not imported. `run transformer` uses the corrected multi-head self-attention."""),
    code('''model, m = train("transformer", epochs=8 if FAST else None, quiet=True)  # fewer than 8 stop on the plateau (README, Short runs)
print("test accuracy", m["test_accuracy"])
from keras_arch.data import text
for path in plots.transformer_attention(model, text.load(), FIG):
    show(path)'''),
    md("""### 4.2 跨模态学习 · Cross-modal learning
As written: 256-wide features into `nn.Linear(128, 64)` fail. `run crossmodal`: image and text towers
in one space, symmetric InfoNCE, the fusion formula as a head."""),
    code('''model, m = train("crossmodal", epochs=8 if FAST else None, quiet=True)
print({k: round(v, 4) for k, v in m.items() if "recall" in k or "fused" in k})
from keras_arch.data import captions
from keras_arch.training.crossmodal import similarity_pairs
for path in plots.similarity_matrix(*similarity_pairs(model, captions.load()), FIG):
    show(path)'''),
    md("""### 4.3 结构化知识迁移 · Structured knowledge
As written: `num_entities` undefined and the forward pass never sees $e_j$. `run kg` scores
(head, relation, tail) triples of a generated family tree; filtered MRR and Hits@k."""),
    code('''for combine in ("concat", "sum"):
    model, m = train("kg", epochs=10 if FAST else None, combine=combine, quiet=True)
    print(combine, "test MRR", round(m["test_mrr"], 4), "Hits@1/3/10",
          [round(m[f"test_hits@{k}"], 3) for k in (1, 3, 10)])'''),
    md("""## 5–6. 未来发展趋势与挑战 · 附录常见问题与解答 · Outlook, FAQ
No code."""),
]

NOTEBOOKS = {"000_structures_training_transfer.ipynb": DOC000, "001_cnn_rnn_bert.ipynb": DOC001,
             "002_distill_parallel_compress_adapt.ipynb": DOC002, "003_attention_summarisation.ipynb": DOC003,
             "004_selfattention_crossmodal_kg.ipynb": DOC004}


def main():
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                "language": "python"}})
        nbformat.write(nb, os.path.join(HERE, name))
        print("wrote", name)


if __name__ == "__main__":
    main()
