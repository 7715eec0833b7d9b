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
# # 文档 004 · Document 004：大型模型的新型神经网络结构——自注意力、跨模态学习、结构化知识迁移
#
# 这篇文章介绍三种结构：自注意力、跨模态学习和"结构化知识迁移"（即知识图谱的三元组打分）。
# 它给出了三个公式和三段 PyTorch 代码：公式大体正确，但正文对公式的解释有错；三段代码则全部无法运行，而且即使修好语法，算的也不是公式里的东西。
# 本笔记本先逐个公式用 Keras 层和 NumPy 参照实现各算一遍（每条核对打印一行 `max |Keras - NumPy| = ...`），再列出原文代码、指出错误，最后训练改正后的模型：在生成的影评上训练 Transformer 分类器并读出注意力图，在手写数字与生成的描述上训练图文双塔模型并做检索，在 UMLS 医学知识图谱上比较两种 ⊕ 的读法。
#
# *The article presents three structures: self-attention, cross-modal learning and "structured knowledge transfer"
# (scoring knowledge-graph triples). Its three formulas are roughly right, its explanations of them partly wrong,
# and its three PyTorch examples all fail. This notebook computes each formula with a Keras layer and with NumPy
# (each check prints `max |Keras - NumPy| = ...`), shows the examples as written with what fails, and trains the
# corrected models: a Transformer classifier whose attention map is read aloud, an image–text two-tower model used
# for retrieval, and the triple scorer on the UMLS knowledge graph with both readings of ⊕.*

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
# ## 1.背景介绍 · Background
#
# 文章的背景部分只是概述：大模型在图像、语音和文本上效果好，但数据和计算需求增长带来挑战，于是有了新的结构。
# 这一节没有需要核对的内容。
#
# *An overview with nothing to check: large models work, their cost grows, new structures follow.*

# %% [markdown]
# ## 2.核心概念与联系 · Core concepts
#
# ### 2.1 大型神经网络 · Large networks
#
# 文章把 Transformer 写成"变压器（Transformer）"，这是把电气设备的译名套到了模型上；中文文献里一般直接写 Transformer。
# 另外，RNN 并不局限于"语音识别和自然语言处理"，CNN 也常用于文本和音频，这里的分类只是粗略的习惯用法。
#
# *"变压器" is the electrical transformer; Chinese papers keep the English name. The CNN/RNN/Transformer split by
# field is a rough habit, not a rule.*
#
# ### 2.2 模型结构的创新 · Structural innovation
#
# 三条（新的层、更高效的连接、参数共享与稀疏表示）都是真实存在的方向；本笔记本用到的多头注意力、双塔共享空间和实体嵌入分别对应前两条和第三条。
#
# *The three directions are real; multi-head attention, the shared two-tower space and entity embeddings below are
# instances of them.*
#
# ### 2.3 新型神经网络结构 · New structures
#
# "自注意力机制用于增强模型的注意力机制"是循环定义：自注意力是一种注意力，它的查询、键和值都来自同一个序列。
# "结构化知识迁移"这个名字也容易误导，文章后面实际讲的是知识图谱嵌入，即为（头实体，关系，尾实体）三元组打分并补全缺失的三元组，而不是迁移学习。
#
# *"Self-attention enhances the attention mechanism" is circular: self-attention is attention whose queries, keys and
# values all come from one sequence. "Structured knowledge transfer" as described later is knowledge-graph
# embedding (scoring and completing (head, relation, tail) triples), not transfer learning.*

# %% [markdown]
# ## 3.核心算法原理和具体操作步骤以及数学模型公式详细讲解 · Algorithms and formulas
#
# 文章的三个公式逐一用 Keras 层计算，再用 NumPy 按公式逐元素（循环）计算，比较最大差。权重都是随机的，并且偏置、头数、长度都不对称，这样漏掉一项或转置错一个矩阵都会被发现。
#
# *Each formula computed by a Keras layer and by NumPy loop by loop, on random weights with biases and asymmetric
# shapes, so that a dropped term or a transposed matrix would show.*

# %% [markdown]
# ### 3.1 自注意力机制（Self-Attention） · Self-attention
#
# **原文的错误 · What the text gets wrong.** 文章说"自注意力机制的核心是计算一个位置编码矩阵"，这是错的。
# 自注意力的核心是**注意力分数矩阵** $QK^\top/\sqrt{d_k}$：第 $i$ 行第 $j$ 列是第 $i$ 个位置的查询与第 $j$ 个位置的键的点积，经按行 softmax 后成为注意力权重，再对值 $V$ 加权求和。
# 位置编码是另一回事：它加在输入上，因为自注意力本身不知道顺序——把输入的位置打乱，输出只会被同样地打乱（下面第三条核对验证这一点）。
# 所以文章列的第 1 步"对输入序列进行位置编码"属于 Transformer 的输入层，不属于自注意力本身。
#
# *The text says self-attention's core is "computing a position-encoding matrix". It is not: the core is the score
# matrix $QK^\top/\sqrt{d_k}$ (query $i$ against key $j$), softmaxed row by row into weights over $V$. Position
# encodings are separate, added to the inputs, because attention by itself ignores order: permute the inputs and the
# outputs are permuted the same way (the third check below). Step 1 of the article's list belongs to the
# Transformer's input layer, not to self-attention.*
#
# $$\text{Attention}(Q,K,V) = \text{softmax}\left(\frac{QK^\top}{\sqrt{d_k}}\right)V,\qquad
# \text{MultiHead}(X) = \text{Concat}(\text{head}_1,\dots,\text{head}_h)\,W^O,\quad
# \text{head}_i = \text{Attention}(XW_i^Q, XW_i^K, XW_i^V)$$
#
# $d_k$ 是每个头的键向量维度；除以 $\sqrt{d_k}$ 让点积的方差不随维度增大，softmax 不至于饱和。
# 下面的 `MultiHeadSelfAttention` 有 3 个头（每头 $d_k=5$，模型宽 7），第二、三个序列末尾有填充，填充位置的键不能得到任何权重：
#
# *$d_k$ is each head's key width; dividing by $\sqrt{d_k}$ keeps the dot products' variance from growing with it.
# Three heads of $d_k=5$ over width 7, padding at the end of two of the sequences (a padded key gets no weight):*

# %%
# source: keras_arch.reference:multi_head_self_attention

# %%
import tensorflow as tf
from keras_arch.layers.multi_head_self_attention import MultiHeadSelfAttention
from keras_arch.reference import mhsa_weights, randomize
x = np.random.default_rng(3).normal(size=(3, 6, 7)).astype(np.float32)
mask = np.array([[True] * 6, [True] * 4 + [False] * 2, [True] * 3 + [False] * 3])  # padding at the end
layer = MultiHeadSelfAttention(num_heads=3, key_dim=5)  # 3 heads of d_k = 5 over d_model = 7
layer(x)
randomize(layer, seed=4)
out, weights = layer(x, mask=tf.constant(mask), return_attention_scores=True)
ref_out, ref_weights = multi_head_self_attention(x, *mhsa_weights(layer), mask=mask)
formula_check("softmax(QK^T / sqrt(d_k)) per head", weights, ref_weights)
formula_check("MultiHead = Concat(head_1..head_h) W^O", out, ref_out)
perm = np.array([5, 2, 0, 4, 1, 3])  # a reordering of the 6 positions
ref_plain, _ = multi_head_self_attention(x, *mhsa_weights(layer))  # no padding
formula_check("MultiHead(PX) = P MultiHead(X): attention alone ignores order", layer(x[:, perm]), ref_plain[:, perm])
print("weights of query 0 over the keys, head 0, sequence 2 (last 3 padded) · 第 3 个序列第 0 个查询的权重:",
      weights.numpy()[2, 0, 0].round(3))

