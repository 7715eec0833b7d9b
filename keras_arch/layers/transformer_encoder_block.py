"""Transformer encoder block (document 004 §4.1): self-attention and a
feed-forward network, each with residual connection, dropout and layer norm.

Two placements of the norms (``norm_first``):

- post-norm (Vaswani et al. 2017; the default here and in keras-hub):
  y = LN1(x + MHSA(x)), out = LN2(y + FFN(y));
- pre-norm (Xiong et al. 2020, "On Layer Normalization in the Transformer
  Architecture"; GPT-2, ViT): y = x + MHSA(LN1(x)), out = y + FFN(LN2(y)).
  Attention then sees unit-scale inputs from the first step. Under post-norm
  it sees the raw embeddings (Keras starts them in ±0.05), so its scores and
  their gradients start near zero: on the generated reviews a post-norm
  classifier sat on the sentiment-word-only plateau (0.56-0.59) for 250
  steps, pre-norm leaves it within 100-200 (docs/short-runs.md).

``feed_forward`` may be any layer mapping (batch, time, d_model) to the same
shape, e.g. a mixture of experts."""
from keras_arch.backend import keras
from keras_arch.layers.multi_head_self_attention import MultiHeadSelfAttention


@keras.utils.register_keras_serializable(package="keras_arch")
class TransformerEncoderBlock(keras.layers.Layer):
    """Args:
        num_heads: attention heads.
        key_dim: width of each head's queries, keys and values.
        ff_dim: hidden width of the dense feed-forward (ignored with ``feed_forward``).
        dropout: on the attention weights and on each sublayer's output.
        feed_forward: a layer replacing the dense feed-forward (a mixture of experts, say).
        norm_first: pre-norm (True) or post-norm (False, Vaswani et al.).
    """

    def __init__(self, num_heads, key_dim, ff_dim, dropout=0.1, feed_forward=None, norm_first=False, **kwargs):
        super().__init__(**kwargs)
        self.num_heads, self.key_dim, self.ff_dim, self.dropout = num_heads, key_dim, ff_dim, dropout
        self.norm_first = norm_first
        self.attention = MultiHeadSelfAttention(num_heads, key_dim, dropout, name="self_attention")
        self.custom_feed_forward = feed_forward
        self.norm1 = keras.layers.LayerNormalization(epsilon=1e-6, name="norm1")
        self.norm2 = keras.layers.LayerNormalization(epsilon=1e-6, name="norm2")
        self.drop1, self.drop2 = keras.layers.Dropout(dropout), keras.layers.Dropout(dropout)
        self.supports_masking = True

    def build(self, input_shape):
        d_model = int(input_shape[-1])
        self.feed_forward = self.custom_feed_forward or keras.Sequential(
            [keras.layers.Dense(self.ff_dim, activation="relu"), keras.layers.Dense(d_model)], name="feed_forward")
        super().build(input_shape)

    def call(self, x, mask=None, training=None):
        # A mixture of experts takes the mask: padding is routed nowhere.
        extra = {"mask": mask} if getattr(self.feed_forward, "_expects_mask_arg", False) else {}

        def attend(y):
            return self.drop1(self.attention(y, mask=mask, training=training), training=training)

        def feed(y):
            return self.drop2(self.feed_forward(y, training=training, **extra), training=training)

        if self.norm_first:
            x = x + attend(self.norm1(x))  # (batch, time, d_model)
            return x + feed(self.norm2(x))
        x = self.norm1(x + attend(x))  # (batch, time, d_model)
        return self.norm2(x + feed(x))

    def get_config(self):
        cfg = {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
               "ff_dim": self.ff_dim, "dropout": self.dropout, "norm_first": self.norm_first}
        if self.custom_feed_forward is not None:
            cfg["feed_forward"] = keras.layers.serialize(self.custom_feed_forward)
        return cfg

    @classmethod
    def from_config(cls, config):
        if "feed_forward" in config:
            config["feed_forward"] = keras.layers.deserialize(config["feed_forward"])
        return cls(**config)
