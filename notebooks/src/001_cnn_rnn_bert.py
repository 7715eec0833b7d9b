# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 文档 001 · Document 001: 9.2.1 模型结构创新 (model-structure innovation)
# Every code example of the document as written, then corrected and trained on embedded data; the
# [errata table](../docs/errata.md) says what each one does as written.

# %%
import os, sys
sys.path.insert(0, os.path.abspath(".."))  # the repository root
import keras_arch.quiet
keras_arch.quiet.enable()  # this notebook's choice: TensorFlow's start-up log lines stay out of the outputs
import numpy as np
from keras_arch import plots, train  # train: python -m keras_arch.run's options as keywords, the same checks
from keras_arch.backend import keras
from keras_arch.notebook import FAST, FIG, formula_check, setup, show
setup()  # %%as_written: a document's code exactly as written, its real error printed

# %% [markdown]
# ## 背景介绍 · Background
# From one or two hidden layers to CNNs, RNNs and Transformers.

# %% [markdown]
# ## 核心概念与联系 · Core concepts
# ### 什么是神经网络？ · What is a neural network?
# Neurons: inputs, weights and an activation function.
# ### 什么是深度学习？ · What is deep learning?
# Networks of many hidden layers.
# ### CNN、RNN和Transformer的区别 · CNN, RNN and Transformer
# Local connections and pooling; memory of earlier steps; attention between positions.

# %% [markdown]
# ## 核心算法原理和具体操作步骤以及数学模型公式详细讲解 · Algorithms and formulas
# ### CNN算法原理 · CNN
# $$y = f(w * x + b)$$
# $*$ the convolution, $w$ the filters, $b$ the bias, $f$ the activation. A Conv2D against NumPy:

# %%
rng = np.random.default_rng(1)
conv = keras.layers.Conv2D(5, 3, activation="relu", bias_initializer="random_normal")
x = rng.standard_normal((2, 7, 6, 3)).astype(np.float32)
y = conv(x).numpy()
w, b = conv.get_weights()  # w: (kh, kw, c_in, c_out)
windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))  # (n, 5, 4, c_in, kh, kw)
wx = np.einsum("nhwcij,ijcf->nhwf", windows, w)  # w * x, as Keras computes it (cross-correlation)
formula_check("y = f(w * x + b), Conv2D, f = relu", y, np.maximum(wx + b, 0.0))

# %% [markdown]
# ### RNN算法原理 · RNN
# $$h_t = f(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})$$
# Keras's SimpleRNN keeps one bias, $b = b_{ih} + b_{hh}$ (the same function). Against NumPy, with a
# sigmoid output $y_t = g(W_y h_t + b_y)$ at every step:

# %%
from keras_arch.models import rnn
from keras_arch.reference import randomize
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
formula_check("y_t = g(W h_t + b)", model(x), np.stack(ys, 1))

# %% [markdown]
# ### Transformer算法原理 · Transformer
# $$\text{Attention}(Q,K,V) = \text{softmax}\left(\frac{QK^T}{\sqrt{d_k}}\right)V,\qquad
# \text{MultiHead}(X) = \text{Concat}(\text{head}_1,\dots,\text{head}_h)\,W^O,\quad
# \text{head}_i = \text{Attention}(XW_i^Q, XW_i^K, XW_i^V)$$
#
# keras_arch's `MultiHeadSelfAttention` against the formula written out in NumPy (`tests/reference.py`),
# random weights, three heads, padding masked:

# %%
import tensorflow as tf
from keras_arch.layers.multi_head_self_attention import MultiHeadSelfAttention
from keras_arch.reference import multi_head_self_attention, mhsa_weights, randomize
x = np.random.default_rng(3).normal(size=(3, 6, 7)).astype(np.float32)
mask = np.array([[True] * 6, [True] * 4 + [False] * 2, [True] * 3 + [False] * 3])  # padding at the end
layer = MultiHeadSelfAttention(num_heads=3, key_dim=5)  # 3 heads of d_k = 5 over d_model = 7
layer(x)
randomize(layer, seed=4)
out, weights = layer(x, mask=tf.constant(mask), return_attention_scores=True)
ref_out, ref_weights = multi_head_self_attention(x, *mhsa_weights(layer), mask=mask)
formula_check("softmax(QK^T / sqrt(d_k)) per head", weights, ref_weights)
formula_check("MultiHead = Concat(head_1..head_h) W^O", out, ref_out)

