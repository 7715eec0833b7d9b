"""The image–text similarity matrix of document 004 §4.2, made trainable:

    S = exp(s) · norm(image) · norm(text)ᵀ,   norm(v) = v / ||v||

a (batch, batch) matrix of cosine similarities between every image and every
caption, scaled by a learned inverse temperature exp(s) (CLIP, Radford et al.
2021: s starts at log(1/0.07) and exp(s) is capped at 100). The document
instead multiplies one fused feature matrix by its own transpose, which
compares pairs with pairs, not images with captions.
"""
import math

import tensorflow as tf

from keras_arch.backend import keras


@keras.utils.register_keras_serializable(package="keras_arch")
class ContrastiveSimilarity(keras.layers.Layer):
    def __init__(self, initial_temperature=0.07, max_scale=100.0, **kwargs):
        super().__init__(**kwargs)
        self.initial_temperature = initial_temperature
        self.max_scale = max_scale

    def build(self, input_shape):
        self.log_scale = self.add_weight(
            name="log_scale", shape=(), initializer=keras.initializers.Constant(math.log(1 / self.initial_temperature)))
        super().build(input_shape)

    @property
    def scale(self):
        return tf.minimum(tf.exp(self.log_scale), self.max_scale)

    def call(self, inputs):
        """inputs: [image embeddings (batch, d), text embeddings (batch, d)] ->
        logits (batch images, batch captions)."""
        images, texts = (tf.math.l2_normalize(x, axis=-1) for x in inputs)
        return self.scale * tf.matmul(images, texts, transpose_b=True)

    def get_config(self):
        return {**super().get_config(), "initial_temperature": self.initial_temperature,
                "max_scale": self.max_scale}
