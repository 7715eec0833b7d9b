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
# # 文档 002 · Document 002：新型神经网络结构——优化、并行、压缩、自适应
#
# 这篇文章把降低大模型成本的办法归成四类：结构优化（知识蒸馏）、并行化（分布式与数据并行）、压缩（量化与裁剪）、自适应（按输入调整网络）。
# 它的第 3 节只有文字、没有一个公式，第 4 节的四段 PyTorch 代码都是空壳：模型原样返回输入，"训练过程"只是一行注释，量化用的 API 根本不存在。
# 本笔记本逐节跟着文章走：先说文章说了什么、哪里不对，再把缺掉的公式写出来，用 Keras 实现、与 NumPy 参照实现逐项核对（每条核对打印一行 `max |Keras - NumPy| = ...`），最后在真实数据上训练，把蒸馏、数据并行、剪枝 + 量化、混合专家和提前退出的效果量出来。
#
# *The article sorts the ways of making large models cheaper into four levers: structure (knowledge distillation),
# parallelism (distributed and data-parallel training), compression (quantization and pruning) and adaptation
# (networks that change with their input). Its §3 has prose and no formula; its four PyTorch examples in §4 are
# empty shells. This notebook follows the article section by section: what it claims and what is wrong, the
# missing formulas, Keras code checked against a NumPy reference (each check prints `max |Keras - NumPy| = ...`),
# and training on real data that measures what each lever buys.*

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
import time
import matplotlib
matplotlib.use("Agg")  # figures are written to PNG files and shown with show()
import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.ticker import MaxNLocator

# Chinese in a figure needs a CJK font; without one (as on this machine) the figures keep to English.
CJK = next((f.name for f in font_manager.fontManager.ttflist if any(k in f.name for k in (
    "Noto Sans CJK", "Noto Serif CJK", "WenQuanYi", "Source Han", "SimHei", "Microsoft YaHei", "PingFang"))), None)
if CJK:
    plt.rcParams["font.sans-serif"] = [CJK] + plt.rcParams["font.sans-serif"]


def bi(english, chinese):
    """A figure's text: English, followed by the Chinese where a CJK font can draw it."""
    return f"{english} · {chinese}" if CJK else english


def show_figure(fig, name):
    """Save a matplotlib figure under FIG and display it."""
    path = os.path.join(FIG, name)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    show(path)


print("fast setting (CI): fewer epochs" if FAST else "full setting",
      f"; figures in English and Chinese ({CJK})" if CJK else "; no CJK font found: figure text in English only")

# %% [markdown]
# ## 1. 背景介绍 · Background
#
# 文章的出发点没有问题：模型越大，训练和推理越贵。
# 但"成本"要落到可以测量的量上才有意义：参数个数、每个样本的浮点运算次数（FLOPs）、模型文件的字节数、训练用的秒数。
# 下面每一节都会把这几个数打印出来，让"降低成本"变成可以核对的结论。
#
# *The premise is right: bigger models cost more to train and to run. "Cost" only means something once it is a
# number, so every section below prints one: parameters, FLOPs per example, bytes on disk, seconds of training.*

# %% [markdown]
# ## 2. 核心概念与联系 · Core concepts
#
# 文章的四种手段，以及本笔记本里对应的实现和测量：
#
# | 文章的手段 · lever | 本笔记本的实现 · what runs here | 测量 · what is measured |
# |---|---|---|
# | 结构优化（知识蒸馏）· structure | `Distiller`：93,802 参数的教师 → 5,258 参数的学生 | 蒸馏学生 vs 同样从头训练的学生的准确率 |
# | 并行化 · parallelism | `MirroredStrategy`，两个逻辑 CPU 设备 | 梯度是否等于全批梯度；时间与准确率 |
# | 压缩 · compression | 幅值剪枝 80% → 量化感知训练 → int8 TFLite | 每一步的准确率与字节数 |
# | 自适应 · adaptation | 混合专家（MoE）与提前退出（early exit） | 专家负载、容量丢弃；准确率 vs 计算量 |
#
# 文章说这些手段"有助于降低计算成本，并提高模型的性能"。
# 实际上它们大多是拿准确率换成本，或者至多保持准确率：剪枝、量化、提前退出都可能掉精度，蒸馏则是让小模型少掉一些，它们都不会让同一个模型"性能更高"。
# 下面的数字会说明每种交换的比例，有时也会说明交换不划算（§4.4 的 MoE）。
#
# *The article says these levers "lower the cost and raise the performance". Mostly they trade accuracy for cost, or
# at best keep it: pruning, quantization and early exit may lose some, distillation makes a small model lose less;
# none makes the same model "perform better". The numbers below give the exchange rate of each trade, and sometimes
# show a trade that does not pay (§4.4's MoE).*

# %% [markdown]
# ## 3. 核心算法原理和具体操作步骤以及数学模型公式详细讲解 · Algorithms and formulas
#
# 标题里有"数学模型公式详细讲解"，正文却一个公式也没有。
# 这一节把每种方法的公式补上，并在小规模、随机权重的例子上让 Keras 的实现和 NumPy 的逐项实现算同一个量，比较两者的最大差。
#
# *The heading promises "mathematical models and formulas explained in detail"; the text has none. This section
# supplies each formula and computes it twice, with the Keras code and with a NumPy reference written loop by loop,
# on small random examples.*

# %% [markdown]
# ### 3.1 模型结构的优化 · Structure optimisation: knowledge distillation
#
# 文章这里有两句话需要更正。
# 其一，"使用更简单的结构，如 CNN 和 RNN，可以减少参数"：CNN 和 RNN 并不"更简单"，它们省参数是因为权重共享（卷积核在所有位置共用，循环权重在所有时间步共用），相比全连接层才少。
# 其二，"知识蒸馏……从而减少模型的参数数量"：蒸馏本身不删任何参数，参数少是因为我们一开始就选了一个小的学生模型；蒸馏的作用是让这个小模型的准确率比单独训练时更接近大模型。
#
# *Two corrections. CNNs and RNNs are not "simpler": they save parameters by sharing weights (one kernel at every
# position, one recurrent matrix at every step). And distillation removes no parameter: the student is small by
# choice; distillation makes it more accurate than the same small model trained alone.*
#
# 蒸馏的损失（Hinton 等，2015）：学生既拟合真实标签，也拟合教师在温度 $T$ 下"软化"的输出分布
#
# $$L = \alpha\,\mathrm{CE}\big(y, \mathrm{softmax}(s)\big) + (1-\alpha)\,T^2\,\mathrm{KL}\big(\mathrm{softmax}(t/T)\,\|\,\mathrm{softmax}(s/T)\big)$$
#
# 其中 $t$、$s$ 是教师和学生的 logits。
# $T>1$ 把教师的分布拉平，让"3 有点像 8"这类类别之间的相似信息显露出来；乘上 $T^2$ 是因为软目标的梯度大约按 $1/T^2$ 缩小，这样两项的梯度量级相当。
# 下面用随机 logits 让 `Distiller.distillation_loss` 和 NumPy（双精度）各算一次三项：
#
# *$t$ and $s$ are the teacher's and student's logits. $T>1$ flattens the teacher's distribution so that which wrong
# classes look alike ("a 3 is a bit like an 8") shows; $T^2$ restores the soft term's gradient scale, which shrinks
# as $1/T^2$. The library's loss and NumPy's, on random logits:*

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
print("teacher's softened distribution of example 0 at T = 1 and T = 3 · 教师在 T = 1 与 T = 3 时的分布:")
print("  T = 1:", softmax(zt64[0]).round(3))
print("  T = 3:", softmax(zt64[0] / T).round(3))

# %% [markdown]
# 三项的差在 $10^{-8}$ 到 $10^{-7}$ 之间，即 float32 的舍入误差：库里的损失就是上面的公式。
# 最后两行显示温度的作用：$T=1$ 时最大的概率（0.243）是最小的（0.003）的约 80 倍，$T=3$ 时最大 0.146、最小 0.034，只差约 4 倍。
# 也就是说，温度把分布拉平了，原来几乎看不见的类别也分到了可见的概率，学生能从中学到类别之间的相似关系。
#
# *The three differences lie between $10^{-8}$ and $10^{-7}$: float32 rounding. The last two lines show the
# temperature at work: at $T=1$ the largest probability (0.243) is about 80 times the smallest (0.003); at $T=3$ they
# are 0.146 and 0.034, about 4 times. The distribution is flattened, and classes that were nearly invisible get
# visible probability, which is what the student learns from.*

# %% [markdown]
# ### 3.2 模型的并行化 · Parallelism
#
# 文章把两件不同的事混在了一起。
# "将模型分解为多个子模型，在多个计算节点上并行训练"说的是模型并行（每台设备放模型的一部分）；"将输入数据分解为多个子数据集"说的是数据并行（每台设备放一份完整的模型，各算一部分数据）。
# 常用、也是 Keras `MirroredStrategy` 做的是后者。
#
# *The article mixes two things: splitting the model across devices (model parallelism) and splitting the data
# (data parallelism: every device holds the whole model and computes on its shard of the batch). The common one,
# and what Keras's `MirroredStrategy` does, is the second.*
#
# 数据并行之所以正确，是因为一个全局批次（大小 $B$）的平均梯度可以拆成各副本（$R$ 个）梯度之和，前提是每个副本把自己的损失除以**全局**批大小 $B$，而不是自己的 $B/R$：
#
# $$\nabla_\theta L = \frac1B\sum_{i=1}^{B}\nabla_\theta \ell_i = \sum_{r=1}^{R}\Big(\frac1B\sum_{i\in r}\nabla_\theta\ell_i\Big) = \frac1R\sum_{r=1}^{R} g_r,\qquad g_r = \frac{R}{B}\sum_{i\in r}\nabla_\theta\ell_i$$
#
# 副本之间用 all-reduce 求和（SUM），每个副本就得到同一个全批梯度，做同样的更新，权重始终一致。
# 下面在开头配置的两个逻辑 CPU 上跑一个 softmax 回归（`Dense(4)`，8 个样本，每个副本 4 个），与 NumPy 写出的全批梯度 $\frac1B X^\top(P-Y)$ 比较：
#
# *This works because the mean gradient of a global batch of $B$ splits into a sum over the $R$ replicas, provided
# each replica divides its loss by the **global** batch $B$, not its own $B/R$. An all-reduce (SUM) gives every
# replica the same full-batch gradient, so their weights stay equal. Below: a softmax regression on the two logical
# CPUs configured at the top (8 examples, 4 per replica), against NumPy's full-batch gradient $\frac1B X^\top(P-Y)$:*