# %% [markdown]
# 三条核对的差在 $10^{-7}$ 到 $10^{-6}$ 之间（输出经过三次矩阵乘法，float32 的舍入误差累积得比单独的权重大一些）。
# 最后一行是一个查询在一个头上的权重：前三个真实位置的权重（0.031、0.796、0.173）加起来等于 1，三个填充位置恰好是 0。
# 第三条核对说明，打乱输入顺序只会打乱输出顺序，数值不变——模型要区分"not good"和"good not"，必须靠另外加上的位置编码（§4.1 的模型用可学习的位置嵌入）。
#
# *The three agree to between $10^{-7}$ and $10^{-6}$ (the outputs pass three matrix products, so float32 rounding
# accumulates a little more than in the weights). The printed row (0.031, 0.796, 0.173) sums to 1 over the three real
# keys and is exactly 0 on the padding.
# The permutation check is why position encodings are added separately: without them "not good" and "good not"
# look the same to attention (§4.1's model learns a position embedding).*

# %% [markdown]
# ### 3.2 跨模态学习 · Cross-modal learning
#
# $$f(x_i, y_i) = \sum_{j=1}^N \alpha_{ij} f_j(x_i) + \sum_{k=1}^M \beta_{ik} f_k(y_i)$$
#
# 文章把 $\alpha_{ij}$、$\beta_{ik}$ 称为"权重矩阵"，其实它们是每个样本 $i$ 上的标量权重：第 $i$ 个样本给第 $j$ 个图像特征、第 $k$ 个文本特征各一个权重。
# 库里的 `WeightedFusion` 用一个打分 $v^\top\tanh(f)$ 加 softmax 生成它们，所以每个样本的 $\sum_j\alpha_{ij}+\sum_k\beta_{ik}=1$。
# 还要注意：这个公式把一对（图像，文本）融合成一个向量，适合做分类，却不能直接做跨模态检索；检索需要图像和文本各自映射到同一个空间（双塔），再用余弦相似度 $S_{ij}=\cos(\text{image}_i,\text{text}_j)/T$ 比较任意一张图和任意一句话。
# 改正后的模型两者都有：
#
# *The text calls $\alpha_{ij}$, $\beta_{ik}$ "weight matrices"; they are per-example scalars, one per image feature
# and per text feature. `WeightedFusion` makes them with a score $v^\top\tanh(f)$ and one softmax, so they sum to 1
# per example. The formula fuses one (image, text) pair into one vector, which suits classification but not
# retrieval; retrieval needs both modalities in one space (two towers) and the cosine similarity
# $S_{ij}=\cos(\text{image}_i,\text{text}_j)/T$ of any image with any caption. The corrected model has both:*

# %%
from keras_arch.layers.weighted_fusion import WeightedFusion
from keras_arch.layers.contrastive_similarity import ContrastiveSimilarity
rng = np.random.default_rng(0)
inputs = [rng.normal(size=(3, d)).astype(np.float32) for d in (4, 6, 5)]  # N = 2 image features, M = 1 text
layer = WeightedFusion(7, num_image_features=2)
layer(inputs)
randomize(layer, seed=1)
mapped = [x @ d.kernel.numpy() + d.bias.numpy() for d, x in zip(layer.maps, inputs)]  # f_j(x_i), f_k(y_i)
scores = np.stack([np.tanh(m) @ layer.score.kernel.numpy()[:, 0] for m in mapped], axis=1)
w = np.exp(scores) / np.exp(scores).sum(1, keepdims=True)  # alpha_i1, alpha_i2, beta_i1: sum 1 per example
print("alpha_i1, alpha_i2, beta_i1 per example · 每个样本的权重:\n", w.round(3))
formula_check("f(x_i, y_i) = sum_j alpha_ij f_j(x_i) + sum_k beta_ik f_k(y_i)", layer(inputs),
              w[:, 0:1] * mapped[0] + w[:, 1:2] * mapped[1] + w[:, 2:3] * mapped[2])
a, b = rng.normal(size=(5, 8)).astype(np.float32), rng.normal(size=(5, 8)).astype(np.float32)
cos = (a / np.linalg.norm(a, axis=1, keepdims=True)) @ (b / np.linalg.norm(b, axis=1, keepdims=True)).T
formula_check("S_ij = cos(image_i, text_j) / T, T = 0.5", ContrastiveSimilarity(initial_temperature=0.5)([a, b]), cos / 0.5)

# %% [markdown]
# 每行三个权重之和为 1，且各样本不同——这就是下标 $i$ 的含义。
# 双塔用对称的 InfoNCE 损失训练：一批 $n$ 对图文的相似度矩阵 $S$ 中，真实配对在对角线上，每张图要在一行里选中自己的描述，每句描述要在一列里选中自己的图：
#
# *Each row sums to 1 and differs per example: that is what the subscript $i$ means. The towers learn with the
# symmetric InfoNCE loss over a batch's similarity matrix $S$ (true pairs on the diagonal): each image must pick its
# caption in its row, each caption its image in its column:*
#
# $$L_i = \tfrac12\Big(-\log\frac{e^{S_{ii}}}{\sum_j e^{S_{ij}}} - \log\frac{e^{S_{ii}}}{\sum_j e^{S_{ji}}}\Big)$$

# %%
from keras_arch.losses import symmetric_infonce
from keras_arch.reference import log_softmax
S = np.random.default_rng(5).normal(0, 3, (6, 6)).astype(np.float32)  # similarities of 6 images x 6 captions
S64 = S.astype(np.float64)  # NumPy in double precision
i2t = -np.diag(log_softmax(S64, axis=1))  # image i must pick caption i among the row
t2i = -np.diag(log_softmax(S64, axis=0))  # caption i must pick image i among the column
formula_check("L = (CE_rows + CE_columns) / 2", symmetric_infonce(None, S), (i2t + t2i) / 2)

# %% [markdown]
# ### 3.3 结构化知识迁移 · Structured knowledge
#
# $$f(e_i, r, e_j) = \text{MLP}\big(E(e_i) \oplus E(e_j) \oplus E(r)\big),\qquad \text{MLP}(x) = w_2^\top\,\mathrm{relu}(W_1 x + b_1) + b_2$$
#
# 文章的正文说 $\oplus$ 是"元素相加"，而 §4.3 的代码用的是拼接（`torch.cat`）。两种读法差别很大：
# 加法满足交换律，$E(h)+E(t)+E(r)=E(t)+E(h)+E(r)$，所以 $f(h,r,t)=f(t,r,h)$，模型分不清"A 是 B 的父亲"和"B 是 A 的父亲"；拼接则保留了头和尾的位置。
# `ERMLPScorer` 两种都实现（`combine="concat"|"sum"`），下面各与 NumPy 核对一次：
#
# *The text says ⊕ is element-wise addition, the code concatenates. Addition commutes, so $f(h,r,t)=f(t,r,h)$:
# "A is B's father" and "B is A's father" score the same. Concatenation keeps head and tail apart. `ERMLPScorer`
# does both, each checked against NumPy:*

