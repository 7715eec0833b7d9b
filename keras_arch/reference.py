"""NumPy references for the formula-bearing layers, written from the formulas
in the documents and docstrings with their own loops: nothing here imports
keras_arch or TensorFlow. The tests compare the library with these on
asymmetric inputs (random weights and biases, non-square shapes, distinct
heads, padding) so that a dropped residual, a transposed matrix, a counted
pad, a missing factor or a wrong axis changes the answer; the notebooks show
them next to the formulas they compute."""
import math

import numpy as np


def softmax(z, axis=-1):
    e = np.exp(z - z.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def log_softmax(z, axis=-1):
    z = z - z.max(axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis, keepdims=True))


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def relu(z):
    return np.maximum(z, 0.0)


def randomize(layer_or_model, seed, scale=0.5):
    """Every weight (biases, norms and embeddings included) drawn at random,
    so no term of a formula hides behind a zero or a one."""
    rng = np.random.default_rng(seed)
    for w in layer_or_model.weights:
        if w.trainable:
            w.assign(rng.normal(0, scale, w.shape).astype(w.dtype.as_numpy_dtype))
    return layer_or_model


def layer_norm(x, gamma, beta, eps):
    """(x - mean) / sqrt(var + eps) * gamma + beta over the last axis."""
    out = np.empty_like(x, dtype=np.float64)
    for idx in np.ndindex(x.shape[:-1]):
        v = x[idx].astype(np.float64)
        mean = v.sum() / len(v)
        var = ((v - mean) ** 2).sum() / len(v)
        out[idx] = (v - mean) / math.sqrt(var + eps) * gamma + beta
    return out


def multi_head_self_attention(x, wq, bq, wk, bk, wv, bv, wo, bo, mask=None):
    """softmax(Q K^T / sqrt(d_k)) V per head, heads concatenated and projected.

    x (batch, time, d_model); wq, wk, wv (d_model, heads, d_k); bq, bk, bv
    (heads, d_k); wo (heads, d_k, d_model); bo (d_model,); mask (batch, time)
    with True for real tokens: a padded key gets no weight from any query.
    Returns the output (batch, time, d_model) and weights (batch, heads, q, k)."""
    batch, time, d_model = x.shape
    heads, d_k = wq.shape[1], wq.shape[2]
    out = np.zeros((batch, time, d_model))
    weights = np.zeros((batch, heads, time, time))
    for b in range(batch):
        for h in range(heads):
            q = x[b] @ wq[:, h, :] + bq[h]  # (queries, d_k)
            k = x[b] @ wk[:, h, :] + bk[h]  # (keys, d_k)
            v = x[b] @ wv[:, h, :] + bv[h]  # (keys, d_k)
            scores = np.zeros((time, time))
            for i in range(time):  # query i
                for j in range(time):  # key j
                    scores[i, j] = np.dot(q[i], k[j]) / math.sqrt(d_k)
            if mask is not None:
                scores[:, ~np.asarray(mask[b], bool)] = -np.inf
            a = softmax(scores, axis=1)  # each query's weights over the keys sum to 1
            weights[b, h] = a
            out[b] += (a @ v) @ wo[h]
        out[b] += bo
    return out, weights


def mhsa_weights(layer):
    """The 8 arrays of a MultiHeadSelfAttention layer, read by their names."""
    w = {v.name.split("/")[-2] + "/" + v.name.split("/")[-1].split(":")[0]: v.numpy() for v in layer.weights}
    return [w[n] for n in ("query/kernel", "query/bias", "key/kernel", "key/bias", "value/kernel", "value/bias",
                           "attention_output/kernel", "attention_output/bias")]


