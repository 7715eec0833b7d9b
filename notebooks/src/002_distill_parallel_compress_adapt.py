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
# # 文档 002 · Document 002: 新型神经网络结构 — 优化、并行、压缩、自适应
# (structure optimisation, parallelism, compression, adaptation). The document's four examples are
# PyTorch placeholders: shown as written, with what fails, then done in Keras.

# %%
# Two logical CPU devices for the data-parallel example: this must run before TensorFlow starts.
import os, sys
sys.path.insert(0, os.path.abspath(".."))
import keras_arch.quiet
keras_arch.quiet.enable()  # TensorFlow's start-up log lines stay out of the outputs
from keras_arch.training import distribute
distribute.configure_devices(2)

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
# Costs of large models.

# %% [markdown]
# ## 2. 核心概念与联系 · Core concepts
# Four levers: structure, parallelism, compression, adaptation.

# %% [markdown]
# ## 3. 核心算法原理和具体操作步骤以及数学模型公式详细讲解 · Algorithms
# ### 3.1 模型结构的优化 · Structure: knowledge distillation
# The document names distillation without a formula; keras_arch's `Distiller` trains the student on
# $$L = \alpha\,CE\big(y, \mathrm{softmax}(s)\big) + (1-\alpha)\,T^2\,KL\big(\mathrm{softmax}(t/T)\,\|\,\mathrm{softmax}(s/T)\big)$$
# ($t$, $s$ the teacher's and student's logits). Its loss against NumPy:

# %%
import tensorflow as tf
from keras_arch.models.cnn import doc001_cnn, tiny_cnn
from keras_arch.optimize.distiller import Distiller
from keras_arch.reference import softmax
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
formula_check("L = alpha CE + (1 - alpha) T^2 KL", loss, alpha * ce + (1 - alpha) * T * T * kl)

# %% [markdown]
# ### 3.2 模型的并行化 · Parallelism
# Distributed and data-parallel training: §4.2.

# %% [markdown]
# ### 3.3 模型的压缩 · Compression
# Quantisation and pruning: §4.3.

# %% [markdown]
# ### 3.4 模型的自适应 · Adaptation
# A mixture of experts adapts per token: a router sends each token to its top-$k$ experts, and a
# load-balancing loss keeps the experts evenly used:
# $$\mathcal{L}_{aux} = \alpha N \sum_{i=1}^{N} f_i P_i$$
# $f_i$ the share of tokens whose first choice is expert $i$, $P_i$ the mean router probability of $i$.
# The layer's value against NumPy:

# %%
import tensorflow as tf
from keras_arch.layers.mixture_of_experts import MixtureOfExperts
from keras_arch.reference import softmax
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
formula_check("aux = alpha N sum_i f_i P_i", r["aux_loss"], alpha * n * np.sum(f * P))

# %% [markdown]
# ## 4. 具体最佳实践：代码实例和详细解释说明 · Code examples
# ### 4.1 模型结构的优化 · Distillation

# %%
# example: 002 0
# pytorch

# %% [markdown]
# **The corrected Keras code**: the distiller's loss and training step, then `run distill` (the `cnn`
# teacher, a 5,258-parameter student):

# %%
# source: keras_arch.optimize.distiller:Distiller.distillation_loss, keras_arch.optimize.distiller:Distiller.train_step

# %%
# source: keras_arch.models.cnn:tiny_cnn

# %%
student, m = train("distill", epochs=5 if FAST else None, quiet=True)
print("student", m["test_accuracy"], "teacher", m["teacher"]["eval_accuracy"], "parameter ratio", round(m["parameter_ratio"], 3))

# %% [markdown]
# ### 4.2 模型的并行化 · Data parallelism

# %%
# example: 002 1
# pytorch

# %% [markdown]
# **In Keras**: MirroredStrategy over the two logical CPUs configured at the top; the global batch of
# 64 splits 32 + 32, the gradients are summed across replicas:

# %%
model, m = train("cnn-doc000", strategy="mirrored", epochs=2, batch_size=64, quiet=True)
print(m["distribution"], "test accuracy", m["test_accuracy"])

# %% [markdown]
# ### 4.3 模型的压缩 · Compression

# %%
# example: 002 2
# pytorch

# %% [markdown]
# **In Keras**: prune to 80% sparsity, pruning-preserving quantisation-aware training, full-int8 TFLite:

# %%
tflite_path = os.path.join(FIG, "cnn.tflite")
model, m = train("cnn", epochs=3 if FAST else None, prune=0.8, qat=True, tflite=tflite_path,
                 compress_epochs=1 if FAST else 2, quiet=True)
for stage, s in m["stages"].items():
    print(stage, {k: v for k, v in s.items() if isinstance(v, (int, float))})
show(plots.layer_sparsity(m["stages"]["pruned"]["layer_sparsity"], os.path.join(FIG, "sparsity.png")))
show(plots.compression_stages(m["stages"], os.path.join(FIG, "compression.png")))  # float vs int8: accuracy and size

# %% [markdown]
# ### 4.4 模型的自适应 · Adaptive networks

# %%
# example: 002 3
# pytorch

# %% [markdown]
# **The corrected Keras code**: two networks that do adapt. A mixture of experts (each token picks its
# expert; the layer's `call`):

# %%
# source: keras_arch.layers.mixture_of_experts:MixtureOfExperts.call

# %%
model, m = train("moe", epochs=3 if FAST else None, quiet=True)
moe_layer = next(layer for layer in model.submodules if type(layer).__name__ == "MixtureOfExperts")
show(plots.expert_load(m["encoder_0/moe_expert_load"], os.path.join(FIG, "moe_load.png"), moe_layer.capacity_factor))

# %% [markdown]
# And an early-exit CNN (easy images stop at an early head):

# %%
# source: keras_arch.models.early_exit:early_exit_cnn

# %%
model, m = train("early-exit", epochs=8 if FAST else None, quiet=True)
show(plots.early_exit_tradeoff(m["tradeoff"], os.path.join(FIG, "early_exit.png")))

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