# %%
# source: keras_arch.reference:softmax_regression_gradients

# %%
from keras_arch.reference import randomize
strategy = distribute.make_strategy("mirrored")  # every logical CPU; all-reduce through one device
R, B = strategy.num_replicas_in_sync, 8
rng = np.random.default_rng(0)
x_small, y_small = rng.normal(size=(B, 6)).astype(np.float32), rng.integers(0, 4, B)
with strategy.scope():
    dense = keras.layers.Dense(4)  # logits of a softmax regression, mirrored on both devices
    dense.build((None, 6))
randomize(dense, seed=1)


def replica_gradients(xb, yb):  # runs once on each replica, on its shard of the batch
    with tf.GradientTape() as tape:
        per_example = keras.losses.sparse_categorical_crossentropy(yb, dense(xb), from_logits=True)
        loss = tf.nn.compute_average_loss(per_example, global_batch_size=B)  # sum / B (global), not mean
    return tape.gradient(loss, dense.trainable_variables)


@tf.function
def distributed_gradients(xb, yb):
    per_replica = strategy.run(replica_gradients, args=(xb, yb))
    return per_replica, [strategy.reduce("SUM", g, axis=None) for g in per_replica]  # the all-reduce


batch = next(iter(strategy.experimental_distribute_dataset(
    tf.data.Dataset.from_tensor_slices((x_small, y_small)).batch(B))))
per_replica, summed = distributed_gradients(*batch)
shards_x = [v.numpy() for v in strategy.experimental_local_results(batch[0])]
shards_y = [v.numpy() for v in strategy.experimental_local_results(batch[1])]
print(f"{R} replicas on {strategy.extended.worker_devices}")
print("examples per replica · 每个副本的样本数:", [len(s) for s in shards_x])
w_np, b_np = dense.kernel.numpy(), dense.bias.numpy()
dw_full, db_full = softmax_regression_gradients(x_small, y_small, w_np, b_np)
formula_check("all-reduced  sum_r (1/B) sum_{i in r} grad l_i  =  full-batch (1/B) X^T (P - Y)", summed[0], dw_full)
own = [softmax_regression_gradients(sx, sy, w_np, b_np)[0] for sx, sy in zip(shards_x, shards_y)]  # g_r
formula_check("(1/R) sum_r g_r  (each replica's own mean gradient, averaged)", np.mean(own, axis=0), dw_full)
local = strategy.experimental_local_results(per_replica[0])
print("replica 0's contribution = g_0 / R:", np.allclose(local[0].numpy(), own[0] / R, atol=1e-6))


def replica_gradients_own_mean(xb, yb):  # the mistake: each replica divides by its own B/R examples
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(yb, dense(xb), from_logits=True))
    return tape.gradient(loss, dense.trainable_variables)


@tf.function
def distributed_gradients_own_mean(xb, yb):
    return [strategy.reduce("SUM", g, axis=None) for g in strategy.run(replica_gradients_own_mean, args=(xb, yb))]


wrong = distributed_gradients_own_mean(*batch)[0].numpy()
print(f"per-replica mean instead of 1/B: summed gradient / full-batch gradient = "
      f"{np.sum(wrong * dw_full) / np.sum(dw_full * dw_full):.3f} (R = {R}) · 副本各自取平均时，求和的梯度是全批梯度的 R 倍")

# %% [markdown]
# 第一条核对的差约 $10^{-8}$（float32 舍入）：两个副本各算一半数据、损失除以全局的 8，all-reduce 求和后恰好是 8 个样本的平均梯度。
# 第二条是同一个等式的另一半，两边都由 NumPy 以双精度计算，所以差只有 $10^{-17}$：全批梯度等于两个副本各自平均梯度的平均，每个副本贡献 $g_r/R$。
# 最后一行是常见的错误写法：副本把损失除以自己的 4（`reduce_mean`），求和得到的梯度恰好是全批梯度的 2 倍，相当于悄悄把学习率翻倍。
# Keras 的 `fit` 在 `strategy.scope()` 里编译时会自动做这个缩放；自己写训练循环时要用 `tf.nn.compute_average_loss`。
#
# *The first check agrees to about $10^{-8}$ (float32): each replica computes half the batch, divides by the global 8,
# and the all-reduced sum is the mean gradient of all 8. The second is the other half of the identity, both sides
# in NumPy's double precision (hence $10^{-17}$): the full-batch gradient is the mean of the replicas' own mean
# gradients, each replica contributing $g_r/R$. The last line is the common mistake: each replica dividing by its own
# 4 (`reduce_mean`) sums to exactly twice the gradient, a silently doubled learning rate. `fit` under
# `strategy.scope()` scales for you; a custom loop needs `tf.nn.compute_average_loss`.*

# %% [markdown]
# ### 3.3 模型的压缩 · Compression
#
# 文章说量化是"把参数从浮点数转换为整数"，裁剪是"删除不重要的参数"。
# 两句都缺了关键的一半：整数必须配一个尺度（scale）和零点（zero point）才能表示原来的实数；"不重要"需要一个可计算的标准，最常用的是权重的绝对值大小。
# 另外，剪成 0 的权重只有在稀疏存储或压缩（如 gzip）之后才真正变小，稠密的文件大小不会变。
#
# *The article says quantization "converts parameters from floats to integers" and pruning "removes unimportant
# parameters". Both miss half: an integer needs a scale and a zero point to stand for a real number, and
# "unimportant" needs a measure, usually the weight's magnitude. Zeros also only shrink a file that is stored
# sparsely or compressed (gzip); a dense file keeps its size.*
#
# **int8 仿射量化 · affine int8 quantization**：实数区间 $[x_{\min}, x_{\max}]$（扩展到包含 0）映射到整数 $[-128, 127]$，
#
# $$s = \frac{x_{\max}-x_{\min}}{255},\qquad z = -128 - \mathrm{round}\!\left(\frac{x_{\min}}{s}\right),\qquad
# q = \mathrm{clip}\!\left(\mathrm{round}\!\left(\frac{x}{s}\right) + z,\,-128,\,127\right),\qquad x \approx s\,(q - z)$$
#
# 还原误差 $|x - s(q-z)| \le s/2$。权重通常用对称量化（$z=0$，整数范围 $[-127,127]$），激活值用带零点的完整范围。
#
# *The round trip errs by at most $s/2$. Weights are usually symmetric ($z=0$, $[-127,127]$), activations use the
# whole range with a zero point.*
#
# **幅值剪枝 · magnitude pruning**：目标稀疏度 $s$ 下，保留 $|w|$ 最大的 $k=\mathrm{round}(n(1-s))$ 个权重，
#
# $$m_j = \big[\,|w_j| \ge \tau_k\,\big],\qquad \tau_k = \text{第 } k \text{ 大的 } |w| \text{（the } k\text{-th largest } |w|\text{）},\qquad w \leftarrow w \odot m$$
#
# 两者的 NumPy 实现如下；量化在 §4.3 中与 TFLite 转换器实际产生的 int8 张量核对，剪枝掩码在这里与 TF-MOT 的 `prune_low_magnitude` 核对：
#
# *The NumPy references follow; quantization is checked against the int8 tensors the TFLite converter writes in
# §4.3, the pruning mask here against TF-MOT's `prune_low_magnitude`:*

# %%
# source: keras_arch.reference:affine_params, keras_arch.reference:quantize_int8, keras_arch.reference:dequantize, keras_arch.reference:magnitude_mask

# %%
x_demo = np.array([0.0, 0.1, 0.5, 0.73, 1.0])  # pixel intensities in [0, 1]
s_demo, z_demo = affine_params(0.0, 1.0)
q_demo = quantize_int8(x_demo, s_demo, z_demo)
print(f"range [0, 1] -> s = 1/255 = {s_demo:.6f}, z = {z_demo}")
print("x        :", x_demo)
print("q (int8) :", q_demo)
print("s (q - z):", dequantize(q_demo, s_demo, z_demo).round(5), " error <= s/2 =", round(s_demo / 2, 5))

# %%
from keras_arch.optimize import prune as prune_lib
kernel = np.random.default_rng(2).normal(size=(576, 64)).astype(np.float32)  # a Dense(576 -> 64) kernel
one_shot = keras.Sequential([keras.Input((576,)), prune_lib.sparsity.prune_low_magnitude(
    keras.layers.Dense(64), pruning_schedule=prune_lib.sparsity.ConstantSparsity(0.8, begin_step=0, frequency=1))])
wrapper = one_shot.layers[0]
wrapper.layer.kernel.assign(kernel)
one_shot.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")  # lr 0: only the mask changes w
one_shot.fit(np.zeros((4, 576), np.float32), np.zeros((4, 64), np.float32), batch_size=4, epochs=1, verbose=0,
             callbacks=prune_lib.callbacks())  # one step: TF-MOT computes the mask from |w| and applies it
mask = next(v for v in wrapper.weights if "mask" in v.name).numpy()
formula_check("m = [|w| >= tau_k], k = round(n (1 - 0.8))", mask, magnitude_mask(kernel, 0.8))
kept = np.abs(kernel)[mask == 1]
print(f"kept {int(mask.sum()):,} of {mask.size:,} weights: sparsity {1 - mask.mean():.4f}; "
      f"smallest kept |w| {kept.min():.4f} >= largest pruned |w| {np.abs(kernel)[mask == 0].max():.4f}")