# %%
# source: keras_arch.reference:er_mlp_score

# %%
from keras_arch.layers.er_mlp_scorer import ERMLPScorer
h, r, t = np.array([0, 3, 6], np.int32), np.array([2, 0, 1], np.int32), np.array([5, 5, 1], np.int32)
scorers = {}
for combine in ("concat", "sum"):
    layer = ERMLPScorer(7, 3, dim=4, hidden=5, combine=combine)
    layer.build(None)
    rng = np.random.default_rng(0)
    for v in layer.weights:
        v.assign(rng.normal(size=v.shape).astype(np.float32))
    scorers[combine] = layer
    params = [layer.entity_embeddings.numpy(), layer.relation_embeddings.numpy(), layer.kernel1.numpy(),
              layer.bias1.numpy(), layer.kernel2.numpy(), layer.bias2.numpy()]
    formula_check(f"f(e_i, r, e_j) = MLP(E(e_i) ⊕ E(e_j) ⊕ E(r)), ⊕ = {combine}", layer([h, r, t]),
                  er_mlp_score(*params, h, r, t, combine=combine))
    swapped = layer([t, r, h]).numpy() - layer([h, r, t]).numpy()
    print(f"   {combine:6s}: f(t, r, h) - f(h, r, t) =", swapped.round(4))

# %% [markdown]
# 两种读法都与 NumPy 一致；交换头尾后，拼接版的分数变了，加法版的差恰好是 0，正是上面说的对称性。
#
# 训练和评估时，模型要对一个查询 $(h, r, ?)$ 给所有实体打分（1-N 打分）。$W_1$ 是线性的，拼接时可以按行拆成三块 $W_1 x = W_h E(h) + W_t E(t) + W_r E(r)$，于是查询部分 $W_h E(h) + W_r E(r) + b_1$ 每个查询只算一次，尾实体部分 $W_t E(t)$ 每个实体只算一次，再相加过 relu 和 $w_2$。
# 库里的 `query` / `score_entities` 就是这样做的；下面把它一次给出的所有实体的分数与 NumPy 逐个三元组算的分数比较：
#
# *Both readings agree with NumPy; swapping head and tail changes the concatenated score and leaves the sum's
# exactly unchanged. To rank, the model scores every entity as the tail of $(h, r, ?)$ (1-N). $W_1$ is linear, so
# with concatenation it splits into blocks, $W_1 x = W_h E(h) + W_t E(t) + W_r E(r)$: the query part once per query,
# the tail part once per entity. The library's `query`/`score_entities` do this; their scores of all 7 entities at
# once against NumPy's triple by triple:*

# %%
# source: keras_arch.layers.er_mlp_scorer:ERMLPScorer._blocks, keras_arch.layers.er_mlp_scorer:ERMLPScorer.query, keras_arch.layers.er_mlp_scorer:ERMLPScorer.score_entities

# %%
layer = scorers["concat"]
params = [layer.entity_embeddings.numpy(), layer.relation_embeddings.numpy(), layer.kernel1.numpy(),
          layer.bias1.numpy(), layer.kernel2.numpy(), layer.bias2.numpy()]
every_tail = np.arange(7)
numpy_all = np.stack([er_mlp_score(*params, np.full(7, hq), np.full(7, rq), every_tail) for hq, rq in zip(h, r)])
formula_check("1-N: w2 . relu(W_h E(h) + W_r E(r) + b1 + W_t E(t)) + b2 for every tail t", layer([h, r]), numpy_all)

# %% [markdown]
# ## 4.具体代码实例和详细解释说明 · Code examples
#
# 每一小节先原样列出文章的 PyTorch 代码（只展示、不运行），指出它错在哪里，再给出改正后的 Keras 代码，并在数据上训练、评估。
# 三个模型的训练都写在页面上：`compile` 里是优化器、学习率曲线和损失，`fit` 里是批大小和轮数。
#
# *Each subsection shows the article's PyTorch code as written (not run), says what is wrong, then trains and
# evaluates the corrected Keras code; all three trainings are on the page (`compile`: optimizer, learning-rate
# schedule, loss; `fit`: batch size, epochs).*
#
# ### 4.1 自注意力机制（Self-Attention） · Self-attention

# %%
# example: 004 0
# pytorch

# %% [markdown]
# 这段代码有四处错误：
#
# 1. `nn.Dropout(rate=0.1)`：PyTorch 的参数名是 `p`，`rate` 是 Keras 的写法，构造时就抛出 `TypeError`（而且 `np` 从未导入）。
# 2. `view(B, N, 3, H, C//H).permute(0, 2, 1, 3, 4)` 得到形状 (B, 3, N, H, d)，`unbind(dim=2)` 拆开的却是序列维 N，而不是 q/k/v 那一维：只有 N 恰好等于 3 时才不报错，而那时每个"q"的形状是 (B, 3, H, d)，`q @ k.transpose(-2, -1)` 得到 (B, 3, H, H)——是在**头与头之间**做注意力，不是在位置之间。正确的写法是 `permute(2, 0, 3, 1, 4)` 再 `unbind(0)`，得到三个 (B, H, N, d)。
# 3. 分数没有经过 softmax，直接对未归一化的分数做 dropout 再乘 $V$，权重既不非负也不归一。
# 4. 输出 `(attn @ v).permute(0, 2, 1, 3)` 的维度顺序建立在第 2 条的错误形状上。
#
# *Four faults: `nn.Dropout(rate=0.1)` raises `TypeError` (PyTorch's argument is `p`; `np` is also never imported);
# `permute(0, 2, 1, 3, 4)` + `unbind(dim=2)` splits the sequence axis, not q/k/v, so it fails unless N = 3, and then
# `q @ kᵀ` is (B, 3, H, H): attention across heads, not positions (the fix is `permute(2, 0, 3, 1, 4)` and
# `unbind(0)`); no softmax over the scores; the output permutation rests on the wrong shapes.*
#
# 改正后的 Keras 代码：多头自注意力的 `call`、包住它的编码器块（pre-norm：先 LayerNorm 再注意力，再加残差），以及整个分类器：
#
# *The corrected Keras code: the attention's `call`, the encoder block around it (pre-norm), the classifier:*

# %%
# source: keras_arch.layers.multi_head_self_attention:MultiHeadSelfAttention.call

# %%
# source: keras_arch.layers.transformer_encoder_block:TransformerEncoderBlock.call

# %%
# source: keras_arch.models.attention:transformer_classifier

# %% [markdown]
# **数据 · The data.** 生成的影评（内嵌，无需下载）：每句 8 到 30 个填充词，在随机位置插入一个情感词，40% 的句子在情感词前加 "not" 或 "never"；标签 = 情感为正 XOR 被否定。
# 要答对，模型必须同时看到情感词和它前面的否定词，无论它们在句子的哪里——这正是自注意力擅长的事，所以用它来读注意力图比真实影评清楚。
#
# *Generated reviews (embedded): 8-30 filler words, one sentiment word at a random place, negated by "not"/"never"
# 40% of the time; label = positive XOR negated. The model must find the sentiment word and its negation wherever
# they are: what self-attention is for, and easier to read in a map than real reviews.*

