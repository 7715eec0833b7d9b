"""Transformer encoder block (document 004 §4.1): self-attention and a
feed-forward network, each with residual connection, dropout and layer norm
(post-norm, as in Vaswani et al.). ``feed_forward`` may be any layer mapping
(batch, time, d_model) to the same shape, e.g. a mixture of experts."""
from keras_arch.backend import keras
from keras_arch.layers.multi_head_self_attention import MultiHeadSelfAttention


@keras.utils.register_keras_serializable(package="keras_arch")
class TransformerEncoderBlock(keras.layers.Layer):
    def __init__(self, num_heads, key_dim, ff_dim, dropout=0.1, feed_forward=None, **kwargs):
        super().__init__(**kwargs)
        self.num_heads, self.key_dim, self.ff_dim, self.dropout = num_heads, key_dim, ff_dim, dropout
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
        attended = self.attention(x, mask=mask, training=training)
        x = self.norm1(x + self.drop1(attended, training=training))  # (batch, time, d_model)
        # A mixture of experts takes the mask: padding is routed nowhere.
        extra = {"mask": mask} if getattr(self.feed_forward, "_expects_mask_arg", False) else {}
        return self.norm2(x + self.drop2(self.feed_forward(x, training=training, **extra), training=training))

    def get_config(self):
        cfg = {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
               "ff_dim": self.ff_dim, "dropout": self.dropout}
        if self.custom_feed_forward is not None:
            cfg["feed_forward"] = keras.layers.serialize(self.custom_feed_forward)
        return cfg

    @classmethod
    def from_config(cls, config):
        if "feed_forward" in config:
            config["feed_forward"] = keras.layers.deserialize(config["feed_forward"])
        return cls(**config)