# %% [markdown]
# 量化的小例子里，0.73 变成整数 58，还原成 0.72941，误差 0.0006，小于 $s/2 = 0.00196$；0 恰好映射到零点 $-128$ 并精确还原，这正是要把区间扩展到包含 0 的原因（ReLU 的 0 和填充的 0 不能有误差）。
# 剪枝掩码与 NumPy 完全一致（差为 0）：36,864 个权重中保留了 7,373 个（$k=\mathrm{round}(36864\times0.2)$），保留下来的最小 $|w|$ 不小于被剪掉的最大 $|w|$。
#
# *0.73 becomes 58 and comes back as 0.72941, within $s/2$; 0 maps exactly to the zero point $-128$ and back,
# which is why the range is widened to hold 0. TF-MOT's mask equals NumPy's exactly: 7,373 of 36,864 weights kept,
# the smallest kept magnitude above the largest pruned one.*

# %% [markdown]
# ### 3.4 模型的自适应 · Adaptation
#
# 文章说自适应网络"根据输入数据的特征，动态调整模型的结构和参数"，可它的 `adapt()` 是 `pass`，什么也没调整。
# 真正按输入改变计算路径的结构有两种常见做法，这里都实现了：
#
# - **混合专家（MoE）**：每个 token 只经过 $N$ 个前馈"专家"中被路由器选中的 $k$ 个，参数多了 $N$ 倍，每个 token 的计算量却不变；
# - **提前退出（early exit）**：网络中间接几个分类头，容易的样本在前面的头就足够自信，直接输出，后面的层不再计算（§4.4）。
#
# 文章提到的迁移学习是另一回事：它在训练阶段换任务，推理时网络并不随输入变化（笔记本 000 运行了 `transfer`）。
#
# *The article's `adapt()` is `pass`. Two structures that really change their computation with the input are
# implemented here: a mixture of experts (each token passes through only $k$ of $N$ expert feed-forwards: $N$
# times the parameters at the same compute per token) and early exit (confident examples leave at an early head;
# §4.4). Transfer learning, also named by the article, changes the task during training, not the network per input
# (notebook 000 runs it).*
#
# MoE 路由（Switch Transformer / GShard）：
#
# $$p = \mathrm{softmax}(x W_r),\qquad \text{experts}(x) = \mathrm{top}_k(p),\qquad g_e = \frac{p_e}{\sum_{e'\in\mathrm{top}_k} p_{e'}}$$
#
# 每个专家一次最多接收 $C$ 个 token（容量），$T$ 为这一批的 token 数、$c$ 为容量系数：
#
# $$C = \left\lceil \frac{k\,T}{N}\cdot c \right\rceil$$
#
# 按 token 顺序，先分配所有第一选择，再分配第二选择；专家已满则丢弃这个选择，所有选择都被丢弃的 token 输出 0（外面的残差连接把它原样传过去）。
# 输出 $y = \sum_{e\ \text{kept}} g_e\,\mathrm{FFN}_e(x)$，负载均衡辅助损失 $\mathcal{L}_{aux} = \alpha N\sum_i f_i P_i$（$f_i$：第一选择是 $i$ 的 token 比例，$P_i$：$i$ 的平均路由概率）。
#
# *Each expert takes at most $C$ tokens; first choices claim slots (in token order) before second choices; a token
# every chosen expert dropped gets output 0 (the residual passes it through). The auxiliary loss keeps the load
# balanced.*
#
# 下面是逐 token 写出的 NumPy 参照实现和库里的路由代码；例子有 10 个 token、4 个专家、$k=2$、$c=1.0$，所以 $C=\lceil 2\cdot10/4\rceil=5$，并把路由器偏向专家 0，让容量真的起作用：
#
# *The NumPy reference, token by token, and the library's routing; 10 tokens, 4 experts, $k=2$, $c=1.0$, so
# $C=5$, with the router biased towards expert 0 so that the capacity bites:*

# %%
# source: keras_arch.reference:mixture_of_experts

# %%
# source: keras_arch.layers.mixture_of_experts:MixtureOfExperts.route

# %%
import math
from keras_arch.layers.mixture_of_experts import MixtureOfExperts
tokens_n, d_model, n_experts, k, factor, aux_alpha = 10, 5, 4, 2, 1.0, 0.01
rng = np.random.default_rng(4)
toks = rng.normal(size=(tokens_n, d_model)).astype(np.float32)
toks[:, 0] = 1.0  # a constant feature, so the router's first row acts as a bias
moe = MixtureOfExperts(num_experts=n_experts, hidden_units=3, top_k=k, capacity_factor=factor,
                       aux_loss_weight=aux_alpha)
moe.build((None, d_model))
randomize(moe, seed=5)
moe.router.assign(moe.router.numpy() + np.array([[2.5, 0.0, 0.0, 0.0]] + [[0.0] * 4] * (d_model - 1), np.float32))
r = moe.route(tf.constant(toks))
ref = mixture_of_experts(toks, None, moe.router.numpy(), moe.w1.numpy(), moe.b1.numpy(), moe.w2.numpy(),
                         moe.b2.numpy(), top_k=k, capacity_factor=factor, alpha=aux_alpha)
print("token | 1st choice (kept?) | 2nd choice (kept?)   · 每个 token 的两个选择以及是否放得下")
for t in range(tokens_n):
    e1, e2 = ref["experts"][t]
    print(f"  {t:2d}  |  expert {e1} ({'yes' if ref['kept'][t, 0] else 'DROPPED'})  |  "
          f"expert {e2} ({'yes' if ref['kept'][t, 1] else 'DROPPED'})")
print("tokens per expert · 各专家接收的 token 数:", np.bincount(ref["experts"][ref["kept"]], minlength=n_experts))
formula_check("C = ceil(k T / N * c)", r["capacity"], math.ceil(k * tokens_n / n_experts * factor))
formula_check("kept choices: first choices first, at most C per expert", r["kept"], ref["kept"])
formula_check("y = sum over kept choices of g_e FFN_e(x)  (0 if all dropped)", moe(toks[None])[0], ref["output"])
formula_check("aux = alpha N sum_i f_i P_i", r["aux_loss"], ref["aux_loss"])

# %% [markdown]
# 容量 $C=5$ 与公式一致，四条核对的差都在 float32 舍入以内。
# 表里可以看到路由的规则：9 个 token 的第一选择是专家 0，前 5 个（token 0–4）进来之后它就满了，token 5–8 的第一选择被丢弃，token 9 的第二选择（专家 0）也被丢弃。
# 第二选择只能填第一轮剩下的空位：专家 3 被 token 1、4、5、6、7 的第二选择填满，所以 token 8 的两个选择都被丢弃，它的输出是 0（第三条核对包含了这一行）。
# 被丢弃并不等于出错：在 Transformer 里 MoE 外面有残差连接，丢弃的 token 保持原样进入下一层。容量系数 $c$ 越大丢得越少，但每个专家要预留的计算也越多。
#
# *The capacity matches the formula and all four checks agree to float32 rounding. The table shows the rule: expert
# 0 is the first choice of 9 tokens; tokens 0-4 fill its 5 slots, the first choices of tokens 5-8 are dropped, and so
# is token 9's second choice (expert 0). Second choices only get the slots left after the first round: expert 3 is
# filled by the second choices of tokens 1, 4, 5, 6 and 7, so token 8 loses both choices and its output is 0 (the
# third check includes that row). A dropped token is not an error: the residual around the layer passes it on. A
# larger capacity factor drops fewer tokens but reserves more compute per expert.*

# %% [markdown]
# ## 4. 具体最佳实践：代码实例和详细解释说明 · Code examples
#
# 这一节先把文章的四段代码原样列出（PyTorch 只展示、不运行），说明错在哪里，再运行改正后的 Keras 版本。
# 所有模型都用同一份数据：有 `../shared/data/mnist` 时是真正的 MNIST（训练文件 60,000 张，本笔记本取其中 2,000 张训练，在留出的 6,000 张上评估——数据目录里没有 MNIST 的 t10k 测试文件）；没有时退回 scikit-learn 自带的 1,797 张 8×8 手写数字扫描，放大后居中在 28×28 画布上。
# 只用 2,000 张训练是有意的：数据少时小模型更吃亏，蒸馏的作用更明显，而且整本笔记本几分钟就能跑完。
#
# *Each example as written (PyTorch shown, not run), what fails, then the corrected Keras code, run. One data set
# for all: real MNIST when `../shared/data/mnist` is present (2,000 training images drawn from its 60,000-image
# training file, scored on the 6,000 held out from it; the folder has no t10k test file), else scikit-learn's
# 1,797 8×8 digit scans centred on 28×28. Training on 2,000 is deliberate: a small model suffers more from little
# data, so distillation shows, and the notebook runs in minutes.*

# %%
from keras_arch.data import images
from keras_arch.shared import data_path
if os.path.isdir(data_path("mnist")):
    splits = images.load_mnist_dir(data_path("mnist"))  # 54,000 train / 6,000 held out (stratified)
    pick = np.random.default_rng(0).permutation(len(splits.y_train))[:2000]
    x_train, y_train = splits.x_train[pick], splits.y_train[pick]
    x_test, y_test = splits.x_val, splits.y_val
    DATA = "MNIST (../shared/data/mnist): 2,000 training images, 6,000 held-out images"
else:
    splits = images.load_digits()  # the embedded fallback: a user's clone has no ../shared
    x_train, y_train, x_test, y_test = splits.x_train, splits.y_train, splits.x_test, splits.y_test
    DATA = "scikit-learn digits (MNIST not found): 1,257 training images, 360 test images"