# %% [markdown]
# ## 具体最佳实践：代码实例和详细解释说明 · Code examples
# ### CNN实现 · CNN (functional API)

# %%
# example: 001 0

# %% [markdown]
# **The corrected Keras code** (`cnn-doc001`, the Dense layer applied, 54,410 parameters):

# %%
# source: keras_arch.models.cnn:doc001_cnn

# %%
model, m = train("cnn-doc001", epochs=2 if FAST else None, quiet=True)
print("test accuracy", m["test_accuracy"], "parameters", m["parameters"])
show(plots.training_curves(m["history"], os.path.join(FIG, "m.png"), m["arch"]))

# %% [markdown]
# ### RNN实现 · RNN

# %%
num_features, num_classes = 28, 10  # what the document never defines: 28 pixels per row, 10 digits

# %%
# example: 001 1
# provide: Provided: `num_features`, `num_classes` (the cell above), so it gets as far as its bug.

# %% [markdown]
# **The corrected Keras code** (`lstm-doc001`: each digit image read row by row as a sequence). Its
# LSTM's gates,
#
# $$\begin{aligned}
# i_t &= \sigma(x_t W_i + h_{t-1} U_i + b_i) & f_t &= \sigma(x_t W_f + h_{t-1} U_f + b_f) & o_t &= \sigma(x_t W_o + h_{t-1} U_o + b_o)\\
# g_t &= \tanh(x_t W_c + h_{t-1} U_c + b_c) & c_t &= f_t \odot c_{t-1} + i_t \odot g_t & h_t &= o_t \odot \tanh(c_t)
# \end{aligned}$$
#
# computed by the Keras layer and in NumPy:

# %%
from keras_arch.reference import lstm, randomize
x = np.random.default_rng(4).normal(size=(2, 6, 5)).astype(np.float32)
layer = keras.layers.LSTM(4, return_sequences=True)
layer(x)
randomize(layer, seed=3)  # every weight and bias at random, so no gate hides behind a zero
outputs, h, c = lstm(x, *layer.get_weights())  # the gate equations above, step by step in NumPy
formula_check("LSTM gates, h_t at every step", layer(x), outputs)

# %%
# source: keras_arch.models.rnn:doc001_lstm_classifier

# %%
model, m = train("lstm-doc001", epochs=5 if FAST else None, quiet=True)
print("test accuracy", m["test_accuracy"])
show(plots.training_curves(m["history"], os.path.join(FIG, "m.png"), m["arch"]))

# %% [markdown]
# ### Transformer实现 · BERT classifier

# %%
os.environ["HF_HUB_OFFLINE"] = "1"  # no network here: fail at once instead of retrying the download for a minute

# %%
# example: 001 2
# provide: Offline, `BertTokenizer.from_pretrained('bert-base-uncased')` finds no cached copy and fails inside transformers; with a network it would download the model and then stop at `tf.keras.Model(outputs=output_layer)`, the unapplied Dense layer of the two examples above.

# %% [markdown]
# **The corrected Keras code** (`run bert`: the packaged all-MiniLM-L6-v2 encoder, offline, [CLS] ->
# Dropout -> Dense softmax, exported text-in):

# %%
# source: keras_arch.models.bert_classifier:bert_classifier

# %%
model, m = train("bert", quiet=True)  # the recipe: 5 epochs at batch 8, about 3.5 min here; no fast setting
print("test accuracy", m["test_accuracy"], "parameters", f"{m['parameters']:,}")

# %% [markdown]
# ## 实际应用场景 · Applications
# ### 计算机视觉 · Computer vision
# ### 自然语言处理 · Natural-language processing
# No code.

# %% [markdown]
# ## 工具和资源推荐 · Tools and resources
# ### TensorFlow 2.0
# ### Hugging Face Transformers
# ### Kaggle
# No code.

# %% [markdown]
# ## 总结：未来发展趋势与挑战 · Summary: trends and challenges
# No code.

# %% [markdown]
# ## 附录：常见问题与解答 · Appendix: FAQ
# No code.
