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
# # 文档 003 · Document 003: 大模型与新型神经网络结构 (large models and new structures)
# The document's formulas computed by Keras layers and in NumPy; its one code example (PyTorch) as
# written, then corrected in Keras.

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
# ## 1. 背景介绍 · Background
# Larger models, higher costs.

# %% [markdown]
# ## 2. 核心概念与联系 · Core concepts
# ### 2.1 大模型与小模型的区别 · Large vs small models
# ### 2.2 模型压缩与优化 · Compression and optimisation
# ### 2.3 新型神经网络结构 · New structures

# %% [markdown]
# ## 3. 核心算法原理和具体操作步骤及数学模型公式详细讲解 · Algorithms and formulas
# ### 3.1 卷积神经网络（CNN） · CNN
# $$y = f(Wx + b)$$
# For a Dense layer, and for a Conv2D where $Wx$ is the convolution:

# %%
rng = np.random.default_rng(0)
dense = keras.layers.Dense(4, activation="relu", bias_initializer="random_normal")
x = rng.standard_normal((3, 5)).astype(np.float32)
y = dense(x).numpy()
W, b = dense.get_weights()
formula_check("y = f(Wx + b), Dense, f = relu", y, np.maximum(x @ W + b, 0.0))

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
# ### 3.2 循环神经网络（RNN） · RNN
# $$h_t = f(Wx_t + Uh_{t-1} + b),\qquad y_t = g(Wh_t + b)$$
# (the output's $W$, $b$ are a second pair: $W_y$, $b_y$ below). $f = \tanh$, $g = \sigma$:

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
# ### 3.3 自注意力机制（Attention） · Attention
# $$a(i,j) = \frac{\exp(e(i,j))}{\sum_{k=1}^{N}\exp(e(i,k))},\qquad y_t = g\Big(\sum_{i=1}^{T}a(t,i)\,Wh_i + b\Big)$$
# The document leaves the score $e(i,j)$ open; its code (§4) is additive (Bahdanau) attention,
# $e(i,j) = v^T\tanh(W_q q_i + W_k k_j)$, whose context $\sum_j a(i,j)\,h_j$ is the sum inside $g$.
# keras_arch's `BahdanauAttention` against NumPy (`tests/reference.py::bahdanau`):

# %%
from keras_arch.layers.bahdanau_attention import BahdanauAttention
from keras_arch.reference import bahdanau, randomize
rng = np.random.default_rng(3)
q, k = rng.normal(size=(2, 3, 5)).astype(np.float32), rng.normal(size=(2, 6, 4)).astype(np.float32)
layer = BahdanauAttention(7)
layer([q, k])
randomize(layer, seed=4, scale=0.8)
context, weights = layer([q, k])
ref_context, ref_weights = bahdanau(q, k, layer.query_dense.kernel.numpy(), layer.key_dense.kernel.numpy(),
                                    layer.score_dense.kernel.numpy()[:, 0])
formula_check("a(i,j) = exp e(i,j) / sum_k exp e(i,k)", weights, ref_weights)
formula_check("context_i = sum_j a(i,j) h_j", context, ref_context)

# %% [markdown]
# ## 4. 具体最佳实践：代码实例和详细解释说明 · Code example: attention for summarisation

# %%
# example: 003 0
# pytorch

# %% [markdown]
# **The corrected Keras code**: additive attention whose scores see every encoder output, a softmax
# over the encoder steps, padding masked; in an LSTM encoder-decoder (`run seq2seq`, sequence reversal:
# a summary needs the same alignment skill):

# %%
# source: keras_arch.layers.bahdanau_attention:BahdanauAttention.call

# %%
# source: keras_arch.models.seq2seq:seq2seq

# %%
model, m = train("seq2seq", epochs=4 if FAST else None, quiet=True)
print("teacher-forced token accuracy", m["test_accuracy"])
show(plots.training_curves(m["history"], os.path.join(FIG, "m.png"), m["arch"]))
from keras_arch.data import sequences
for path in plots.seq2seq_attention(model, sequences.load_reversal(), FIG):
    show(path)

# %% [markdown]
# ## 5. 实际应用场景 · Applications
# No code.

# %% [markdown]
# ## 6. 工具和资源推荐 · Tools and resources
# No code.

# %% [markdown]
# ## 7. 总结：未来发展趋势与挑战 · Summary: trends and challenges
# No code.

# %% [markdown]
# ## 8. 附录：常见问题与解答 · Appendix: FAQ
# No code.