print("data · 数据:", DATA)
print("train", x_train.shape, "held out", x_test.shape, "pixel range", x_train.min(), "-", x_train.max())
print("images per class in train · 训练集每类张数:", np.bincount(y_train, minlength=10))
fig, axes = plt.subplots(2, 10, figsize=(12, 3))
for i, ax in enumerate(axes.ravel()):
    index = np.flatnonzero(y_train == i % 10)[i // 10]
    ax.imshow(x_train[index, :, :, 0], cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(f"label {y_train[index]}", fontsize=10)
    ax.axis("off")
fig.suptitle(bi("training images, two per class (28×28, values 0-1)", "训练图像，每类两张"))
show_figure(fig, "digits.png")

# %% [markdown]
# ### 4.1 模型结构的优化 · Distillation

# %%
# example: 002 0
# pytorch

# %% [markdown]
# 文章的蒸馏示例什么也没做：`LargeModel` 和 `SmallModel` 完全相同，`forward` 都原样返回输入；没有损失函数，没有优化器，两处"训练过程"都只是注释，学生也从未见过教师的输出。
# 改正后的 Keras 代码是下面的 `Distiller`：`train_step` 里教师只做前向（不训练），学生的 logits 同时进入 §3.1 的两项损失，只更新学生的权重。
#
# *The example does nothing: both classes are identical and return their input; there is no loss, no optimizer,
# both "training" steps are comments, and the student never sees the teacher. The corrected code is `Distiller`:
# the teacher only runs forward, the student's logits enter both terms of §3.1's loss, only the student learns.*

# %%
# source: keras_arch.optimize.distiller:Distiller.distillation_loss, keras_arch.optimize.distiller:Distiller.train_step

# %%
# source: keras_arch.models.cnn:tiny_cnn

# %% [markdown]
# **教师 · The teacher**：笔记本 000 的 CNN（三层卷积加 BatchNorm，全连接层前加 0.25 的 Dropout，93,802 个参数），在全部 2,000 张训练图上用 Adam 训练，批大小 64，学习率从 0.003 按余弦曲线衰减到 0：
#
# *Notebook 000's CNN with BatchNorm and dropout 0.25 before the dense layer (93,802 parameters), trained with Adam on
# all 2,000 training images, batch 64, the learning rate decaying from 0.003 to 0 along a cosine:*

# %%
from keras_arch.models.cnn import doc000_cnn
TEACHER_EPOCHS, STUDENT_EPOCHS, BATCH = (4, 10, 64) if FAST else (10, 40, 64)
steps_per_epoch = -(-len(y_train) // BATCH)
keras.utils.set_random_seed(0)
teacher = doc000_cnn(batch_norm=True, dropout=0.25)
teacher.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(
                    initial_learning_rate=3e-3, decay_steps=TEACHER_EPOCHS * steps_per_epoch)),
                loss="sparse_categorical_crossentropy", metrics=["accuracy"])
start = time.perf_counter()
teacher.fit(x_train, y_train, batch_size=BATCH, epochs=TEACHER_EPOCHS, verbose=2)
teacher_seconds = time.perf_counter() - start
teacher_loss, teacher_acc = teacher.evaluate(x_test, y_test, batch_size=500, verbose=0)
print(f"teacher · 教师: {teacher.count_params():,} parameters, held-out accuracy {teacher_acc:.4f}, "
      f"{teacher_seconds:.0f} s")

# %% [markdown]
# **学生，两种训练方式 · The student, trained two ways.** 部署时的典型情形是：大模型用大量标注数据训练好了，小模型只能拿到其中一部分。
# 这里两个学生都只用 2,000 张中的前 500 张：同一个 5,258 参数的 `tiny_cnn`，同一个种子（相同的初始权重和批次顺序），同样的 500 张图、轮数、批大小和学习率曲线。
# 唯一的区别是损失：一个用蒸馏损失（$T=4$，$\alpha=0.1$，即九成权重给教师的软分布），一个只用真实标签的交叉熵。
# 每 4 轮在全部 6,000 张留出图像上测一次准确率，画成曲线。
#
# *The usual deployment case: a big model trained on plenty of labels, a small one that only gets some of them. Both
# students see only the first 500 of the 2,000 images: the same 5,258-parameter `tiny_cnn`, same seed (same initial
# weights and batch order), same images, epochs, batch and learning-rate curve. Only the loss differs: distillation
# ($T=4$, $\alpha=0.1$: nine tenths of the weight on the teacher's soft distribution) or plain cross-entropy on the
# labels. Held-out accuracy on all 6,000 images every 4 epochs.*

# %%
x_few, y_few = x_train[:500], y_train[:500]  # the students' labelled images
student_steps = -(-len(y_few) // BATCH)
keras.utils.set_random_seed(0)
student = tiny_cnn()
initial_distilled = [w.copy() for w in student.get_weights()]
distiller = Distiller(teacher, student, temperature=4.0, alpha=0.1)
distiller.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(
                      initial_learning_rate=5e-3, decay_steps=STUDENT_EPOCHS * student_steps)),
                  loss="sparse_categorical_crossentropy",  # used by evaluate(); training uses the distillation loss
                  metrics=["accuracy"])
distilled_history = distiller.fit(x_few, y_few, batch_size=BATCH, epochs=STUDENT_EPOCHS, verbose=0,
                                  validation_data=(x_test, y_test), validation_freq=4).history

keras.utils.set_random_seed(0)
scratch = tiny_cnn()
initial_scratch = scratch.get_weights()
scratch.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(
                    initial_learning_rate=5e-3, decay_steps=STUDENT_EPOCHS * student_steps)),
                loss="sparse_categorical_crossentropy", metrics=["accuracy"])
scratch_history = scratch.fit(x_few, y_few, batch_size=BATCH, epochs=STUDENT_EPOCHS, verbose=0,
                              validation_data=(x_test, y_test), validation_freq=4).history
print("same initial weights · 初始权重相同:", all(np.array_equal(a, b) for a, b in zip(initial_distilled, initial_scratch)))
print(f"final training loss · 最后一轮训练损失: distilled {distilled_history['loss'][-1]:.4f} "
      f"(= {distiller.alpha:g} x hard {distilled_history['hard_loss'][-1]:.4f} + {1 - distiller.alpha:g} x soft "
      f"T^2 KL {distilled_history['distill_loss'][-1]:.4f}), scratch {scratch_history['loss'][-1]:.4f}")

# %%
student.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
models = [("teacher", "教师", teacher, x_train, y_train), ("distilled student", "蒸馏学生", student, x_few, y_few),
          ("student from scratch", "从头训练的学生", scratch, x_few, y_few)]
print(f"{'model':22s} {'parameters':>10s} {'labelled':>8s} {'train acc':>9s} {'held-out acc':>12s} {'held-out CE':>11s}")
results = {}
for name, chinese, model, x_seen, y_seen in models:
    train_acc = model.evaluate(x_seen, y_seen, batch_size=500, verbose=0)[1]
    test_loss, test_acc = model.evaluate(x_test, y_test, batch_size=500, verbose=0)
    results[name] = test_acc
    print(f"{name:22s} {model.count_params():>10,} {len(y_seen):>8,} {train_acc:>9.4f} {test_acc:>12.4f} "
          f"{test_loss:>11.4f}   {chinese}")
gain = results["distilled student"] - results["student from scratch"]
gap = results["teacher"] - results["student from scratch"]
print(f"distilled - scratch = {gain * 100:+.1f} points · 蒸馏学生 − 从头训练的学生 = {gain * 100:+.1f} 个百分点"
      + (f"; {gain / gap:.0%} of the teacher-scratch gap closed · 补回了教师与从头训练之差的 {gain / gap:.0%}"
         if gain > 0 < gap else ""))
fig, ax = plt.subplots(figsize=(7, 3.8))
measured = range(4, STUDENT_EPOCHS + 1, 4)  # validation_freq=4: epochs 4, 8, ...
ax.plot(measured, distilled_history["val_accuracy"], "o-", label=bi("distilled student", "蒸馏学生"))
ax.plot(measured, scratch_history["val_accuracy"], "s--", label=bi("student from scratch", "从头训练"))
ax.axhline(teacher_acc, color="gray", ls=":", label=bi(f"teacher, 2,000 images ({teacher_acc:.3f})", "教师"))
low = min(min(distilled_history["val_accuracy"]), min(scratch_history["val_accuracy"]))
ax.set_ylim(max(0.0, low - 0.02), 1.0)
ax.set_ylabel(f"held-out accuracy (axis starts at {max(0.0, low - 0.02):.2f}, not 0)")
ax.set_xlabel("epoch"), ax.xaxis.set_major_locator(MaxNLocator(integer=True))
ax.set_title(bi("5,258-parameter student on 500 labelled images: distilled vs from scratch", "蒸馏 vs 从头训练"))
ax.legend(fontsize=9, loc="lower right"), ax.grid(alpha=0.3)
show_figure(fig, "distillation.png")

# %% [markdown]
# 读数（完整设置下提交的这次运行）：教师在 6,000 张留出图像上约 0.968；只见过 500 张标注图的学生，从头训练约 0.918，蒸馏训练约 0.938，高出约 2 个百分点，补回了教师与从头训练之差的约四成（39%）。
# 表里的另两列说明了原因。从头训练的学生在自己的 500 张图上准确率是 1.000，留出集上的交叉熵却最高（约 0.43）：它把 500 张图背了下来，对没见过的图过于自信。
# 蒸馏学生的训练准确率略低于 1（约 0.986），留出交叉熵却只有约 0.24：教师在每张图上给出的是 10 个类别上的一整个分布（"这张 4 有点像 9"），比一个硬标签信息多，学生学到的是教师的判断方式，而不只是这 500 个答案。
# 曲线上，第 4 轮时从头训练的学生还略高（蒸馏的软目标一开始收敛得慢一些），从第 8 轮起蒸馏学生一直在上面，差距在第 20 轮后稳定在约 2 个百分点。
# 参数量方面，学生只有教师的 5.6%（5,258 / 93,802）。
# 蒸馏的收益取决于学生缺什么；练习 1 让学生也用全部 2,000 张标注图，看看差距是变大还是变小。
#
# *Read from the committed full run: the teacher scores about 0.968 on the 6,000 held-out images; a student that saw
# 500 labelled images reaches about 0.918 from scratch and about 0.938 distilled, some 2 points more, about two fifths
# (39%) of the gap to the teacher. The other columns say why: the scratch student is perfect on its 500 images and
# has the highest held-out cross-entropy (about 0.43): it memorised them and is over-confident elsewhere. The
# distilled student fits its images slightly less (about 0.986) and its held-out cross-entropy is about 0.24: the
# teacher gives a whole distribution per image ("this 4 looks a bit like a 9"), more than a hard label. On the curves
# the scratch student is still slightly ahead at epoch 4 (the soft targets start slower); from epoch 8 on the
# distilled one leads, by about 2 points after epoch 20. The student has 5.6% of the teacher's parameters. The gain
# depends on what the student lacks; exercise 1 gives it all 2,000 labelled images to see whether the gap grows or
# shrinks.*

