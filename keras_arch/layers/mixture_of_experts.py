"""Mixture of experts: a network that adapts its structure to its input
(document 002 §3.4, whose adapt() is ``pass``).

Each token goes to the ``top_k`` of ``num_experts`` feed-forward experts chosen
by a router (Shazeer et al. 2017; Switch Transformer, Fedus et al. 2021):

- router: p = softmax(x W_r), computed in float32 even under mixed precision
  (Switch's "selective precision": bf16/fp16 routing is unstable);
- gates: the top-k probabilities (renormalised to sum to 1 when k > 1);
- capacity: each expert takes at most C = ceil(k · tokens / N · capacity_factor)
  tokens (k = 1: Switch's tokens/N × capacity factor); tokens past C are
  dropped by that expert, first choices served before second choices (GShard);
  a token every chosen expert dropped gets output 0, so the residual around
  the layer passes it through unchanged; dispatch is a scatter into
  (experts, capacity) slots and a gather back, linear in the token count;
- auxiliary load-balancing loss α · N · Σ_i f_i · P_i, f_i = fraction of tokens
  whose first choice is expert i, P_i = mean router probability of expert i;
  it equals α for perfectly uniform routing and grows to α · N when one
  expert takes everything. Added with ``add_loss``.

Padded tokens (Keras mask False) are routed nowhere and do not count.
"""
import tensorflow as tf

from keras_arch.backend import keras


