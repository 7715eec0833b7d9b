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
  the layer passes it through unchanged;
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

    def route(self, tokens, valid=None):
        """Routing of ``tokens`` (tokens, d). Returns a dict of float32 tensors:
        probabilities (tokens, N), experts and gates (tokens, k), capacity (),
        dispatch and combine (tokens, N, C), dropped (tokens,), load (N,) =
        fraction of valid tokens each expert processed, aux_loss ()."""
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

        dispatch = tf.zeros([count, n, capacity])
        combine = tf.zeros([count, n, capacity])
        filled = tf.zeros([n])  # tokens already placed in each expert
        served = tf.zeros([count])
        for j in range(k):  # first choices claim slots before second choices
            choice = tf.one_hot(experts[:, j], n) * valid[:, None]  # (tokens, N)
            position = tf.reduce_sum((tf.cumsum(choice, axis=0, exclusive=True) + filled) * choice, axis=-1)
            keep = valid * tf.cast(position < tf.cast(capacity, tf.float32), tf.float32)  # (tokens,)
            slot = choice[:, :, None] * tf.one_hot(tf.cast(position, tf.int32), capacity)[:, None, :] * keep[:, None, None]
            dispatch += slot  # (tokens, N, C)
            combine += slot * gates[:, j, None, None]
            filled += tf.reduce_sum(choice, axis=0)
            served = tf.maximum(served, keep)

        first = tf.one_hot(experts[:, 0], n) * valid[:, None]
        f = tf.reduce_sum(first, axis=0) / total  # fraction of tokens whose first choice is i
        p = tf.reduce_sum(probabilities * valid[:, None], axis=0) / total  # mean router probability
        aux_loss = self.aux_loss_weight * n * tf.reduce_sum(f * p)
        return {"probabilities": probabilities, "experts": experts, "gates": gates, "capacity": capacity,
                "dispatch": dispatch, "combine": combine, "dropped": valid * (1.0 - served),
                "load": tf.reduce_sum(dispatch, axis=[0, 2]) / total, "aux_loss": aux_loss}

    def call(self, x, mask=None, training=None):
        d = x.shape[-1]
        out_units = self.output_units or d
        tokens = tf.reshape(x, [-1, d])  # (tokens, d): batch and time flattened
        valid = None if mask is None else tf.reshape(mask, [-1])
        r = self.route(tokens, valid)
        self.add_loss(r["aux_loss"])
        if not training:  # count what inference routes
            total = tf.reduce_sum(tf.reduce_sum(r["dispatch"], axis=2), axis=0)  # (N,)
            self.routed_tokens.assign_add(total)
            self.dropped_tokens.assign_add(tf.reduce_sum(r["dropped"]))
            self.seen_tokens.assign_add(tf.cast(tf.shape(tokens)[0], tf.float32) if valid is None
                                        else tf.reduce_sum(tf.cast(valid, tf.float32)))
        dispatch, combine = tf.cast(r["dispatch"], x.dtype), tf.cast(r["combine"], x.dtype)
        expert_in = tf.einsum("tnc,td->ncd", dispatch, tokens)  # (experts, capacity, d)
        hidden = self.activation(tf.einsum("ncd,ndh->nch", expert_in, self.w1) + self.b1[:, None, :])
        expert_out = tf.einsum("nch,nho->nco", hidden, self.w2) + self.b2[:, None, :]  # (experts, capacity, out)
        out = tf.einsum("tnc,nco->to", combine, expert_out)  # (tokens, out); dropped tokens: 0
        return tf.reshape(out, tf.concat([tf.shape(x)[:-1], [out_units]], axis=0))

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        return {**super().get_config(), "num_experts": self.num_experts, "hidden_units": self.hidden_units,
                "top_k": self.top_k, "capacity_factor": self.capacity_factor,
                "aux_loss_weight": self.aux_loss_weight, "output_units": self.output_units,
                "activation": keras.activations.serialize(self.activation)}