# %% [markdown]
# ### 4.2 模型的并行化 · Data parallelism

# %%
# example: 002 1
# pytorch

# %% [markdown]
# 这段代码运行不起来：`parser` 没有定义（`NameError`）。即使补上，它也没有调用 `dist.init_process_group` 建立进程组，没有用 `DistributedDataParallel` 包装模型（梯度不会在进程间同步），也没有 `DistributedSampler` 给每个进程分配不同的数据——每个 GPU 只会各自训练一个互不相干的模型。
#
# *It stops at `parser` (`NameError`). Past that, no process group is initialised, the model is not wrapped in
# `DistributedDataParallel` (no gradient is ever shared) and no `DistributedSampler` gives each process its own
# data: each GPU would train its own unrelated model.*
#
# Keras 的做法：在 `strategy.scope()` 里建模型和编译，`fit` 会把每个全局批次（64）拆给两个副本（各 32），梯度用 §3.2 核对过的方式求和。
# 下面用同一个种子、同样的数据和轮数，分别在默认策略（一个设备）和两个逻辑 CPU 上的 `MirroredStrategy` 上训练文档 000 的原始 CNN（无 BatchNorm，所以两个副本各算一半批次在数学上与一个设备相同）：
#
# *In Keras: build and compile inside `strategy.scope()`; `fit` splits each global batch of 64 into 32 + 32 and
# sums the gradients as checked in §3.2. The document 000 CNN as written (no BatchNorm, so half-batches per replica
# are mathematically the same computation), same seed, data and epochs, on one device and mirrored on two logical
# CPUs:*

# %%
PARALLEL_EPOCHS = 2 if FAST else 4


class EpochSeconds(keras.callbacks.Callback):
    """Wall-clock seconds of each epoch: the first includes tracing the (distributed) train step."""
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


parallel = {}
for label, strategy_name in (("one device", "one-device"), ("mirrored, 2 logical CPUs", "mirrored")):
    strat = distribute.make_strategy(strategy_name)
    with strat.scope():
        keras.utils.set_random_seed(0)
        model = doc000_cnn()  # document 000's CNN as written: 93,322 parameters
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    timer = EpochSeconds()
    model.fit(x_train, y_train, batch_size=64, epochs=PARALLEL_EPOCHS, verbose=0,  # batch_size: the global batch
              callbacks=[timer])
    accuracy = model.evaluate(x_test, y_test, batch_size=500, verbose=0)[1]
    parallel[label] = (strat.num_replicas_in_sync, timer.seconds[0], np.mean(timer.seconds[1:]), accuracy)
print(f"{'strategy':26s} {'replicas':>8s} {'batch/replica':>13s} {'epoch 1 (s)':>11s} {'later (s/epoch)':>15s} "
      f"{'held-out acc':>12s}")
for label, (replicas, first, later, accuracy) in parallel.items():
    print(f"{label:26s} {replicas:>8d} {64 // replicas:>13d} {first:>11.1f} {later:>15.2f} {accuracy:>12.4f}")
(_, _, t_one, a_one), (_, _, t_two, a_two) = parallel.values()
print(f"mirrored / one device after epoch 1: time x{t_two / t_one:.2f}, accuracy {a_two - a_one:+.4f} · "
      f"第一轮之后镜像训练每轮用时是单设备的 {t_two / t_one:.2f} 倍，准确率相差 {a_two - a_one:+.4f}")

# %% [markdown]
# 读数（完整设置下提交的这次运行）：两种方式的留出准确率几乎相同（0.9103 对 0.9107，差别来自浮点求和顺序不同），说明镜像训练做的是同一个算法。
# 时间分两部分看（这次的数字见上表）：第一轮镜像训练明显更慢，因为要追踪并构建分布式的训练步；之后每轮也不比单设备快。
# 在这台与他人共用的机器上，我们几次运行测得第一轮的比值约为 1.7 到 2.4 倍，之后每轮约为 1.0 到 1.6 倍，随其他人的负载变化。
# 原因是这两个"设备"是同一颗 CPU 切出来的逻辑设备，共用同样的 2 个物理核心：单设备时 TensorFlow 本来就把一步的计算分到两个核心上，切成两个副本并没有多出任何算力，只是换了一种分法。
# 数据并行要加速，需要真正独立的硬件（多块 GPU 或多台机器，`--strategy mirrored` 或 `multi-worker`）。这里的意义在于，不需要多块 GPU 也能检查分布式代码是否正确。
#
# *Read from the committed full run: the held-out accuracies agree (0.9103 and 0.9107, up to summation order): it is
# the same algorithm. Time in two parts (this run's in the table): the first mirrored epoch is clearly slower, since
# the distributed train step is traced and built; after it an epoch is no faster than on one device. Our runs on this
# shared machine measured 1.7 to 2.4 times for the first epoch and 1.0 to 1.6 times after it, varying with others'
# load. Both "devices" are logical devices of one CPU sharing its 2 physical cores; one
# device already spreads each step over both cores, so two replicas add no compute, they only divide it differently.
# Speed needs separate hardware (GPUs, machines); what this buys is checking distributed code on one machine.*

# %% [markdown]
# ### 4.3 模型的压缩 · Compression

# %%
# example: 002 2
# pytorch

# %% [markdown]
# `torch.quantization.q_module` 和 `torch.nn.QLinear` 都不存在，第一行 `import` 就失败。
# PyTorch 真正的接口是 `torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)`（训练后量化）或 `prepare_qat` / `convert`（量化感知训练）。
# 另外，示例在量化之后才写"训练过程"，顺序也不对：训练后量化是在训练完成后做，量化感知训练则要在训练前插入伪量化节点。
#
# *Neither `torch.quantization.q_module` nor `torch.nn.QLinear` exists: the import fails. PyTorch's API is
# `quantize_dynamic` (post-training) or `prepare_qat`/`convert` (quantization-aware training). And "training"
# after quantizing is backwards: post-training quantization follows training; QAT inserts fake-quant nodes first.*
#
# Keras 版本压缩 §4.1 训练好的教师，三步依次进行，每步都在同一批留出图像上测量：
# 1. **幅值剪枝**到 80% 稀疏度（TF-MOT，稀疏度按多项式曲线从 0 升到 0.8，同时微调）；
# 2. **量化感知训练**（保留稀疏的方案，伪量化节点让模型在训练中适应 int8 的舍入）；
# 3. 转换为**全 int8 的 TFLite** 文件，与 float TFLite 比较准确率和字节数。
#
# *The Keras version compresses §4.1's teacher in three steps, each measured on the same held-out images:
# magnitude pruning to 80% (TF-MOT, fine-tuning while the sparsity ramps up), sparsity-preserving
# quantization-aware training, and a full-int8 TFLite file compared with the float one.*

# %%
# source: keras_arch.optimize.prune:prunable_copy

# %%
from keras_arch.optimize import qat as qat_lib
from keras_arch.optimize import tflite as tflite_lib
PRUNE_EPOCHS, QAT_EPOCHS = (2, 1) if FAST else (4, 1)
teacher.trainable = True  # the Distiller of §4.1 froze the teacher; the pruning and QAT copies must train
stages = {"baseline": {"accuracy": teacher_acc, "gzip_bytes": prune_lib.gzip_size(teacher),
                       "parameters": teacher.count_params()}}

# 1. magnitude pruning to 80%, the sparsity ramping up over the first half of the fine-tuning steps
pruned = prune_lib.prunable_copy(teacher, 0.8, end_step=int(0.5 * steps_per_epoch * PRUNE_EPOCHS))
pruned.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
               loss="sparse_categorical_crossentropy", metrics=["accuracy"])
pruned.fit(x_train, y_train, batch_size=BATCH, epochs=PRUNE_EPOCHS, verbose=2, callbacks=prune_lib.callbacks())
pruned_model = prune_lib.strip(pruned)  # the wrappers removed: zeros in the plain layers
pruned_model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
per_layer = prune_lib.layer_sparsity(pruned_model)
stages["pruned"] = {"target_sparsity": 0.8,
                    "accuracy": pruned_model.evaluate(x_test, y_test, batch_size=500, verbose=0)[1],
                    "sparsity": prune_lib.overall_sparsity(pruned_model), "layer_sparsity": per_layer,
                    "gzip_bytes": prune_lib.gzip_size(pruned_model)}
sizes = {name: pruned_model.get_layer(name).kernel.numpy().size for name in per_layer}
formula_check("sparsity per kernel = 1 - round(0.2 n) / n", [per_layer[n] for n in sizes],
              [1 - round(0.2 * n) / n for n in sizes.values()])

# 2. quantization-aware training that keeps the zeros
quantized, float_layers = qat_lib.quantize(pruned_model, preserve_sparsity=True)
quantized.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-4),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
quantized.fit(x_train, y_train, batch_size=BATCH, epochs=QAT_EPOCHS, verbose=2)
from keras_arch.optimize.pipeline import quantized_sparsity
stages["qat"] = {"accuracy": quantized.evaluate(x_test, y_test, batch_size=500, verbose=0)[1],
                 "float_layers": float_layers, "preserve_sparsity": True,
                 "layer_sparsity": quantized_sparsity(quantized)}
print("sparsity per layer after QAT · 量化感知训练后各层稀疏度:",
      {name: round(v, 4) for name, v in stages["qat"]["layer_sparsity"].items()})

# 3. TFLite: the float teacher, and the QAT model as full int8 (calibrated on 200 training images)
float_bytes = tflite_lib.convert(teacher)
int8_bytes = tflite_lib.convert(quantized, int8=True, representative=x_train[:200])
test_batches = [(x_test[i:i + 500], y_test[i:i + 500]) for i in range(0, len(y_test), 500)]
stages["tflite"] = {"float_bytes": len(float_bytes), "int8_bytes": len(int8_bytes),
                    "int8_gzip_bytes": prune_lib.bytes_gzip_size(int8_bytes),
                    "float_accuracy": tflite_lib.accuracy(float_bytes, test_batches),
                    "int8_accuracy": tflite_lib.accuracy(int8_bytes, test_batches)}