# %%
from keras_arch.data import text
reviews = text.load()  # generated reviews as token ids (0 = padding), vocabulary adapted on train
vocab = reviews.vocabulary
words = lambda ids: " ".join(vocab[i] for i in ids if i != 0)  # noqa: E731
print(f"{len(reviews.y_train):,} train / {len(reviews.y_val):,} validation / {len(reviews.y_test):,} test sentences, "
      f"{len(vocab)} tokens in the vocabulary, padded to {reviews.x_train.shape[1]}")
for i in range(6):
    print(f"  [{('negative', 'positive')[reviews.y_train[i]]}] {words(reviews.x_train[i])}")

# %%
from keras_arch.models.attention import transformer_classifier
from keras_arch.training.schedules import WarmupCosine
TRANSFORMER_EPOCHS = 4 if FAST else 8
steps = -(-len(reviews.y_train) // 32)
keras.utils.set_random_seed(0)
transformer = transformer_classifier(vocab_size=len(vocab), num_classes=2, input_shape=(50,), embed_dim=64,
                                     num_heads=4, ff_dim=128, num_blocks=1, dropout=0.1)
transformer.compile(optimizer=keras.optimizers.Adam(WarmupCosine(peak=3e-3, total_steps=TRANSFORMER_EPOCHS * steps,
                                                                 warmup_steps=steps // 2)),
                    loss="sparse_categorical_crossentropy", metrics=["accuracy"])
transformer.fit(reviews.x_train, reviews.y_train, batch_size=32, epochs=TRANSFORMER_EPOCHS,
                validation_data=(reviews.x_val, reviews.y_val), verbose=2)
test_loss, test_acc = transformer.evaluate(reviews.x_test, reviews.y_test, verbose=0)
print(f"test accuracy · 测试准确率 {test_acc:.4f} ({transformer.count_params():,} parameters)")

# %% [markdown]
# **注意力图 · The attention map.** 取第一个编码器块里真正的注意力权重：因为块是 pre-norm，注意力看到的是 LayerNorm 之后的嵌入，所以要先过 `norm1`；4 个头取平均。
# 纵轴是发出查询的词，横轴是被关注的词，每一行的权重和为 1。
#
# *The first block's actual attention weights: the block is pre-norm, so attention sees the embeddings after
# `norm1`; the 4 heads averaged. Rows: the attending word (query); columns: the attended word (key); each row sums
# to 1.*

# %%
from keras_arch.data.text import NEGATIVE, POSITIVE
block = transformer.get_layer("encoder_0")
ids = reviews.x_test
embedded = transformer.get_layer("embedding")(ids)
seen = block.norm1(embedded) if block.norm_first else embedded  # what the attention layer really receives
_, attention = block.attention(seen, mask=tf.not_equal(ids, 0), return_attention_scores=True)
attention = attention.numpy().mean(axis=1)  # (sentences, queries, keys), the heads averaged
negated = [i for i in range(len(ids)) if {"not", "never"} & set(words(ids[i]).split())]
plain = [i for i in range(len(ids)) if i not in negated]
for name, i in (("left", negated[0]), ("right", plain[0])):  # one figure per sentence, at the page's width
    tokens = [vocab[j] for j in ids[i] if j != 0]
    n = len(tokens)
    fig, ax = plt.subplots(figsize=(4 + 0.2 * n, 3 + 0.2 * n))
    plots.heatmap(ax, attention[i, :n, :n], tokens, tokens,
                  bi(f"self-attention of encoder_0, mean of the {block.num_heads} heads\n"
                     f"test sentence {i} ({'negated' if i in negated else 'no negation'}), "
                     f"label {('negative', 'positive')[reviews.y_test[i]]}", "头平均的自注意力"), fig)
    ax.tick_params(labelsize=11), ax.title.set_fontsize(12)
    ax.set_xlabel(bi("attended word (key)", "被关注的词"), fontsize=11)
    ax.set_ylabel(bi("attending word (query)", "查询词"), fontsize=11)
    show_figure(fig, f"self_attention_{name}.png")

# %% [markdown]
# 把整张测试集的注意力按词的类别汇总，就能把图"读出来"：对每个查询，算它分给情感词、否定词和填充词的权重，与平均分配（每个词 $1/n$）相比是几倍。
#
# *Summed over the whole test set by kind of word: the weight each query gives to the sentiment word, the negation
# and the fillers, as a multiple of the uniform share $1/n$.*

# %%
kinds = {"sentiment word": set(POSITIVE) | set(NEGATIVE), "negation": {"not", "never"}}
received = {"sentiment word": [], "negation": [], "filler": []}
for i in range(len(ids)):
    tokens = [vocab[j] for j in ids[i] if j != 0]
    n = len(tokens)
    column = attention[i, :n, :n].sum(axis=0)  # the weight each key receives from all n queries; uniform: 1
    for kind in received:
        keys = [j for j, w in enumerate(tokens)
                if (w in kinds[kind] if kind in kinds else all(w not in k for k in kinds.values()))]
        if keys:
            received[kind].append(column[keys].mean())
chinese = {"sentiment word": "情感词", "negation": "否定词", "filler": "填充词"}
for kind, ratios in received.items():
    print(f"{kind:15s} receives {np.mean(ratios):5.2f} x the uniform share (mean over {len(ratios):3d} sentences)"
          f" · {chinese[kind]}得到的注意力是平均分配时的 {np.mean(ratios):.2f} 倍")
for side, i in (("first", negated[0]), ("second", plain[0])):
    tokens = [vocab[j] for j in ids[i] if j != 0]
    column = attention[i, :len(tokens), :len(tokens)].mean(axis=0)  # mean weight per query
    top = np.argsort(-column)[:3]
    print(f"{side} map, the brightest columns (mean weight over the queries): "
          + ", ".join(f"'{tokens[j]}' {column[j]:.2f}" for j in top))

# %% [markdown]
# 读图（完整设置下提交的这次运行，测试准确率 1.000；训练日志显示验证准确率从第 2 轮起就是 1.000，这个生成的任务对一层 Transformer 并不难）：
#
# - 第一张图是一个带否定的负面句子（"... not funny ..."）。除了 "not" 和 "funny" 两行，每一行都把约 0.8 的权重放在 "not" 这一列上；"funny" 这一列反而几乎是暗的，"not" 和 "funny" 自己的两行则分散地看向其他词（"with"、"the"、"i" 等）。
# - 第二张图没有否定词，除了 "funny" 自己那一行，每一行都把约一半的权重放在情感词 "funny" 上；另有一列（第三个词 "with"）从每一行得到约 0.2，这像是某个头在没有否定词时固定看向一个位置——四个头取平均后看不出是哪个头（练习 2）。
# - 上面打印的按列平均与图一致：第一张图里 "not" 一列平均得到 0.66，第二张图里 "funny" 0.50、"with" 0.22。
# - 汇总到整个测试集：否定词得到的注意力是平均分配时的约 12 倍，情感词约 8.6 倍，填充词只有约 0.36 倍。
#
# 所以模型的做法是：有否定词时，几乎所有位置都去"读"否定词；没有时就去读情感词。
# 一种与这些图相符的解释是：情感词本身的信息留在它自己的位置上（残差连接），最后的掩码平均池化把"有没有否定"和"情感是什么"合在一起，正好是标签所需的"正面 XOR 否定"；这一点图本身证明不了，要靠消融之类的实验。
# 注意力图表示的是信息从哪里流向哪里，不等于对决定的完整解释——第一张图里情感词这一列是暗的，但它的信息并没有丢（模型对这句话的判断是对的）。
#
# *Read from the committed full run (test accuracy 1.000; the log shows validation accuracy 1.000 from epoch 2: the
# generated task is easy for one Transformer block). First map, a negated negative sentence: every row except "not"
# and "funny" puts about 0.8 on the "not" column, while the "funny" column is nearly dark; the rows of "not" and
# "funny" spread over other words ("with", "the", "i"). Second map, no negation: every row but the sentiment word's
# own puts about half its weight on "funny"; one more column (the third word, "with") gets about 0.2 from every row,
# which looks like one head falling back to a fixed position (head-averaging hides which; exercise 2). The printed
# column means agree: "not" 0.66 in the first map, "funny" 0.50 and "with" 0.22 in the second. Over the test set the
# negation receives about 12 times its uniform share, the sentiment word about 8.6 times, the fillers about 0.36. So:
# with a negation, nearly every position reads the negation; without, the sentiment word. One explanation that fits
# the maps: the sentiment word keeps its own identity in its position (the residual), and the masked mean pooling
# combines "negated?" with "which sentiment", exactly the XOR the label needs; the maps alone cannot prove it (an
# ablation could). An attention map shows where information flows, not the whole decision: the dark "funny" column
# in the first map has not lost its information (the sentence is classified right).*

# %% [markdown]
# ### 4.2 跨模态学习 · Cross-modal learning

# %%
# example: 004 1
# pytorch

# %% [markdown]
# 这段代码第一次调用就失败：两路特征各投影到 128 维后拼接成 256 维，却送进 `nn.Linear(128, 64)`，形状不匹配。
# 即使改好维度，`torch.matmul(fused_features, fused_features.t())` 比较的是"融合后的样本对"与"融合后的样本对"，矩阵里既没有图像一方也没有文本一方，无法回答"哪句话描述这张图"；代码也没有损失函数。
#
# *It fails on its first call: two 128-wide projections concatenated (256) go into `nn.Linear(128, 64)`. Fixed, its
# similarity `fused @ fusedᵀ` compares fused pairs with fused pairs: there is no image side and no text side to ask
# "which caption describes this image", and there is no loss.*
#
# 改正后的 Keras 代码：图像塔（小 CNN）和文本塔（图内分词、嵌入、掩码平均）各自投影到同一个 64 维空间，`similarity` 输出一批图与一批描述两两的余弦相似度（可学习温度），`digit` 用 §3.2 的加权融合做数字分类：
#
# *The corrected code: an image tower (small CNN) and a text tower (in-graph tokenizer, embedding, masked mean) into
# one 64-d space; `similarity` gives every image against every caption of the batch (learned temperature); `digit`
# classifies through §3.2's weighted fusion:*

# %%
# source: keras_arch.models.two_tower:two_tower

# %%
# source: keras_arch.layers.contrastive_similarity:ContrastiveSimilarity.call

# %%
# source: keras_arch.layers.weighted_fusion:WeightedFusion.weights_and_features, keras_arch.layers.weighted_fusion:WeightedFusion.call

# %%
# source: keras_arch.losses:symmetric_infonce

# %% [markdown]
# **数据 · The data.** 图像是 scikit-learn 自带的真实手写数字扫描（1,797 张 8×8，放大后居中在 28×28 上），描述是代码生成的："seven"、"7"、"a slanted handwritten 7"……并加入噪声：插入无关词、删掉一个词、把数字单词拼错（拼错的词不在词表里，模型只能依靠剩下的线索）。
#
# *Real digit scans (scikit-learn's 1,797 8×8 images, centred on 28×28) with generated captions, noised with filler
# words, dropped words and misspelt number words (out of the vocabulary, so the text tower must rely on the rest).*

# %%
from keras_arch.data import captions
pairs = captions.load()  # digits + generated captions; the vocabulary comes from the training captions
print(f"{len(pairs.y_train):,} train / {len(pairs.y_val):,} validation / {len(pairs.y_test):,} test pairs; "
      f"{len(pairs.vocabulary)} caption words")
import textwrap
fig, axes = plt.subplots(2, 6, figsize=(13, 5.5), gridspec_kw={"hspace": 0.5})
for ax, i in zip(axes.ravel(), range(12)):
    ax.imshow(pairs.x_train["image"][i, :, :, 0], cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(textwrap.fill(f'"{pairs.x_train["caption"][i]}"', 18), fontsize=9)
    ax.axis("off")
fig.suptitle(bi("training pairs: a real digit scan and its generated caption", "训练图文对"), y=1.03)
show_figure(fig, "captions.png")

# %%
from keras_arch.models.two_tower import two_tower
from keras_arch.tasks import crossmodal
CROSSMODAL_EPOCHS = 8 if FAST else 30
keras.utils.set_random_seed(0)
two = two_tower(**pairs.model_args())  # image_shape, vocabulary, caption_length=10, embed_dim=64
targets = {"similarity": np.zeros(len(pairs.y_train), np.float32), "digit": pairs.y_train}  # the pairs: the diagonal
train_pairs = tf.data.Dataset.from_tensor_slices((pairs.x_train, targets)).shuffle(len(pairs.y_train), seed=0)
train_pairs = train_pairs.batch(32, drop_remainder=True)  # a last batch of 1 would have nothing to contrast
steps = len(pairs.y_train) // 32
two.compile(optimizer=keras.optimizers.Adam(WarmupCosine(peak=3e-3, total_steps=CROSSMODAL_EPOCHS * steps,
                                                         warmup_steps=min(steps, CROSSMODAL_EPOCHS * steps // 10))),
            loss={"similarity": symmetric_infonce, "digit": "sparse_categorical_crossentropy"},
            loss_weights={"similarity": 1.0, "digit": 0.5}, metrics={"digit": ["accuracy"]})
history = two.fit(train_pairs, epochs=CROSSMODAL_EPOCHS, verbose=0).history
print("loss per epoch · 每轮损失:", [round(v, 3) for v in history["loss"]])
m = crossmodal.evaluate(two, pairs.x_test, pairs.y_test)
print(f"test pairs · 测试图文对: {len(pairs.y_test)} (chance recall@1 about 0.10, recall@5 about 0.41)")
for key in ("image_to_text_recall@1", "image_to_text_recall@5", "text_to_image_recall@1", "text_to_image_recall@5",
            "fused_digit_accuracy", "temperature"):
    print(f"  {key:24s} {m[key]:.4f}")

# %% [markdown]
# **检索的含义 · What recall@k counts.** 描述只说明是哪个数字，所以一张"7"的图对所有说"7"的描述都是对的。
# 图→文 recall@$k$ 是：用每张测试图去检索全部测试描述，排名前 $k$ 的描述里至少有一句说的是同一个数字的比例；文→图反过来。
# 随机排序时 recall@1 约为 0.10（10 个数字），recall@5 约为 $1-0.9^5\approx0.41$。
#
# *Captions only name the digit, so an image of 7 is rightly matched by every caption of 7: image→text recall@$k$ is
# the share of test images with a caption of their digit among the top $k$ of all test captions; text→image the other
# way. Chance: about 0.10 at $k=1$, about 0.41 at $k=5$.*

# %%
images_emb, texts_emb = crossmodal.embed(two, pairs.x_test)  # L2-normalised, row i = test pair i
pick = np.concatenate([np.flatnonzero(pairs.y_test == c)[:2] for c in range(10)])  # two pairs per digit
sim = images_emb[pick] @ texts_emb[pick].T
fig, ax = plt.subplots(figsize=(11, 9))
im = ax.imshow(sim, cmap="viridis", vmin=-1, vmax=1)
ax.set_xticks(range(len(pick)), [f'"{c}"' for c in pairs.x_test["caption"][pick]], rotation=60, ha="right",
              fontsize=9)
ax.set_yticks(range(len(pick)), [f"image of {d}" for d in pairs.y_test[pick]], fontsize=9)
ax.set_xlabel(bi("test caption", "测试描述")), ax.set_ylabel(bi("test image", "测试图像"))
ax.set_title(bi("cosine similarity of test images and captions, two pairs per digit", "图文余弦相似度"))
fig.colorbar(im, ax=ax, fraction=0.046, label="cosine similarity")
show_figure(fig, "similarity.png")
top1 = np.argmax(images_emb @ texts_emb.T, axis=1)  # each test image's closest test caption
missed = np.flatnonzero(pairs.y_test[top1] != pairs.y_test)
print(f"image -> text recall@1 misses {len(missed)} of {len(pairs.y_test)} test images · 图→文 recall@1 漏掉的图像:")
for j in missed:
    print(f"  test image {j} (a {pairs.y_test[j]}) -> \"{pairs.x_test['caption'][top1[j]]}\" (a caption of "
          f"{pairs.y_test[top1[j]]})")

queries = ["three", "a bold handwritten 8", "the number five written by hand", "sevn (7)", "zero"]
query_emb = two.get_layer("text_tower").predict(np.array(queries), verbose=0)[1]
query_emb /= np.linalg.norm(query_emb, axis=1, keepdims=True)
ranked = np.argsort(-(query_emb @ images_emb.T), axis=1)[:, :6]
fig, axes = plt.subplots(len(queries), 6, figsize=(9, 1.7 * len(queries)))
for row, (query, best) in enumerate(zip(queries, ranked)):
    for col, j in enumerate(best):
        ax = axes[row, col]
        ax.imshow(pairs.x_test["image"][j, :, :, 0], cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_title(f"#{col + 1} (a {pairs.y_test[j]})", fontsize=9)
    axes[row, 0].set_ylabel(f'"{query}"', fontsize=10, rotation=0, ha="right", va="center")
fig.suptitle(bi("text → image retrieval: the 6 test images closest to each free-text query", "以文搜图"))
show_figure(fig, "retrieval.png")

# %% [markdown]
# 读数（完整设置下的这次运行）：图→文 recall@1 约 0.989，文→图约 0.994，远高于随机的 0.10；两个方向的 recall@5 都约 0.997，融合分类头的准确率约 0.997，学到的温度约 0.05。
# 相似度矩阵上亮的是 2×2 的对角块：同一个数字的图和描述彼此相似，不同数字之间暗——两个塔确实学到了同一个空间。
# 也有例外：第二张 8 的图与两句说 "one" 的描述的相似度（约 0.8）比与两句说 8 的描述（约 0.5）还高，8 的对角块也是最暗的一块；不过在全部 360 句描述里，它最近的一句仍然说的是 8。
# 图→文 recall@1 真正漏掉的是打印出来的 4 张：一张 3 和一张 9 互相认错，一张 4 被认成 9，一张 2 被认成 1——都是在 8×8 的原始扫描上形状相近的数字。
# 以文搜图用的是训练集里没有的句子："three"、"zero"、"the number five written by hand" 返回的六张图全部正确；"sevn (7)" 里拼错的 "sevn" 不在词表里，模型靠括号里的 "7" 仍然全部找对。
# 但 "a bold handwritten 8" 的前六张里混进了两个 1 和一个 9：这句话四个词里有三个与数字无关，文本塔对词向量取平均，"8" 的信号被冲淡了。测试集上的高 recall 并不保证任意措辞都可靠。
#
# *Read from this full run: image→text recall@1 about 0.989, text→image about 0.994 (chance 0.10); recall@5 about
# 0.997 both ways; the fused classifier about 0.997; the learned temperature about 0.05. The similarity matrix shows
# bright 2×2 diagonal blocks: one space for both towers. Not everywhere: the second image of an 8 is closer to the two
# "one" captions (about 0.8) than to the two captions of 8 (about 0.5), and the 8 block is the dimmest; among all 360
# captions its nearest is still one of an 8, though. The 4 images image→text recall@1 does miss are printed: a 3 and a
# 9 taken for each other, a 4 for a 9, a 2 for a 1, digits whose 8×8 scans look alike. Free-text queries never seen in training: "three", "zero"
# and "the number five written by hand" return six right images; "sevn" is out of the vocabulary and the "7" in
# brackets still finds sevens. But "a bold handwritten 8" lets in two 1s and a 9: three of its four words say nothing
# about the digit, and the text tower averages its word vectors, diluting the "8". A high test recall does not make
# every phrasing reliable.*

# %% [markdown]
# ### 4.3 结构化知识迁移 · Structured knowledge

# %%
# example: 004 2
# pytorch

# %% [markdown]
# 这段代码在构造时就因为 `num_entities`、`num_relations` 未定义而 `NameError`。
# 更根本的问题是 `forward(entities, relations)` 只接收头实体和关系，从不看尾实体 $e_j$，所以它给不出一个三元组的分数；输出是一个嵌入向量而不是分数，而且只有一层 `Linear`，谈不上 MLP。
# 另外正文说 $\oplus$ 是相加，代码却是拼接（§3.3）。
#
# *`NameError` at construction (`num_entities`, `num_relations`). Deeper: `forward(entities, relations)` never sees
# the tail $e_j$, so it cannot score a triple; it returns an embedding, not a score, through one `Linear` (no MLP);
# and the text's ⊕ is addition while the code concatenates (§3.3).*
#
# 改正后的 Keras 代码：打分层同时接收头、关系、尾（或对所有实体打分）：
#
# *The corrected code: the scorer takes head, relation and tail (or scores every entity):*

# %%
# source: keras_arch.layers.triple_scorer:TripleScorer.call

# %%
# source: keras_arch.layers.er_mlp_scorer:ERMLPScorer._head, keras_arch.layers.er_mlp_scorer:ERMLPScorer.score_candidates

# %% [markdown]
# **数据 · The data.** 有 `../shared/data/kg/umls` 时用真实的 UMLS（统一医学语言系统的语义网络：135 个概念、46 种关系，5,216 / 652 / 661 个训练 / 验证 / 测试三元组）；没有时退回代码生成的家族图谱（父子、叔侄、表亲等关系由规则决定）。
#
# *Real UMLS (the Unified Medical Language System's semantic network: 135 concepts, 46 relations, 5,216 / 652 / 661
# train / valid / test triples) when `../shared/data/kg/umls` is present, else the generated family graph.*

# %%
from keras_arch.data import kg as kg_data
from keras_arch.shared import data_path
if os.path.isdir(data_path("kg", "umls")):
    graph = kg_data.read_graph_dir(data_path("kg", "umls"))
    GRAPH = "UMLS (../shared/data/kg/umls)"
else:
    graph = kg_data.family_graph()  # the embedded fallback: a user's clone has no ../shared
    GRAPH = "the generated family graph (UMLS not found)"
print(f"graph · 图谱: {GRAPH}: {graph.num_entities} entities, {graph.num_relations} relations; "
      f"{len(graph.train):,} train / {len(graph.valid):,} valid / {len(graph.test):,} test triples")
for hq, rq, tq in graph.train[np.random.default_rng(0).choice(len(graph.train), 8, replace=False)]:
    print(f"  ({graph.entities[hq]}, {graph.relations[rq]}, {graph.entities[tq]})")

# %% [markdown]
# **训练 · Training.** 每个训练三元组 $(h, r, t)$ 还加上它的逆 $(t, r^{-1}, h)$，这样预测头实体也变成预测尾实体。
# 1-N 训练：每个查询 $(h, r, ?)$ 对所有实体打分，目标是该查询所有正确尾实体上的均匀分布，损失是 softmax 交叉熵。
# 每 5 轮在验证集上算一次过滤后的 MRR，训练结束时恢复最好的权重。两种 $\oplus$ 用完全相同的设置各训练一次：
#
# *Each training triple also enters as its inverse $(t, r^{-1}, h)$, so predicting heads is predicting tails. 1-N
# training: each query $(h, r, ?)$ scores every entity against the uniform distribution over its true tails (softmax
# cross-entropy). Filtered validation MRR every 5 epochs, the best weights restored. Both readings of ⊕, trained
# alike:*

# %%
from keras_arch.data.kg_batches import one_to_n_dataset
from keras_arch.models.kg import kg_model
from keras_arch.training import ranking
from keras_arch.training.kg_scoring import BestValidationMRR, eval_batch_size, score_function
KG_EPOCHS = 15 if FAST else 40
known = graph.known_tails()  # {(h, r): every true tail in train, valid and test}: the filter
kg_models, kg_metrics = {}, {}
for combine in ("concat", "sum"):
    keras.utils.set_random_seed(0)
    model = kg_model(graph.num_entities, 2 * graph.num_relations, scorer="mlp", dim=100, hidden=100,
                     dropout=0.0, hidden_dropout=0.0, combine=combine)
    queries, steps = one_to_n_dataset(graph.with_inverses(graph.train), graph.num_entities, batch_size=128, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    best = BestValidationMRR(model, graph, known, every=5)
    start = time.perf_counter()
    model.fit(queries, epochs=KG_EPOCHS, steps_per_epoch=steps, callbacks=[best], verbose=0)
    seconds = time.perf_counter() - start
    kg_models[combine] = model
    kg_metrics[combine] = ranking.evaluate(score_function(model), graph.test, graph.num_relations, known,
                                           eval_batch_size(model))
    print(f"⊕ = {combine}: {model.count_params():,} parameters, {seconds:.0f} s; validation MRR by epoch "
          + ", ".join(f"{e}: {v:.3f}" for e, v in best.history) + f" (best epoch {best.best_epoch} restored)")

# %% [markdown]
# **排名指标 · The ranking metrics.** 对测试三元组 $(h, r, t)$，用查询 $(h, r, ?)$ 给所有实体打分，看真实尾实体 $t$ 排第几；头实体用逆关系 $(t, r^{-1}, ?)$ 同样处理。
# "过滤"是指排名时去掉其他同样正确的尾实体（它们排在前面不算错），并列的实体算一半：
#
# *Each test triple's tail is ranked among all entities for $(h, r, ?)$, its head for $(t, r^{-1}, ?)$. "Filtered":
# the other true tails are left out (scoring them higher is no mistake); ties count half:*
#
# $$\mathrm{rank} = 1 + \#\{e \notin \mathcal{T}_{h,r} : f(h,r,e) > f(h,r,t)\} + \tfrac12\,\#\{e \notin \mathcal{T}_{h,r},\ e\ne t : f(h,r,e) = f(h,r,t)\}$$
#
# $$\mathrm{MRR} = \frac1n\sum_{i=1}^{n}\frac{1}{\mathrm{rank}_i},\qquad \mathrm{Hits@}k = \frac1n\,\#\{i : \mathrm{rank}_i \le k\}$$
#
# $\mathcal{T}_{h,r}$ 是 $(h, r)$ 的其他已知正确尾实体。MRR 对排在第 1 名给 1 分、第 2 名 0.5 分、第 10 名 0.1 分，所以它主要由排在最前面的结果决定；Hits@10 只问真实答案是否进了前十。
# 下面用 NumPy 按定义逐个查询重新计算拼接模型的排名和指标，与库的结果比较：
#
# *$\mathcal{T}_{h,r}$: the other known tails of $(h, r)$. MRR gives 1 for rank 1, 0.5 for rank 2, 0.1 for rank 10:
# it is decided by the top of the list; Hits@10 only asks whether the answer made the top ten. NumPy recomputes the
# concatenating model's ranks and metrics query by query:*

# %%
# source: keras_arch.reference:filtered_rank, keras_arch.reference:mrr_hits

# %%
model = kg_models["concat"]
score = score_function(model)
both = ranking.ranks(score, graph.test, graph.num_relations, known, eval_batch_size(model))  # {"tail", "head"}
tail_scores = score(graph.test[:, 0], graph.test[:, 1])  # (test triples, entities)
numpy_tail = [filtered_rank(tail_scores[i], tq, known.get((int(hq), int(rq)), []))
              for i, (hq, rq, tq) in enumerate(graph.test)]
formula_check("rank = 1 + #{higher} + #{tied}/2 among entities not known true", both["tail"], numpy_tail)
all_ranks = np.concatenate([both["tail"], both["head"]])
mrr, hits = mrr_hits(all_ranks)
formula_check("MRR = (1/n) sum_i 1/rank_i", kg_metrics["concat"]["mrr"], mrr)
formula_check("Hits@k = (1/n) #{i: rank_i <= k}, k = 1, 3, 10",
              [kg_metrics["concat"][f"hits@{k}"] for k in (1, 3, 10)], hits)

print(f"\n{'⊕':8s} {'MRR':>6s} {'Hits@1':>7s} {'Hits@3':>7s} {'Hits@10':>8s} {'mean rank':>10s}   (test, filtered, both directions)")
for combine, m in kg_metrics.items():
    print(f"{combine:8s} {m['mrr']:>6.3f} {m['hits@1']:>7.3f} {m['hits@3']:>7.3f} {m['hits@10']:>8.3f} {m['mean_rank']:>10.2f}")
print(f"a random scorer: MRR about {np.mean([np.mean(1 / np.arange(1, graph.num_entities + 1))]):.3f}, "
      f"Hits@10 about {10 / graph.num_entities:.3f}")
ranks = {}
for combine, model in kg_models.items():
    r = ranking.ranks(score_function(model), graph.test, graph.num_relations, known, eval_batch_size(model))
    ranks[f"⊕ = {combine}"] = np.concatenate([r["tail"], r["head"]])
show(plots.rank_histograms(ranks, os.path.join(FIG, "kg_ranks.png"),
                           title=bi(f"{GRAPH.split(' (')[0]}: filtered rank of the true entity, test triples, both "
                                    "directions", "真实实体的过滤排名")))
for combine, model in kg_models.items():
    scorer = model.get_layer("scorer")
    hq, rq, tq = (tf.constant(graph.test[:200, c]) for c in range(3))
    print(f"⊕ = {combine:6s}: max |f(h, r, t) - f(t, r, h)| over 200 test triples = "
          f"{float(tf.reduce_max(tf.abs(scorer([hq, rq, tq]) - scorer([tq, rq, hq])))):.4f}")

# %% [markdown]
# 三条核对说明库里的过滤排名、MRR 和 Hits@k 与定义完全一致（差为 0）。
# 读数（UMLS，完整设置下的这次运行）：拼接版 MRR 约 0.893、Hits@1 约 0.814、平均排名约 1.57；加法版 MRR 约 0.824、Hits@1 约 0.713、平均排名约 1.93。两者的 Hits@10 都在 0.98 以上，随机打分的 MRR 只有约 0.04。
# 也就是说，两种模型几乎总能把正确答案排进前十，差别在最前面：拼接版更常把它排在第一（多出约 10 个百分点）。
# 原因就在最后两行：加法版对任何三元组都有 $f(h,r,t)=f(t,r,h)$（差为 0），而 UMLS 的关系大多有方向（如 "A location_of B" 与 "B location_of A" 不是一回事），加法版只能给两者同样的分数；拼接版没有这个限制。
# 训练记录也一致：加法版的验证 MRR 在第 15 轮左右就停在约 0.83，拼接版一直升到约 0.88。
# 直方图中两条曲线的大部分质量都在排名 1，加法版在排名 2 到 10 之间多出一截。
#
# *The three checks show the library's filtered ranks, MRR and Hits@k are the definitions (difference 0). On UMLS
# (this full run) concatenation reaches MRR about 0.893, Hits@1 about 0.814, mean rank about 1.57; the sum about
# 0.824, 0.713 and 1.93. Both put the answer in the top ten more than 98% of the time (a random scorer: MRR about
# 0.04); the difference is at rank 1, about 10 points of Hits@1. The last two lines say why: the sum scores every
# triple and its reverse identically, while most UMLS relations are directed ("A location_of B" is not "B
# location_of A"). The validation curves agree: the sum stalls near 0.83 from epoch 15, concatenation climbs to
# about 0.88. The histogram shows the sum's extra mass at ranks 2 to 10.*

# %% [markdown]
# ## 5.未来发展趋势与挑战 · Trends and challenges
#
# ### 5.1 模型规模和效率 · Scale and efficiency
#
# 文章列出的方向（更高效的算法、更好的硬件、压缩与裁剪）都对；笔记本 002 量化了其中的压缩与自适应计算。
# 本笔记本里也有一个具体的效率技巧：§3.3 的 1-N 打分把 $W_1$ 拆块，尾实体部分每个实体只算一次，而不是每个（查询，实体）对算一次。
#
# *Right directions; notebook 002 measures compression and adaptive compute. Here, §3.3's 1-N scoring is one concrete
# trick: the tail block of $W_1$ is computed once per entity, not once per (query, entity) pair.*
#
# ### 5.2 模型解释性和可解释性 · Interpretability
#
# §4.1 的注意力图是一种常用的解释工具，但要小心：它表示信息的流向，不一定等于模型做决定的原因；而且画图时必须取模型真正使用的权重——pre-norm 的块里注意力看到的是 LayerNorm 之后的输入，直接把嵌入喂给注意力层画出来的图是错的。
#
# *§4.1's map is a common tool with two cautions: it shows information flow, not necessarily the reason for a
# decision; and it must be the weights the model really uses (a pre-norm block attends over the normalised input).*
#
# ### 5.3 模型伦理和道德 · Ethics
#
# 这一节是原则性的讨论，没有代码可以核对。
#
# *Principles, no code to check.*

# %% [markdown]
# ## 6.附录常见问题与解答 · Appendix: FAQ
#
# "如何评估大型神经网络的性能"一问只提到准确率、召回率和 F1。不同的任务要用不同的指标：本笔记本的分类用准确率，检索用 recall@$k$，知识图谱补全用过滤后的 MRR 和 Hits@$k$——后两者如果不过滤其他正确答案，会系统性地低估模型。
#
# *Each task has its metric: accuracy for classification, recall@$k$ for retrieval, filtered MRR and Hits@$k$ for
# link prediction (unfiltered ranks systematically understate a model).*

# %% [markdown]
# ## 总结 · Conclusion (the article's)
#
# 文章的总结说它"提供了具体的代码示例"。这三段示例都无法运行；本笔记本给出的是能运行、并与公式逐项核对过的版本。
#
# *The article's conclusion says it "provided concrete code examples"; none of the three runs. This notebook's
# versions run and are checked against the formulas.*

# %% [markdown]
# ## 小结 · Summary
#
# - 自注意力的核心是分数矩阵 $QK^\top/\sqrt{d_k}$ 及其按行 softmax，不是"位置编码矩阵"；没有位置编码时，打乱输入只会打乱输出（已核对）。原文代码的 `Dropout(rate=...)`、`permute(0, 2, 1, 3, 4)`（在头与头之间做注意力）和缺失的 softmax 都已指出。
# - 训练好的 Transformer（测试准确率 1.000）的注意力集中在否定词（约 12 倍平均份额）和情感词（约 8.6 倍）上：有否定词时几乎所有位置都去读它。
# - 跨模态：融合公式（§3.2）用于分类，检索需要双塔共享空间；在真实手写数字和生成描述上，两个方向的 recall@1 约 0.99，但措辞冗长的自由查询仍会出错。
# - 知识图谱：$\oplus$ 读作相加时 $f(h,r,t)=f(t,r,h)$，在 UMLS 上 MRR 比拼接低约 0.07（0.824 对 0.893）；过滤排名、MRR、Hits@$k$ 与定义一致。
#
# *Self-attention's core is the score matrix, not a position-encoding matrix; the trained Transformer reads the
# negation (about 12 times its uniform share) and the sentiment word (about 8.6); cross-modal retrieval needs the
# two-tower space (recall@1 about 0.99 both ways, though a wordy free query still errs); reading ⊕ as a sum makes the
# scorer symmetric and costs about 0.07 MRR on UMLS; the ranking metrics are checked.*

# %% [markdown]
# ## 练习 · Exercises
#
# 1. 在 §3.1 的单元格里给输入加上位置编码（例如 `x + np.sin(np.arange(6))[:, None]`），再做一次置换核对：为什么现在不相等了？
#    *Add a position encoding to §3.1's input and redo the permutation check: why does it fail now?*
# 2. 在 §4.1 的注意力单元格里不取平均，把 4 个头分别画出来：第二张图里 "with" 那一列来自哪个头？再用 `python -m keras_arch.run transformer --data-dir ../shared/data/text/rt-polarity` 在真实影评上训练，比较注意力图。
#    *Draw §4.1's four heads separately: which one makes the "with" column? Then train on real reviews (rt-polarity) and compare.*
# 3. `python -m keras_arch.run crossmodal --data-dir ../shared/data/mnist`：在 MNIST 上训练双塔，recall@1 有什么变化？把 §4.2 的查询换成你自己的句子。
#    *The two towers on MNIST; try your own queries in §4.2.*
# 4. `python -m keras_arch.run kg --data-dir ../shared/data/kg/nations --combine sum` 和 `--combine concat`：Nations 的关系大多有方向（如"援助""出口到"），加法版比 UMLS 上损失更多还是更少？再试 `kg-distmult`（DistMult 本身也是对称的）。
#    *Nations with both readings; then `kg-distmult`, which is symmetric too.*
# 5. 在 §4.3 的核对单元格里，改为不过滤（把 `known` 换成空字典）重新计算 MRR，看看不过滤会把 MRR 低估多少。
#    *Recompute MRR unfiltered (an empty `known`) and see how much it understates.*
