"""The fusion formula of document 004 §3.2:

    f(x_i, y_i) = Σ_j α_ij f_j(x_i) + Σ_k β_ik f_k(y_i)

f_j maps the j-th image feature (j = 1..N) and f_k the k-th text feature
(k = 1..M) into one shared space (a Dense each). The weights depend on the
example i, as their subscripts say: a score v·tanh(f) per mapped feature,
then one softmax over all N + M of them, so Σ_j α_ij + Σ_k β_ik = 1.
"""
import tensorflow as tf

from keras_arch.backend import keras
from keras_arch.layers import numerics


@keras.utils.register_keras_serializable(package="keras_arch")
class WeightedFusion(keras.layers.Layer):
    def __init__(self, units, num_image_features, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.num_image_features = num_image_features

    def build(self, input_shape):
        self.maps = [keras.layers.Dense(self.units, name=f"f_{i + 1}") for i in range(len(input_shape))]
        for dense, shape in zip(self.maps, input_shape):
            dense.build(shape)
        self.score = keras.layers.Dense(1, use_bias=False, name="v")
        self.score.build([None, self.units])
        super().build(input_shape)

    def weights_and_features(self, inputs):
        """(α and β as one (batch, N + M) matrix, mapped features (batch, N + M, units))."""
        mapped = tf.stack([dense(x) for dense, x in zip(self.maps, inputs)], axis=1)  # (batch, N + M, units)
        scores = tf.squeeze(self.score(tf.tanh(mapped)), -1)  # (batch, N + M)
        return numerics.softmax(scores, axis=-1), mapped  # softmax in float32

    def call(self, inputs):
        """inputs: N image features then M text features, each (batch, d_·)."""
        weights, mapped = self.weights_and_features(inputs)
        return tf.einsum("bn,bnu->bu", weights, mapped)  # (batch, units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "num_image_features": self.num_image_features}