print(f"{'stage':28s} {'held-out acc':>12s} {'size':>22s}")
print(f"{'Keras float (teacher)':28s} {teacher_acc:>12.4f} {stages['baseline']['gzip_bytes']:>12,} B gzip")
print(f"{'pruned 80%':28s} {stages['pruned']['accuracy']:>12.4f} {stages['pruned']['gzip_bytes']:>12,} B gzip")
print(f"{'QAT (sparsity kept)':28s} {stages['qat']['accuracy']:>12.4f} {'-':>22s}")
print(f"{'TFLite float':28s} {stages['tflite']['float_accuracy']:>12.4f} {len(float_bytes):>12,} B")
print(f"{'TFLite int8':28s} {stages['tflite']['int8_accuracy']:>12.4f} {len(int8_bytes):>12,} B "
      f"({stages['tflite']['int8_gzip_bytes']:,} B gzip)")
show(plots.layer_sparsity(per_layer, os.path.join(FIG, "sparsity.png"),
                          title=bi("fraction of zero weights per layer after pruning", "剪枝后各层权重为 0 的比例")))
show(plots.compression_stages(stages, os.path.join(FIG, "compression.png")))

# %% [markdown]
# 剪枝后每层的稀疏度都等于 $1-\mathrm{round}(0.2n)/n$（核对差为 0），也就是 TF-MOT 在每个卷积核和全连接核上各自保留了 $|w|$ 最大的 20%。
# 读数（完整设置下提交的这次运行）：剪掉 80% 的权重并微调之后，留出准确率从 0.9682 降到 0.9638，损失不到半个百分点；gzip 后的权重从 346,109 字节降到 106,028 字节（约 31%）——文件变小靠的是压缩，不是"删除"，稠密存储的剪枝模型字节数不变。
# 剪枝微调的日志也能看出过程：稀疏度在前两轮里从 0 升到 0.8，第 2 轮的训练损失因此升高（0.04 → 0.17），第 3、4 轮权重适应了掩码，损失又降回来。
# 量化感知训练没有改变准确率（0.9638）；转成 int8 TFLite 后为 0.9640，与 QAT 模型几乎相同（6,000 张里只多对了 1 张），所以从教师到 int8 文件损失的约 0.4 个百分点全部来自剪枝，不是来自量化。
# int8 文件 103,032 字节，是 float TFLite（377,208 字节）的约 27%，gzip 后只有 35,103 字节，因为 80% 的整数是 0。
# 左图的纵轴不从 0 开始，标签里写明了起点，柱子之间的小差别被放大了；右图的 kB 按 1,024 字节计。
#
# *Every pruned kernel has sparsity $1-\mathrm{round}(0.2n)/n$ exactly: TF-MOT keeps each kernel's largest 20%.
# In the committed full run, pruning 80% and fine-tuning moves the held-out accuracy from 0.9682 to 0.9638, under
# half a point (the log shows the training loss rising in epoch 2, 0.04 → 0.17, while the sparsity ramps to 0.8,
# and recovering in epochs 3-4); the gzip'd weights go from 346,109 to 106,028 bytes (about 31%: compression, not deletion, since a
# densely stored pruned model keeps its size). QAT leaves the accuracy at 0.9638 and the int8 TFLite file scores
# 0.9640, so the 0.4 points lost come from pruning, not from quantization. The int8 file (103,032 bytes) is about
# 27% of the float one (377,208), and 35,103 bytes gzip'd since 80% of its integers are 0. The left panel's axis does
# not start at 0 (its label says so); the right panel's kB are 1,024 bytes.*
#
# **量化公式在真实模型上的核对 · The quantization formulas on the real model.** 转换器给输入图像定的尺度和零点，应当由校准范围 $[0,1]$ 按 §3.3 的公式得出；int8 文件里全连接层 `dense` 的整数权重 $q$ 按 $s(q-z)$ 还原后，与 QAT 模型里的浮点权重之差不应超过 $s/2$（这等价于 $q=\mathrm{round}(x/s)+z$）：
#
# *The converter's input scale and zero point should follow from the calibration range $[0,1]$ by §3.3's formulas;
# the `dense` layer's int8 weights $q$ in the file, mapped back by $s(q-z)$, should be within $s/2$ of the QAT
# model's float weights (which is $q=\mathrm{round}(x/s)+z$):*

# %%
interpreter = tflite_lib.TFLiteModel(int8_bytes).interpreter
s_in, z_in = interpreter.get_input_details()[0]["quantization"]
formula_check("input: s = (max - min)/255, z = -128 - round(min/s) from the calibration range [0, 1]",
              [s_in, z_in], list(affine_params(float(x_train.min()), float(x_train.max()))))
tensor = next(t for t in interpreter.get_tensor_details()
              if "quant_dense/" in t["name"] and t["dtype"] == np.int8 and len(t["shape"]) == 2)
q_dense = interpreter.get_tensor(tensor["index"]).astype(np.int64)  # (64, 576): TFLite stores (out, in)
s_w, z_w = tensor["quantization"]
w_dense = next(v for v in quantized.weights if v.name == "dense/kernel:0").numpy().T  # the QAT model's float kernel
formula_check(f"weights: x ~ s (q - z), |x - s(q - z)| <= s/2 = {s_w / 2:.1e}  (so q = round(x/s) + z)",
              w_dense, dequantize(q_dense, s_w, z_w), tol=s_w / 2 * 1.001)
print(f"input s = {s_in:.6f} (1/255), z = {z_in};  dense kernel s = {s_w:.6f}, z = {z_w} (symmetric), "
      f"q in [{q_dense.min()}, {q_dense.max()}], {np.mean(q_dense == 0):.0%} of q are 0 (the pruned weights)")

# %% [markdown]
# 转换器给输入定的 $s=1/255$、$z=-128$ 正是 $[0,1]$ 按公式得到的值（差约 $2\times10^{-10}$，是 $s$ 以 float32 存进文件时的舍入）：像素 0 映射到 $-128$，像素 1 映射到 127。
# 全连接层的权重是对称量化（$z=0$），还原误差的最大值恰好在 $s/2$ 以内，所以文件里每个整数都是 $\mathrm{round}(x/s)$；约 80% 的整数是 0，就是剪掉的权重，它们在量化后依然是 0。
#
# *The converter's input $s=1/255$, $z=-128$ are the formula's for $[0,1]$ (the $2\times10^{-10}$ is $s$ stored as
# float32; pixel 0 → −128, 1 → 127).
# The dense kernel is symmetric ($z=0$); its round-trip error stays within $s/2$, so every integer in the file is
# $\mathrm{round}(x/s)$; about 80% of them are 0: the pruned weights stay zero through quantization.*

# %% [markdown]
# ### 4.4 模型的自适应 · Adaptive networks

# %%
# example: 002 3
# pytorch

# %% [markdown]
# `AdaptiveModel` 就是一个普通的空模型，`adapt()` 只有 `pass`，而且从未被调用：没有任何东西随输入改变。
# 下面是两个真正按输入改变计算的 Keras 模型。
#
# *`adapt()` is `pass` and never called: nothing adapts. Two Keras models whose computation does change with the
# input follow.*
#
# **混合专家 · Mixture of experts.** 库里的 `moe_mlp`：展平的图像经过 `Dense(64)`，再经过两个"残差 + MoE + LayerNorm"块，每个块有 4 个专家（每个专家 64→128→64 的前馈网络），每张图只走 1 个专家（$k=1$，容量系数 1.25）。
# 为了看清 MoE 换来了什么，用同样的设置再训练一个只有 1 个专家的版本：两者每张图的计算量相同（都只走一个专家），专家部分的参数差 4 倍；加上两者共用的输入层，总参数量约差 2.2 倍。
# 两个模型用同样的优化器（Adam，学习率 0.003）、批大小、轮数和种子；辅助损失的权重 $\alpha=0.01$ 由各 MoE 层自己加进总损失。
#
# *The library's `moe_mlp`: flattened image → `Dense(64)` → two blocks of residual + MoE + LayerNorm, 4 experts
# each (64→128→64), top-1, capacity factor 1.25. To see what the experts buy, the same model with 1 expert is
# trained alike (Adam at 0.003, same batch, epochs and seed; each MoE layer adds its auxiliary loss, $\alpha=0.01$):
# the same compute per image, a quarter of the expert parameters, about 1/2.2 of all the parameters (the input layer
# is shared).*

# %%
# source: keras_arch.layers.mixture_of_experts:MixtureOfExperts.call

# %%
# source: keras_arch.models.moe:moe_mlp

# %%
from keras_arch.models.moe import moe_mlp
MOE_EPOCHS = 2 if FAST else 8
moe_models = {}
for experts in (4, 1):
    keras.utils.set_random_seed(0)
    model = moe_mlp((28, 28, 1), num_classes=10, width=64, num_blocks=2, num_experts=experts, top_k=1,
                    expert_units=128, capacity_factor=1.25, aux_loss_weight=0.01)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])  # + the layers' aux losses
    model.fit(x_train, y_train, batch_size=BATCH, epochs=MOE_EPOCHS, verbose=0)
    moe_models[experts] = model
print(f"{'model':22s} {'parameters':>10s} {'held-out acc':>12s} {'moe_0 dropped':>14s}")
for experts, model in moe_models.items():
    layer = model.get_layer("moe_0")
    layer.reset_counts()
    accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)[1]  # inference counts the routing
    print(f"{f'{experts} expert(s), top-1':22s} {model.count_params():>10,} {accuracy:>12.4f} "
          f"{layer.counts()['dropped']:>14.3f}")