def lstm(x, kernel, recurrent, bias, mask=None, h0=None, c0=None):
    """The LSTM equations with Keras's gate order (i, f, c, o):

        i = σ(x W_i + h U_i + b_i)    f = σ(x W_f + h U_f + b_f)
        g = tanh(x W_c + h U_c + b_c) o = σ(x W_o + h U_o + b_o)
        c' = f c + i g                h' = o tanh(c')

    A masked step keeps (h, c) and repeats the previous output (Keras's
    default, zero_output_for_mask=False). Returns (outputs (batch, time,
    units), h_T, c_T)."""
    batch, time, _ = x.shape
    u = recurrent.shape[0]
    h = np.zeros((batch, u)) if h0 is None else np.array(h0, np.float64)
    c = np.zeros((batch, u)) if c0 is None else np.array(c0, np.float64)
    prev_out = np.zeros((batch, u))
    outs = np.zeros((batch, time, u))
    w = [kernel[:, n * u:(n + 1) * u] for n in range(4)]
    r = [recurrent[:, n * u:(n + 1) * u] for n in range(4)]
    b_ = [bias[n * u:(n + 1) * u] for n in range(4)]
    for t in range(time):
        xt = x[:, t]
        i = sigmoid(xt @ w[0] + h @ r[0] + b_[0])
        f = sigmoid(xt @ w[1] + h @ r[1] + b_[1])
        g = np.tanh(xt @ w[2] + h @ r[2] + b_[2])
        o = sigmoid(xt @ w[3] + h @ r[3] + b_[3])
        c_new = f * c + i * g
        h_new = o * np.tanh(c_new)
        if mask is None:
            h, c, prev_out = h_new, c_new, h_new
        else:
            m = np.asarray(mask[:, t], bool)[:, None]
            h, c = np.where(m, h_new, h), np.where(m, c_new, c)
            prev_out = np.where(m, h_new, prev_out)
        outs[:, t] = prev_out
    return outs, h, c


def bahdanau(query, keys, w_q, w_k, v, key_mask=None):
    """e(i, j) = v^T tanh(W_q q_i + W_k k_j), a = softmax_j e (padded keys
    excluded), c_i = Σ_j a(i, j) k_j. v: (units,). Returns (context, weights)."""
    batch, nq, _ = query.shape
    nk = keys.shape[1]
    e = np.zeros((batch, nq, nk))
    for b in range(batch):
        for i in range(nq):
            for j in range(nk):
                e[b, i, j] = v @ np.tanh(query[b, i] @ w_q + keys[b, j] @ w_k)
    if key_mask is not None:
        e = np.where(np.asarray(key_mask, bool)[:, None, :], e, -np.inf)
    a = softmax(e, axis=2)
    context = np.einsum("bij,bjd->bid", a, keys)
    return context, a


def mixture_of_experts(tokens, valid, router, w1, b1, w2, b2, top_k, capacity_factor, alpha):
    """Switch/GShard routing written out token by token (document 002 §3.4):

    p = softmax(x W_r); the top_k experts (ties: the lower index); gates = their
    p, renormalised to sum 1 when top_k > 1; capacity C = ceil(k · valid / N ·
    factor); every first choice, in token order, takes a slot if its expert has
    one left, then every second choice; output = Σ over kept choices of gate ·
    relu(x W1_e + b1_e) W2_e + b2_e (0 when nothing kept, and for padding);
    aux = α N Σ_i f_i P_i with f_i = share of valid tokens whose first choice
    is i and P_i = mean router probability over valid tokens."""
    tokens = np.asarray(tokens, np.float64)
    valid = np.ones(len(tokens), bool) if valid is None else np.asarray(valid, bool)
    n = router.shape[1]
    p = softmax(tokens @ router, axis=1)
    choices = np.argsort(-p, axis=1, kind="stable")[:, :top_k]
    gates = np.take_along_axis(p, choices, 1)
    if top_k > 1:
        gates = gates / gates.sum(1, keepdims=True)
    count = int(valid.sum())
    capacity = math.ceil(top_k * count / n * capacity_factor)
    taken = [0] * n
    kept = np.zeros((len(tokens), top_k), bool)
    for j in range(top_k):
        for t in range(len(tokens)):
            if valid[t] and taken[choices[t, j]] < capacity:
                taken[choices[t, j]] += 1
                kept[t, j] = True
    out = np.zeros((len(tokens), w2.shape[-1]))
    for t in range(len(tokens)):
        for j in range(top_k):
            if kept[t, j]:
                e = choices[t, j]
                out[t] += gates[t, j] * (relu(tokens[t] @ w1[e] + b1[e]) @ w2[e] + b2[e])
    f = np.array([np.sum(valid & (choices[:, 0] == i)) for i in range(n)]) / count
    mean_p = p[valid].sum(0) / count
    dropped = valid & ~kept.any(1)
    return {"output": out, "capacity": capacity, "experts": choices, "gates": gates, "kept": kept,
            "dropped": dropped, "load": np.array(taken) / count, "aux_loss": alpha * n * np.sum(f * mean_p),
            "probabilities": p}


