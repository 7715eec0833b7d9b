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
# # 文档 000 · Document 000: AI大模型的未来发展趋势-8.1 模型结构的创新-8.1.1 新型神经网络结构
# (new neural-network structures). Every code example of the document as written, then corrected and trained
# on embedded data; the [errata table](../docs/errata.md) says what each one does as written.

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
# ## 1.背景介绍 · Background
# Large models are costly; the document surveys structure (CNN, RNN, attention), training methods
# and knowledge transfer as ways to do more with less.

# %% [markdown]
# ## 2.核心概念与联系 · Core concepts
# CNNs for grid data, RNNs for sequences, attention for long-range dependencies; training methods
# decide how fast they converge; transfer reuses what was learnt.

# %% [markdown]
# ## 3.核心算法原理和具体操作步骤以及数学模型公式详细讲解 · Algorithms (the document states no formula)
# ### 3.1 模型结构的优化 · Optimising the structure
# CNN, RNN and attention: their code is in §4 below.

# %% [markdown]
# ### 3.2 训练方法的创新 · Training methods
# SGD, batch gradient descent and learning-rate decay, side by side on the document's CNN
# (`--optimizer`, `--full-batch`, `--lr-schedule`).

# %%
epochs = 4 if FAST else 15
runs = {"SGD, mini-batch 32": dict(optimizer="sgd", learning_rate=0.05, batch_size=32, epochs=epochs, quiet=True),
        "batch GD (full batch)": dict(optimizer="sgd", learning_rate=0.05, full_batch=True, epochs=epochs, quiet=True),
        "Adam + step decay": dict(lr_schedule="step", learning_rate=3e-3, epochs=epochs, quiet=True)}
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(6, 4))
for label, options in runs.items():
    _, m = train("cnn-doc000", **options)
    ax.plot(range(1, epochs + 1), m["history"]["val_loss"], label=f"{label}: test acc {m['test_accuracy']:.3f}")
ax.set_xlabel("epoch"), ax.set_ylabel("validation loss"), ax.set_yscale("log"), ax.legend()
plt.show()

# %% [markdown]
# ### 3.3 知识迁移 · Knowledge transfer
# Pre-training and fine-tuning (`run transfer`), cross-task learning (`run multitask`); knowledge
# graphs are document 004's §3.3 (notebook 004).

# %%
_, t = train("transfer", quiet=True)
print({k: round(t[k], 4) for k in ("source_accuracy", "frozen_trunk_accuracy", "fine_tuned_accuracy", "scratch_accuracy")})
_, mt = train("multitask", epochs=5 if FAST else None, quiet=True)
print("digit", mt["test_digit_accuracy"], "parity", mt["test_parity_accuracy"])

# %% [markdown]
# ## 4.具体最佳实践：代码实例和详细解释说明 · Code examples
# ### 4.1 CNN实现 · CNN

# %%
from keras_arch.data import images
splits = images.load()
x_train, y_train = splits.x_train[:1024], splits.y_train[:1024]  # what the document never defines

# %%
# example: 000 0
# provide: As written it stops at `NameError: name 'x_train' is not defined`. Provided: `x_train`, `y_train` (1,024 of the suite's training digits, the cell above), and the rest runs as written, 10 epochs:

# %% [markdown]
# **The corrected Keras code** (`cnn-doc000` is the document's model exactly, 93,322 parameters; `cnn`
# adds BatchNorm and dropout) and its training through the library's pipeline:

# %%
# source: keras_arch.models.cnn:_conv_block, keras_arch.models.cnn:doc000_cnn

# %%
model, m = train("cnn-doc000", epochs=3 if FAST else None, quiet=True)
print("test accuracy", m["test_accuracy"], "parameters", m["parameters"])
show(plots.training_curves(m["history"], os.path.join(FIG, "m.png"), m["arch"]))
_, x, y = splits.eval_split()
show(plots.confusion_matrix(y, model.predict(x, verbose=0).argmax(1), os.path.join(FIG, "confusion.png")))

# %% [markdown]
# ### 4.2 RNN实现 · RNN

# %%
rng = np.random.default_rng(0)
x_train = rng.normal(size=(256, 100, 64)).astype(np.float32)  # 256 sequences of the document's shape (100, 64)
y_train = rng.integers(0, 10, 256)  # one label per sequence, as the text implies

# %%
# example: 000 1
# provide: Provided: `x_train`, `y_train` (random sequences of the document's shape with one label each, the cell above): the per-timestep output then meets one label per sequence.

# %% [markdown]
# **The corrected Keras code**: the same stacked LSTM, trained where a label exists at every timestep
# (`run lstm`: generated sequences whose label at t depends on t-1 and t). The LSTM's gates:
#
# $$\begin{aligned}
# i_t &= \sigma(x_t W_i + h_{t-1} U_i + b_i) & f_t &= \sigma(x_t W_f + h_{t-1} U_f + b_f) & o_t &= \sigma(x_t W_o + h_{t-1} U_o + b_o)\\
# g_t &= \tanh(x_t W_c + h_{t-1} U_c + b_c) & c_t &= f_t \odot c_{t-1} + i_t \odot g_t & h_t &= o_t \odot \tanh(c_t)
# \end{aligned}$$
#
# computed by the Keras layer and in NumPy (`tests/reference.py::lstm`):

# %%
from keras_arch.reference import lstm, randomize
x = np.random.default_rng(4).normal(size=(2, 6, 5)).astype(np.float32)
layer = keras.layers.LSTM(4, return_sequences=True)
layer(x)
randomize(layer, seed=3)  # every weight and bias at random, so no gate hides behind a zero
outputs, h, c = lstm(x, *layer.get_weights())  # the gate equations above, step by step in NumPy
formula_check("LSTM gates, h_t at every step", layer(x), outputs)

# %%
# source: keras_arch.models.rnn:doc000_stacked_lstm

# %%
model, m = train("lstm", epochs=3 if FAST else None, quiet=True)
print("per-timestep test accuracy", m["test_accuracy"])
show(plots.training_curves(m["history"], os.path.join(FIG, "m.png"), m["arch"]))

# %% [markdown]
# ### 4.3 Attention实现 · Attention

# %%
# example: 000 2

# %% [markdown]
# **The corrected Keras code** (`run attention`): the LSTM's final state queries every LSTM step,
# padding masked, in the functional API:

# %%
# source: keras_arch.models.attention:doc000_attention_classifier

# %%
model, m = train("attention", epochs=3 if FAST else None, quiet=True)
print("test accuracy", m["test_accuracy"])
from keras_arch.data import text
for path in plots.attention_classifier(model, text.load(), FIG):
    show(path)

# %% [markdown]
# ## 5.实际应用场景 · Applications
# Image classification (CNN), speech (RNN), machine translation (attention): no code.

# %% [markdown]
# ## 6.工具和资源推荐 · Tools and resources
# TensorFlow, Keras, PyTorch, papers and blogs: no code.

# %% [markdown]
# ## 7.总结：未来发展趋势与挑战 · Summary: trends and challenges
# No code.

# %% [markdown]
# ## 8.附录：常见问题与解答 · Appendix: FAQ
# No code.