moe_layer = moe_models[4].get_layer("moe_0")
load = moe_layer.counts()["load"]
capacity_share = moe_layer.capacity_factor / len(load)
print("moe_0 load per expert · 各专家负载:", load.round(3), f"(sum {load.sum():.3f}; balanced 0.25, "
      f"capacity 1.25 / 4 = {capacity_share}, i.e. C = ceil(256 / 4 x 1.25) = {math.ceil(256 / 4 * 1.25)} "
      "of each evaluation batch of 256)")
fig, ax = plt.subplots(figsize=(6, 3.8))
ax.bar(range(len(load)), load)
for e, share in enumerate(load):
    ax.text(e, share - 0.006, f"{share:.3f}", ha="center", va="top", fontsize=10, color="white")
ax.axhline(1 / len(load), ls="--", c="gray", label=bi("balanced 1/N = 0.25", "均衡"))
ax.axhline(capacity_share, ls=":", c="red", label=bi(f"capacity c/N = {capacity_share:g}", "容量"))
ax.set_ylim(0, max(capacity_share, load.max()) * 1.3)
ax.set_xticks(range(len(load))), ax.set_xlabel(bi("expert", "专家")), ax.set_ylabel(bi("share of images", "图像比例"))
ax.set_title(bi("moe_0: share of the 6,000 held-out images each expert processed", "各专家处理的图像比例"))
ax.legend(fontsize=9, loc="upper left", ncol=2)
show_figure(fig, "moe_load.png")
features = keras.Model(moe_models[4].inputs, moe_layer.input).predict(x_test, batch_size=500, verbose=0)
first_choice = moe_layer.route(tf.constant(features), dense=False)["experts"][:, 0].numpy()
routing = np.array([np.bincount(first_choice[y_test == c], minlength=4) / np.sum(y_test == c) for c in range(10)])
fig, ax = plt.subplots(figsize=(5.5, 5))
im = ax.imshow(routing, cmap="viridis", vmin=0, vmax=1, aspect="auto")
for c in range(10):
    for e in range(4):
        ax.text(e, c, f"{routing[c, e]:.2f}", ha="center", va="center", fontsize=9,
                color="white" if routing[c, e] < 0.6 else "black")
ax.set_xticks(range(4)), ax.set_yticks(range(10))
ax.set_xlabel(bi("expert (first choice)", "专家")), ax.set_ylabel(bi("true digit", "真实数字"))
ax.set_title(bi("moe_0 routing: share of each digit's images per expert", "\n每个数字的图像被路由到各专家的比例"))
fig.colorbar(im, ax=ax, fraction=0.046, label="share of the digit's images")
show_figure(fig, "moe_routing.png")

# %% [markdown]
# 读数（完整设置下提交的这次运行）：4 个专家的模型有 184,278 个参数，是单专家版本（84,432）的约 2.2 倍，每张图的计算量相同，留出准确率却是 0.9065，比单专家版本的 0.9117 还低约 0.5 个百分点。
# 也就是说，在 2,000 张训练图上，多出来的参数没有带来任何收益：每个专家只看到约四分之一的图，数据本来就少，再分四份更少；另外约 2% 的图像在 moe_0 被丢弃，只能靠残差连接绕过这一层。MoE 的优势要在数据和模型都很大、单个前馈层学不下时才会出现。
# 负载图里各专家的份额（0.122、0.299、0.298、0.259）都在容量线 0.3125 以下，但并不均衡：专家 0 只分到约一半的均衡份额，专家 1 和 2 已接近容量线。
# 容量按每个评估批次（256 张）计算，每个专家每批最多 80 张；专家 1、2 的平均负载约 77 张，某些批次就会超出，这就是约 2% 丢弃的来源，四个份额之和也因此是 0.979 而不是 1。
# 路由矩阵说明"自适应"到底是什么：路由器学会了按数字分工，6 有 91% 交给专家 3，7 有 84% 交给专家 1，3 有 67% 交给专家 0；另一些数字（0、5、8）分在两个专家之间——不同的输入确实走了不同的参数。
#
# *Read from the committed full run: the 4-expert model has 184,278 parameters, about 2.2 times the single expert's
# 84,432, at the same compute per image, and scores 0.9065 against 0.9117: half a point lower. On 2,000 training
# images the extra parameters buy nothing: each expert sees about a quarter of already few images, and about 2% of
# the images are dropped at moe_0 (the residual carries them past it). MoE pays off when data and model are large
# enough that one feed-forward cannot hold what is to learn. The experts' shares (0.122, 0.299, 0.298, 0.259) all
# stay under the capacity line 0.3125 but are not balanced: expert 0 gets half the balanced share, experts 1 and 2
# are close to the line. Capacity counts per evaluation batch of 256 (80 images per expert), and experts 1 and 2
# average about 77, so some batches overflow: that is the 2% dropped, and why the shares sum to 0.979. The routing
# matrix is what "adaptive" means: the router splits the work by digit (91% of the 6s to expert 3, 84% of the 7s to
# expert 1, 67% of the 3s to expert 0), while 0, 5 and 8 are shared by two experts.*
#
# **提前退出 · Early exit.** 三段卷积，每段后面接一个分类头；三个头一起训练（三个交叉熵等权相加）。
# 推理时按 §3.4 的规则：第 $i$ 个头的最大 softmax 概率超过阈值 $\tau$ 就在这里输出，后面的段不再计算。
#
# *Three conv stages, a classifier head after each, trained together (three equally weighted cross-entropies); at
# inference an example leaves at the first head whose largest softmax probability exceeds $\tau$.*

# %%
# source: keras_arch.models.early_exit:early_exit_cnn

# %%
from keras_arch.models import early_exit as early_exit_lib  # the reference `early_exit` keeps its name
EXIT_EPOCHS = 3 if FAST else 10
heads = ["exit_1", "exit_2", "exit_3"]
keras.utils.set_random_seed(0)
exit_model = early_exit_lib.early_exit_cnn(input_shape=(28, 28, 1), num_classes=10)
exit_model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3),
                   loss={h: "sparse_categorical_crossentropy" for h in heads},
                   loss_weights={h: 1.0 for h in heads}, metrics={h: ["accuracy"] for h in heads})
exit_model.fit(x_train, {h: y_train for h in heads}, batch_size=BATCH, epochs=EXIT_EPOCHS, verbose=0)
rows, flops = early_exit_lib.tradeoff(exit_model, x_test, y_test)
print("per-example FLOPs of (stage + head) 1, 2, 3 · 各段加分类头的 FLOPs:",
      [s + h for s, h in early_exit_lib.stage_flops(exit_model)], f"; plain 3-stage CNN {flops['plain_network_flops']:,}")
print(f"{'threshold':>9s} {'accuracy':>9s} {'compute':>8s}   exits 1 / 2 / 3")
for row in rows:
    print(f"{row['threshold']:>9g} {row['accuracy']:>9.4f} {row['relative_compute']:>8.2f}   "
          + " / ".join(f"{s:.2f}" for s in row["exit_shares"]))
fig, ax = plt.subplots(figsize=(7, 4.2))
xs, ys = [r["relative_compute"] for r in rows], [r["accuracy"] for r in rows]
ax.plot(xs, ys, "o-")
for row in rows:
    ax.annotate(f"τ={row['threshold']:g}", (row["relative_compute"], row["accuracy"]), fontsize=9,
                textcoords="offset points", xytext=(5, -12))
bottom = max(0.0, min(ys) - 0.02)
ax.set_ylim(bottom, min(1.0, max(ys) + 0.01))
ax.set_xlim(0, max(xs) * 1.15)
ax.set_xlabel(bi("mean compute / plain 3-stage CNN (FLOPs)", "平均计算量"))
ax.set_ylabel(f"held-out accuracy (axis starts at {bottom:.2f}, not 0)")
ax.set_title(bi("early exit: accuracy vs compute, one point per threshold τ", "\n提前退出：准确率与计算量"))
ax.grid(alpha=0.3)
show_figure(fig, "early_exit.png")

# %% [markdown]
# 提前退出的规则和计算量也有公式，$h_i$ 为第 $i$ 个头的 softmax 输出：
#
# $$\mathrm{exit}(x) = \min\{\,i : \max_c h_i(x)_c > \tau\,\}\ \ (\text{否则最后一个头 · else the last}),\qquad
# \mathrm{cost}(x) = \sum_{j \le \mathrm{exit}(x)} \big(\mathrm{FLOPs}(\text{stage}_j) + \mathrm{FLOPs}(\text{head}_j)\big)$$
#
# 库里的 `predict` 只对还没退出的样本计算下一段；NumPy 参照实现则先算出每个样本在三个头上的概率，再逐个样本套用规则。两者应当给出相同的退出位置、预测和 FLOPs（$\tau=0.9$）：
#
# *The library's `predict` runs the next stage only on the examples still in flight; the NumPy reference takes every
# head's probabilities and applies the rule example by example. Same exits, predictions and FLOPs expected
# ($\tau=0.9$):*

# %%
# source: keras_arch.reference:early_exit

# %%
tau = 0.9
predictions, exits, spent = early_exit_lib.predict(exit_model, x_test, tau)
all_heads = exit_model.predict(x_test, batch_size=500, verbose=0)
ref_predictions, ref_exits, ref_flops = early_exit(  # the NumPy reference the cell above defines
    [all_heads[h] for h in heads], tau, costs=[s + h for s, h in early_exit_lib.stage_flops(exit_model)])
formula_check("exit(x) = first i with max_c h_i(x)_c > tau; prediction = argmax there",
              np.stack([exits, predictions]), np.stack([ref_exits, ref_predictions]))
formula_check("cost(x) = sum_{j <= exit(x)} FLOPs(stage_j + head_j)", spent, ref_flops)
print(f"tau = {tau}: exits 1 / 2 / 3 = " + " / ".join(f"{np.mean(exits == i):.2f}" for i in range(3))
      + f"; accuracy {np.mean(predictions == y_test):.4f}; mean compute {spent.mean() / flops['plain_network_flops']:.2f}"
      " of the plain CNN")

