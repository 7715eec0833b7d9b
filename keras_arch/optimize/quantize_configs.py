"""Quantize configs for the layers TFMOT's default 8-bit registry leaves out
but LiteRT runs in int8 (tensorflow/model-optimization #942, #718): the
token, segment and position embeddings, LayerNormalization and the weightless
attention core of the BERT encoder.

- :class:`EmbeddingQuantizeConfig`: the table is fake-quantized per tensor,
  symmetric, 8 bits (what the converter stores: an int8 table that GATHER
  reads; its rows leave with the table's scale, so no output quantizer).
- :class:`OutputQuantizeConfig`: no weights to quantize in int8 (LayerNorm's
  gamma and beta become int8/int32 constants of the MUL and ADD it lowers
  to), only the output's range is learned, as TFMOT's own configs do for
  Add and pooling layers.

Each is what TFMOT's default registry would do for the layer if it listed
it: the same quantizers (:class:`LastValueQuantizer` for weights,
:class:`MovingAverageQuantizer` for activations) with the same settings.
"""
import tensorflow_model_optimization as tfmot

from keras_arch.backend import keras

quantizers = tfmot.quantization.keras.quantizers


def _weight_quantizer():
    return quantizers.LastValueQuantizer(num_bits=8, per_axis=False, symmetric=True, narrow_range=True)


def _activation_quantizer():
    return quantizers.MovingAverageQuantizer(num_bits=8, per_axis=False, symmetric=False, narrow_range=False)


@keras.utils.register_keras_serializable(package="keras_arch")
class EmbeddingQuantizeConfig(tfmot.quantization.keras.QuantizeConfig):
    """Fake-quantize an embedding table (Embedding, PositionEmbedding) to int8."""

    def get_weights_and_quantizers(self, layer):
        return [(layer.embeddings, _weight_quantizer())]

    def get_activations_and_quantizers(self, layer):
        return []

    def set_quantize_weights(self, layer, quantize_weights):
        layer.embeddings = quantize_weights[0]

    def set_quantize_activations(self, layer, quantize_activations):
        pass

    def get_output_quantizers(self, layer):
        return []

    def get_config(self):
        return {}


@keras.utils.register_keras_serializable(package="keras_arch")
class OutputQuantizeConfig(tfmot.quantization.keras.QuantizeConfig):
    """Learn the int8 range of a layer's output (LayerNormalization, the attention core)."""

    def get_weights_and_quantizers(self, layer):
        return []

    def get_activations_and_quantizers(self, layer):
        return []

    def set_quantize_weights(self, layer, quantize_weights):
        pass

    def set_quantize_activations(self, layer, quantize_activations):
        pass

    def get_output_quantizers(self, layer):
        return [_activation_quantizer()]

    def get_config(self):
        return {}