def gelu(x):
    """BERT's exact GELU: x Phi(x) = x (1 + erf(x / sqrt 2)) / 2."""
    from scipy.special import erf
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def bert_encoder(tensors, input_ids, attention_mask, token_type_ids, num_heads, eps=1e-12):
    """The BERT encoder's last hidden state from Hugging Face-named weights in
    PyTorch's layout (a Linear's weight is (out, in): y = x W^T + b), one
    example and one head at a time:

        h_0 = LN(E_tok[x] + E_pos[t] + E_seg[s])
        a = LN(h + (concat_heads softmax(q k^T / sqrt(d_k) over real keys) v) W_o^T + b_o)
        h' = LN(a + GELU(a W_1^T + b_1) W_2^T + b_2)
    """
    t = {k: np.asarray(v, np.float64) for k, v in tensors.items()}
    batch, time = input_ids.shape
    layers = sorted({int(k.split(".")[2]) for k in t if k.startswith("encoder.layer.")})
    linear = lambda x, name: x @ t[name + ".weight"].T + t[name + ".bias"]  # noqa: E731
    norm = lambda x, name: layer_norm(x, t[name + ".weight"], t[name + ".bias"], eps)  # noqa: E731
    out = np.zeros((batch, time, t["embeddings.word_embeddings.weight"].shape[1]))
    for b in range(batch):
        h = (t["embeddings.word_embeddings.weight"][input_ids[b]] + t["embeddings.position_embeddings.weight"][:time]
             + t["embeddings.token_type_embeddings.weight"][token_type_ids[b]])
        h = norm(h, "embeddings.LayerNorm")
        real = np.flatnonzero(attention_mask[b])
        for i in layers:
            p = f"encoder.layer.{i}."
            q, k, v = (linear(h, p + f"attention.self.{n}") for n in ("query", "key", "value"))
            d_k = q.shape[1] // num_heads
            heads = []
            for head in range(num_heads):
                cols = slice(head * d_k, (head + 1) * d_k)
                scores = q[:, cols] @ k[real, cols].T / math.sqrt(d_k)  # (time, real keys): pads left out
                heads.append(softmax(scores, axis=1) @ v[real, cols])
            a = norm(h + linear(np.concatenate(heads, axis=1), p + "attention.output.dense"), p + "attention.output.LayerNorm")
            f = linear(gelu(linear(a, p + "intermediate.dense")), p + "output.dense")
            h = norm(a + f, p + "output.LayerNorm")
        out[b] = h
    return out


# --- document 002: data parallelism, compression, early exit ----------------------------------------------

def softmax_regression_gradients(x, y, w, b):
    """Gradients of the mean cross-entropy L = (1/n) Σ_i -log softmax(x_i W + b)[y_i]
    of a softmax regression over the n examples of ``x`` (n, d), written out:
    ∂L/∂W = (1/n) Σ_i x_iᵀ (p_i - onehot(y_i)), ∂L/∂b = (1/n) Σ_i (p_i - onehot(y_i)).
    What data-parallel training must reproduce from its replicas' shards
    (document 002 §3.2). Returns (dW (d, classes), db (classes,))."""
    x = np.asarray(x, np.float64)
    n = len(x)
    p = softmax(x @ np.asarray(w, np.float64) + np.asarray(b, np.float64), axis=1)
    dw, db = np.zeros(np.shape(w)), np.zeros(np.shape(b))
    for i in range(n):
        err = p[i].copy()
        err[int(y[i])] -= 1.0  # p_i - onehot(y_i)
        dw += np.outer(x[i], err) / n
        db += err / n
    return dw, db


def quantize_int8(x, scale, zero_point, qmin=-128, qmax=127):
    """Affine int8 quantization (document 002 §3.3, 量化): q = clip(round(x / s) + z, qmin, qmax),
    rounding halves away from zero as TFLite does. Weights are symmetric (z = 0, qmin = -127);
    activations use the whole [-128, 127] with a zero point z."""
    v = np.asarray(x, np.float64) / scale
    q = np.sign(v) * np.floor(np.abs(v) + 0.5) + zero_point
    return np.clip(q, qmin, qmax).astype(np.int64)