@keras.utils.register_keras_serializable(package="keras_arch")
class MixtureOfExperts(keras.layers.Layer):
    def __init__(self, num_experts=4, hidden_units=128, top_k=1, capacity_factor=1.25, aux_loss_weight=0.01,
                 output_units=None, activation="relu", **kwargs):
        super().__init__(**kwargs)
        if not 1 <= top_k <= num_experts:
            raise ValueError(f"top_k must be in [1, num_experts={num_experts}], got {top_k}")
        self.num_experts, self.hidden_units, self.top_k = num_experts, hidden_units, top_k
        self.capacity_factor, self.aux_loss_weight = capacity_factor, aux_loss_weight
        self.output_units, self.activation = output_units, keras.activations.get(activation)
        self.supports_masking = True

    def build(self, input_shape):
        d, n, h = int(input_shape[-1]), self.num_experts, self.hidden_units
        out = self.output_units or d
        self.router = self.add_weight(name="router", shape=(d, n), initializer="glorot_uniform",
                                      dtype="float32", experimental_autocast=False)
        self.w1 = self.add_weight(name="w1", shape=(n, d, h), initializer="glorot_uniform")
        self.b1 = self.add_weight(name="b1", shape=(n, h), initializer="zeros")
        self.w2 = self.add_weight(name="w2", shape=(n, h, out), initializer="glorot_uniform")
        self.b2 = self.add_weight(name="b2", shape=(n, out), initializer="zeros")
        # Counters of what inference routed (reset_counts(), counts()): the load report.
        counter = dict(initializer="zeros", trainable=False, dtype="float32", experimental_autocast=False,
                       synchronization=tf.VariableSynchronization.ON_READ,
                       aggregation=tf.VariableAggregation.SUM)
        self.routed_tokens = self.add_weight(name="routed_tokens", shape=(n,), **counter)
        self.dropped_tokens = self.add_weight(name="dropped_tokens", shape=(), **counter)
        self.seen_tokens = self.add_weight(name="seen_tokens", shape=(), **counter)
        super().build(input_shape)

    def reset_counts(self):
        for v in (self.routed_tokens, self.dropped_tokens, self.seen_tokens):
            v.assign(tf.zeros_like(v))

    def counts(self):
        """{load: fraction of the counted tokens each expert processed (N,),
        dropped: fraction no expert processed, tokens: how many were counted}."""
        seen = max(float(self.seen_tokens.numpy()), 1.0)
        return {"load": self.routed_tokens.numpy() / seen, "dropped": float(self.dropped_tokens.numpy()) / seen,
                "tokens": int(self.seen_tokens.numpy())}

    def route(self, tokens, valid=None, dense=True):
        """Routing of ``tokens`` (tokens, d). Returns a dict of tensors:
        probabilities (tokens, N); experts, gates, positions and kept (tokens, k):
        the chosen experts, their gate values, the slot each choice got and
        whether it fitted; capacity (); dropped (tokens,); load (N,) = fraction
        of valid tokens each expert processed; aux_loss (). With ``dense``, also
        the one-hot dispatch and combine tensors (tokens, N, C) of the formula,
        which call() never builds (they are quadratic in the token count)."""
        n, k = self.num_experts, self.top_k
        count = tf.shape(tokens)[0]
        valid = tf.ones([count], tf.float32) if valid is None else tf.cast(valid, tf.float32)
        logits = tf.matmul(tf.cast(tokens, tf.float32), self.router)  # (tokens, N), float32
        probabilities = tf.nn.softmax(logits, axis=-1)
        gates, experts = tf.math.top_k(probabilities, k)  # (tokens, k)
        if k > 1:
            gates /= tf.reduce_sum(gates, axis=-1, keepdims=True)
        total = tf.maximum(tf.reduce_sum(valid), 1.0)
        capacity = tf.cast(tf.math.ceil(k * total / n * self.capacity_factor), tf.int32)

        filled = tf.zeros([n])  # tokens already placed in each expert
        positions, kept = [], []
        for j in range(k):  # first choices claim slots before second choices
            choice = tf.one_hot(experts[:, j], n) * valid[:, None]  # (tokens, N)
            position = tf.reduce_sum((tf.cumsum(choice, axis=0, exclusive=True) + filled) * choice, axis=-1)
            positions.append(tf.cast(position, tf.int32))
            kept.append(valid * tf.cast(position < tf.cast(capacity, tf.float32), tf.float32))  # (tokens,)
            filled += tf.reduce_sum(choice, axis=0)
        positions, kept = tf.stack(positions, axis=1), tf.stack(kept, axis=1)  # (tokens, k)

        first = tf.one_hot(experts[:, 0], n) * valid[:, None]
        f = tf.reduce_sum(first, axis=0) / total  # fraction of tokens whose first choice is i
        p = tf.reduce_sum(probabilities * valid[:, None], axis=0) / total  # mean router probability
        routed = tf.reduce_sum(tf.one_hot(experts, n) * kept[:, :, None], axis=[0, 1])  # (N,)
        out = {"probabilities": probabilities, "experts": experts, "gates": gates, "positions": positions,
               "kept": kept, "capacity": capacity, "dropped": valid * (1.0 - tf.reduce_max(kept, axis=1)),
               "load": routed / total, "routed": routed,
               "aux_loss": self.aux_loss_weight * n * tf.reduce_sum(f * p)}
        if dense:
            slot = (tf.one_hot(experts, n)[:, :, :, None] * tf.one_hot(positions, capacity)[:, :, None, :]
                    * kept[:, :, None, None])  # (tokens, k, N, C)
            out["dispatch"] = tf.reduce_sum(slot, axis=1)
            out["combine"] = tf.reduce_sum(slot * gates[:, :, None, None], axis=1)
        return out

    def call(self, x, mask=None, training=None):
        d = x.shape[-1]
        n = self.num_experts
        out_units = self.output_units or d
        tokens = tf.reshape(x, [-1, d])  # (tokens, d): batch and time flattened
        valid = None if mask is None else tf.reshape(mask, [-1])
        r = self.route(tokens, valid, dense=False)
        self.add_loss(r["aux_loss"])
        capacity = r["capacity"]
        # Gather/scatter dispatch, linear in the token count: slot = expert * C + position.
        slots = r["experts"] * capacity + tf.minimum(r["positions"], capacity - 1)  # (tokens, k)
        kept = r["kept"] > 0
        kept_slots = tf.boolean_mask(slots, kept)[:, None]  # (kept choices, 1)
        kept_tokens = tf.boolean_mask(tf.tile(tf.range(tf.shape(tokens)[0])[:, None], [1, self.top_k]), kept)
        expert_in = tf.scatter_nd(kept_slots, tf.gather(tokens, kept_tokens),
                                  tf.stack([n * capacity, d]))  # one token per slot; empty slots 0
        expert_in = tf.reshape(expert_in, [n, capacity, d])  # (experts, capacity, d)
        hidden = self.activation(tf.einsum("ncd,ndh->nch", expert_in, self.w1) + self.b1[:, None, :])
        expert_out = tf.einsum("nch,nho->nco", hidden, self.w2) + self.b2[:, None, :]  # (experts, capacity, out)
        gathered = tf.gather(tf.reshape(expert_out, [n * capacity, out_units]), slots)  # (tokens, k, out)
        weights = tf.cast(r["gates"] * r["kept"], x.dtype)[:, :, None]
        out = tf.reduce_sum(gathered * weights, axis=1)  # (tokens, out); dropped tokens: 0
        if not training:  # count what inference routes
            self.routed_tokens.assign_add(r["routed"])
            self.dropped_tokens.assign_add(tf.reduce_sum(r["dropped"]))
            self.seen_tokens.assign_add(tf.cast(tf.shape(tokens)[0], tf.float32) if valid is None
                                        else tf.reduce_sum(tf.cast(valid, tf.float32)))
        return tf.reshape(out, tf.concat([tf.shape(x)[:-1], [out_units]], axis=0))

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        return {**super().get_config(), "num_experts": self.num_experts, "hidden_units": self.hidden_units,
                "top_k": self.top_k, "capacity_factor": self.capacity_factor,
                "aux_loss_weight": self.aux_loss_weight, "output_units": self.output_units,
                "activation": keras.activations.serialize(self.activation)}