# %% [markdown]
# 两条核对的差都是 0：库里"只算还在路上的样本"的实现与逐样本套用规则的结果完全相同。
# 读数（完整设置下提交的这次运行）：第一段卷积加分类头很便宜（288,512 FLOPs，约为普通三段 CNN 的 7%），后两段各约 1.84 和 1.88 百万 FLOPs。
# $\tau=0$ 时所有图像都在第一个头退出，计算量只有普通 CNN 的 0.07，准确率最低（0.9260）；$\tau=1$ 时全部走到最后，准确率 0.9593，计算量 1.02，略高于不带中间头的普通 CNN（多算了两个中间头）。
# 中间的阈值让大多数图像在第一个头就退出：$\tau=0.9$ 时 85% 在第一个头退出，计算量 0.17，准确率 0.9572，只比 $\tau=1$ 低 0.2 个百分点；$\tau=0.95$ 用 0.21 的计算量得到与 $\tau=1$ 相同的 0.9593；$\tau=0.99$ 的 0.9610 甚至略高于走完全程，说明第三个头在一些第一个头已经很有把握的图像上反而判错了。
# 也就是说，用约五分之一的计算量就能保持完整网络的准确率——容易的样本少算，难的样本多算，这才是文章说的"根据输入调整模型"。
# 图的纵轴从 0.91 开始（标签里写明），横轴从 0 开始。
#
# *Both checks agree exactly. Read from the committed full run: the first stage and head are cheap (288,512 FLOPs,
# about 7% of the plain three-stage CNN), the other two about 1.84 and 1.88 million. At $\tau=0$ every image leaves
# at the first head (0.07 of the compute, the lowest accuracy, 0.9260); at $\tau=1$ all go to the end (0.9593, at
# 1.02: two extra heads). In between most images leave at head 1: at $\tau=0.9$, 85% of them, for 0.17 of the
# compute and 0.9572, 0.2 points below $\tau=1$; $\tau=0.95$ matches $\tau=1$'s 0.9593 at 0.21; $\tau=0.99$ even
# scores 0.9610, above the full network, which means the last head gets some images wrong that the first was sure
# about. About a fifth of the compute keeps the full network's accuracy: easy inputs cost less, hard ones more. That
# is the adaptation the article describes. The accuracy axis starts at 0.91 (its label says so), the compute axis
# at 0.*

# %% [markdown]
# ## 5. 实际应用场景 · Applications
#
# 文章说"可以使用 RNN 进行自然语言处理，从而降低模型的计算成本"。
# 这个说法需要限定：RNN 按时间步串行计算，长序列上训练很难并行，今天的自然语言处理大多用 Transformer；降低成本靠的是本笔记本里的这些手段（蒸馏出小模型、int8 部署、MoE、提前退出），而不是换成 RNN。
# 图像识别这一条是对的：CNN 的权重共享让它比全连接网络便宜得多，§4.1 的 5,258 参数学生就是例子。
#
# *"Use RNNs for NLP to lower the cost" needs a qualifier: RNNs compute step after step and parallelise poorly over
# long sequences; NLP today mostly runs Transformers and cuts cost with the levers above (distilled small models,
# int8 deployment, MoE, early exit). The image line holds: weight sharing makes CNNs far cheaper than dense
# networks (§4.1's 5,258-parameter student).*

# %% [markdown]
# ## 6. 工具和资源推荐 · Tools and resources
#
# 文章列出的 PyTorch、TensorFlow、Keras、CUDA 都没问题。
# 本笔记本实际用到的是 TensorFlow 2 和 Keras 2（`tf_keras`；`keras_arch` 导入时设置 `TF_USE_LEGACY_KERAS=1`）、TensorFlow Model Optimization（剪枝和量化感知训练）以及 LiteRT（`ai-edge-litert`，运行 TFLite 文件）；分布式训练用的是 `tf.distribute`。
#
# *The article's list is fine. What ran here: TensorFlow 2 with Keras 2 (`tf_keras`; importing `keras_arch` sets
# `TF_USE_LEGACY_KERAS=1`), TensorFlow Model Optimization (pruning, QAT), LiteRT (`ai-edge-litert`, to run the
# .tflite files) and `tf.distribute`.*

# %% [markdown]
# ## 7. 总结：未来发展趋势与挑战 · Summary: trends and challenges
#
# 文章列出的挑战（优化可能降低性能、并行化让训练变复杂、压缩可能降低性能）都是对的，本笔记本在完整设置下给出了它们的大小：在这个任务上剪枝 80% 加 int8 量化损失约 0.4 个百分点，文件缩小到约四分之一；镜像训练在没有独立硬件时不会更快，第一轮还要多花构建分布式训练步的时间；提前退出用约五分之一的计算量保持了完整网络的准确率；而 4 个专家的 MoE 在这么少的数据上并不比单个专家好。
# 这些数字来自 2,000 张 MNIST 训练图像上的小模型，换成大模型和大数据，比例会不同，但测量的方法相同。
#
# *The challenges listed are real, and this notebook sized them on this task (full setting): 80% pruning plus int8
# cost about 0.4 points for a file about a quarter the size; mirroring without separate hardware is no faster and its first epoch costs more;
# early exit keeps the full network's accuracy at about a fifth of the compute; and four experts do no better than
# one on this little data. These are small models on 2,000 MNIST images; the ratios change at scale, the way of
# measuring does not.*

# %% [markdown]
# ## 8. 附录：常见问题与解答 · Appendix: FAQ
#
# Q5 说可以用"准确率、召回率、F1 分数"评估模型性能。对本文讨论的方法，还应同时报告成本：参数量、FLOPs、文件字节数、训练时间——只报告准确率，无法判断一种压缩或自适应方法是否值得。
#
# *Q5 names accuracy, recall and F1. For the methods of this article, report the cost beside them (parameters, FLOPs,
# bytes, seconds): accuracy alone cannot tell whether a compression or adaptation is worth it.*

# %% [markdown]
# ## 小结 · Summary
#
# - 文章第 4 节的四段代码都不能工作：两段是空壳（蒸馏、自适应），一段 `NameError`（并行），一段导入了不存在的 API（量化）。
# - 蒸馏：同一个 5,258 参数的学生、同样的 500 张标注图，蒸馏训练比从头训练在留出集上高约 2 个百分点（完整设置），留出交叉熵也低得多，过拟合更少。
# - 数据并行：每个副本把损失除以全局批大小，all-reduce 求和后就是全批梯度（与 NumPy 一致）；除以自己的批大小会得到 $R$ 倍的梯度。镜像训练与单设备的准确率相同，但逻辑设备共用同一组核心，所以不会更快。
# - 压缩：剪枝 80% + 量化感知训练 + int8 TFLite，准确率损失约 0.4 个百分点（全部来自剪枝），文件约为 float 的四分之一；TFLite 里的尺度、零点和整数权重都符合 $q=\mathrm{round}(x/s)+z$。
# - 自适应：MoE 按数字分工，容量公式 $C=\lceil kT/N\cdot c\rceil$ 和丢弃规则与 NumPy 一致，但在 2,000 张图上 4 个专家并不比 1 个专家准；提前退出用约五分之一的计算量保持了完整网络的准确率，退出规则和计算量与 NumPy 一致。
#
# *The four examples fail. Distillation lifts the same student on the same 500 labels by about 2 points (full
# setting). Data parallelism is the full-batch gradient (checked; dividing by the replica's own batch gives $R$
# times it), as accurate as one device and not faster on logical devices. Pruning + QAT + int8 costs about 0.4 points
# (all of it pruning) at about a quarter of the size, and the file's integers follow $q=\mathrm{round}(x/s)+z$. MoE
# routes by digit within capacity (checked) but four experts beat one on nothing here; early exit keeps the full
# network's accuracy at about a fifth of the compute (rule and cost checked).*

# %% [markdown]
# ## 练习 · Exercises
#
# 1. 在 §4.1 的单元格里把温度改成 $T=1$ 和 $T=8$、把 $\alpha$ 改成 0.1 和 0.9，重新训练蒸馏学生，和从头训练的学生比较；再把两个学生的训练数据从前 500 张换成全部 2,000 张（`x_few, y_few = x_train, y_train`），最后在命令行运行 `python -m keras_arch.run distill --data-dir ../shared/data/mnist`（54,000 张训练图）。数据多了以后，蒸馏的好处变大还是变小？
#    *Change $T$ and $\alpha$ in §4.1 and compare with the scratch student; then give both students all 2,000 images, and run `distill` on all of MNIST. Does the gain grow or shrink with more data?*
# 2. `python -m keras_arch.run cnn --prune 2:4 --qat --tflite /tmp/cnn.tflite`：结构化的 2:4 稀疏（每 4 个连续权重中 2 个为 0）与 §4.3 的非结构化 80% 相比，准确率和 int8 文件大小各是多少？
#    *Structured 2:4 sparsity against §4.3's unstructured 80%: accuracy and int8 size?*
# 3. 在 §3.4 的单元格里把 `factor` 改成 0.5 和 2.0，数一数丢弃的选择；再运行 `python -m keras_arch.run moe`（Transformer 里的 MoE，按 token 路由），看它报告的专家负载和丢弃比例。
#    *Capacity factor 0.5 and 2.0 in §3.4: count the drops; then `run moe` (per-token routing in a Transformer).*
# 4. §4.4 的表里 $\tau=0.8$ 比 $\tau=1$ 低约 0.9 个百分点，$\tau=0.9$ 只低约 0.2 个。用 §4.4 的 `early_exit_lib.tradeoff`（`keras_arch.models.early_exit.tradeoff`）的 `thresholds=` 参数在 0.8 和 0.9 之间多取几个阈值，找出准确率与 $\tau=1$ 相差不超过 0.5 个百分点、计算量最小的那个。
#    *§4.4's table has $\tau=0.8$ about 0.9 points below $\tau=1$ and $\tau=0.9$ about 0.2 below: pass more thresholds between them to `tradeoff(..., thresholds=...)` and find the cheapest within half a point of $\tau=1$.*
# 5. `python -m keras_arch.run cnn-doc000 --strategy mirrored --logical-devices 2 --batch-size 63`：为什么被拒绝？改成 64 后，对比 `--strategy one-device` 的时间。
#    *Why is a global batch of 63 refused on 2 replicas? Compare 64 with `--strategy one-device`.*