def affine_params(low, high, qmin=-128, qmax=127):
    """The scale and zero point that map the real range [low, high] (widened to hold 0)
    onto the integers [qmin, qmax]: s = (high - low) / (qmax - qmin), z = qmin - round(low / s),
    so that 0.0 is exactly representable (padding and ReLU zeros stay exact)."""
    low, high = min(float(low), 0.0), max(float(high), 0.0)
    scale = (high - low) / (qmax - qmin)
    return scale, int(qmin - np.round(low / scale))


def dequantize(q, scale, zero_point):
    """x ≈ s (q - z): what an int8 value stands for; within s/2 of the x it came from
    (inside the clipping range)."""
    return scale * (np.asarray(q, np.float64) - zero_point)


def magnitude_mask(w, sparsity):
    """Magnitude pruning (document 002 §3.3, 裁剪) as TF-MOT computes one mask:
    keep the k = max(round(n (1 - sparsity)), 1) weights of largest |w| (a weight
    tied with the k-th largest is kept too) and zero the rest. Returns a 0/1 array
    shaped like ``w``."""
    a = np.abs(np.asarray(w, np.float64)).ravel()
    k = max(int(np.round(a.size * (1.0 - sparsity))), 1)
    threshold = np.sort(a)[::-1][k - 1]  # the k-th largest magnitude
    return (np.abs(np.asarray(w, np.float64)) >= threshold).astype(np.float64)


def early_exit(probabilities, threshold, costs=None):
    """The early-exit rule (BranchyNet; document 002 §3.4, 自适应), example by
    example: leave at the first head i whose largest softmax probability is
    strictly above ``threshold``; the last head answers whatever is left.

    Args:
        probabilities: one (n, classes) array per head, in order.
        threshold: the confidence an early head must exceed.
        costs: optional FLOPs of (stage i + head i), per head: an example
            leaving at head i paid for stages and heads 1..i.

    Returns:
        (predictions (n,), exit index (n,) from 0, FLOPs per example (n,) or None).
    """
    heads, n = len(probabilities), len(probabilities[0])
    predictions, exits = np.zeros(n, np.int64), np.zeros(n, np.int64)
    flops = None if costs is None else np.zeros(n)
    for e in range(n):
        for i in range(heads):
            p = np.asarray(probabilities[i][e], np.float64)
            if i == heads - 1 or p.max() > threshold:
                predictions[e], exits[e] = int(np.argmax(p)), i
                if costs is not None:
                    flops[e] = sum(costs[:i + 1])
                break
    return predictions, exits, flops


# --- document 004: the knowledge-graph scorer and its ranking ---------------------------------------------

def er_mlp_score(entity_embeddings, relation_embeddings, w1, b1, w2, b2, h, r, t, combine="concat"):
    """f(e_i, r, e_j) = w2 · relu(W1 x + b1) + b2 (document 004 §3.3), triple by triple,
    with x = [E(h); E(t); E(r)] (combine="concat", the document's code) or
    x = E(h) + E(t) + E(r) (combine="sum", the document's text: ⊕ as addition).
    ``h``, ``r``, ``t`` are equal-length id arrays. Returns (n,) scores."""
    e, rel = np.asarray(entity_embeddings, np.float64), np.asarray(relation_embeddings, np.float64)
    out = np.zeros(len(h))
    for i in range(len(h)):
        if combine == "concat":
            x = np.concatenate([e[h[i]], e[t[i]], rel[r[i]]])
        else:
            x = e[h[i]] + e[t[i]] + rel[r[i]]
        out[i] = relu(x @ w1 + b1) @ w2 + b2
    return out


def filtered_rank(scores, target, other_true):
    """The filtered rank of entity ``target`` among ``scores`` (one query's
    score for every entity): the other entities known to be true for this
    query (``other_true``) are left out; 1 + the number scoring higher +
    half the number tied (a constant scorer gets the middle rank, not 1)."""
    skip = set(int(o) for o in other_true) - {int(target)}
    higher = ties = 0
    for j, s in enumerate(scores):
        if j == target or j in skip:
            continue
        higher += s > scores[target]
        ties += s == scores[target]
    return 1.0 + higher + ties / 2.0


def mrr_hits(ranks, ks=(1, 3, 10)):
    """MRR = (1/n) Σ 1/rank_i and Hits@k = (1/n) #{i: rank_i ≤ k}, from the ranks.
    Returns (mrr, [Hits@k for k in ks])."""
    ranks = np.asarray(ranks, np.float64)
    return float(np.mean(1.0 / ranks)), [float(np.mean(ranks <= k)) for k in ks]
