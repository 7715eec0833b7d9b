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
# # 文档 004 · Document 004: 大型模型的新型神经网络结构 — 自注意力、跨模态、结构化知识
# (self-attention, cross-modal learning, structured knowledge). The formulas computed by Keras layers
# and in NumPy; the three PyTorch examples as written, then corrected in Keras.

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
# No code.

# %% [markdown]
# ## 2.核心概念与联系 · Core concepts
# ### 2.1 大型神经网络 · Large networks
# ### 2.2 模型结构的创新 · Structural innovation
# ### 2.3 新型神经网络结构 · New structures

# %% [markdown]
# ## 3.核心算法原理和具体操作步骤以及数学模型公式详细讲解 · Algorithms and formulas
# ### 3.1 自注意力机制（Self-Attention） · Self-attention
# $$\text{Attention}(Q,K,V) = \text{softmax}\left(\frac{QK^T}{\sqrt{d_k}}\right)V,\qquad
# \text{MultiHead}(X) = \text{Concat}(\text{head}_1,\dots,\text{head}_h)\,W^O,\quad
# \text{head}_i = \text{Attention}(XW_i^Q, XW_i^K, XW_i^V)$$
#
# keras_arch's `MultiHeadSelfAttention` against NumPy, random weights, three heads, padding masked:

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
# ### 3.2 跨模态学习 · Cross-modal learning
# $$f(x_i, y_i) = \sum_{j=1}^N \alpha_{ij} f_j(x_i) + \sum_{k=1}^M \beta_{ik} f_k(y_i)$$
# keras_arch's `WeightedFusion` (weights from a softmax over the mapped features, $\sum\alpha + \sum\beta = 1$)
# and the scaled cosine similarity $S_{ij} = \cos(\text{image}_i, \text{text}_j)/T$ of the two towers:

# %%
from keras_arch.layers.weighted_fusion import WeightedFusion
from keras_arch.layers.contrastive_similarity import ContrastiveSimilarity
from keras_arch.reference import randomize
rng = np.random.default_rng(0)
inputs = [rng.normal(size=(3, d)).astype(np.float32) for d in (4, 6, 5)]  # N = 2 image features, M = 1 text
layer = WeightedFusion(7, num_image_features=2)
layer(inputs)
randomize(layer, seed=1)
mapped = [x @ d.kernel.numpy() + d.bias.numpy() for d, x in zip(layer.maps, inputs)]  # f_j(x_i), f_k(y_i)
scores = np.stack([np.tanh(m) @ layer.score.kernel.numpy()[:, 0] for m in mapped], axis=1)
w = np.exp(scores) / np.exp(scores).sum(1, keepdims=True)  # alpha_i1, alpha_i2, beta_i1: sum 1 per example
print("alpha, beta per example:\n", w.round(3))
formula_check("f(x_i, y_i) = sum_j alpha_ij f_j(x_i) + sum_k beta_ik f_k(y_i)", layer(inputs),
              w[:, 0:1] * mapped[0] + w[:, 1:2] * mapped[1] + w[:, 2:3] * mapped[2])
a, b = rng.normal(size=(5, 8)).astype(np.float32), rng.normal(size=(5, 8)).astype(np.float32)
cos = (a / np.linalg.norm(a, axis=1, keepdims=True)) @ (b / np.linalg.norm(b, axis=1, keepdims=True)).T
formula_check("S_ij = cos(image_i, text_j) / T, T = 0.5", ContrastiveSimilarity(initial_temperature=0.5)([a, b]), cos / 0.5)

# %% [markdown]
# The towers learn with the symmetric InfoNCE loss over a batch's similarity matrix $S$ (true pairs on
# the diagonal):
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
# $$f(e_i, r, e_j) = \text{MLP}\big(E(e_i) \oplus E(e_j) \oplus E(r)\big)$$
# The text says ⊕ is addition, the code concatenates: `ERMLPScorer` does both (`combine="sum"|"concat"`),
# each against NumPy:

# %%
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
                  numpy_score(layer, h, r, t))

# %% [markdown]
# ## 4.具体代码实例和详细解释说明 · Code examples
# ### 4.1 自注意力机制（Self-Attention） · Self-attention

# %%
# example: 004 0
# pytorch

# %% [markdown]
# **The corrected Keras code**: the multi-head self-attention's `call`, the encoder block around it, and
# the classifier (`run transformer`):

# %%
# source: keras_arch.layers.multi_head_self_attention:MultiHeadSelfAttention.call

# %%
# source: keras_arch.layers.transformer_encoder_block:TransformerEncoderBlock.call

# %%
# source: keras_arch.models.attention:transformer_classifier

# %%
model, m = train("transformer", epochs=4 if FAST else None, quiet=True)  # 2 epochs stop on the plateau (README, Short runs)
print("test accuracy", m["test_accuracy"])
from keras_arch.data import text
for path in plots.transformer_attention(model, text.load(), FIG):
    show(path)

# %% [markdown]
# ### 4.2 跨模态学习 · Cross-modal learning

# %%
# example: 004 1
# pytorch

# %% [markdown]
# **The corrected Keras code**: two towers into one space, the similarity, the fusion head and the loss
# (`run crossmodal`):

# %%
# source: keras_arch.models.two_tower:two_tower

# %%
# source: keras_arch.layers.contrastive_similarity:ContrastiveSimilarity.call

# %%
# source: keras_arch.layers.weighted_fusion:WeightedFusion.weights_and_features, keras_arch.layers.weighted_fusion:WeightedFusion.call

# %%
# source: keras_arch.losses:symmetric_infonce

# %%
model, m = train("crossmodal", epochs=8 if FAST else None, quiet=True)
print({k: round(v, 4) for k, v in m.items() if "recall" in k or "fused" in k})
from keras_arch.data import captions
from keras_arch.tasks.crossmodal import similarity_pairs
for path in plots.similarity_matrix(*similarity_pairs(model, captions.load()), FIG):
    show(path)

# %% [markdown]
# ### 4.3 结构化知识迁移 · Structured knowledge

# %%
# example: 004 2
# pytorch

# %% [markdown]
# **The corrected Keras code**: the scorer sees the head, the relation and the tail (`run kg` scores
# the triples of a generated family tree; filtered MRR and Hits@k):

# %%
# source: keras_arch.layers.triple_scorer:TripleScorer.call

# %%
# source: keras_arch.layers.er_mlp_scorer:ERMLPScorer.query, keras_arch.layers.er_mlp_scorer:ERMLPScorer._head, keras_arch.layers.er_mlp_scorer:ERMLPScorer.score_entities, keras_arch.layers.er_mlp_scorer:ERMLPScorer.score_candidates

# %%
from keras_arch.data import kg as kg_data
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
show(plots.rank_histograms(ranks, os.path.join(FIG, "kg_ranks.png")))

# %% [markdown]
# ## 5.未来发展趋势与挑战 · Trends and challenges
# ### 5.1 模型规模和效率 · Scale and efficiency
# ### 5.2 模型解释性和可解释性 · Interpretability
# ### 5.3 模型伦理和道德 · Ethics
# No code.

# %% [markdown]
# ## 6.附录常见问题与解答 · Appendix: FAQ
# No code.

# %% [markdown]
# ## 总结 · Summary
# No code.
