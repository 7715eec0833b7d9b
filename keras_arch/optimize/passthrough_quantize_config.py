"""A QuantizeConfig that quantizes nothing: the layer stays float inside a
quantization-aware model. Used for the layers TFMOT's default 8-bit scheme
rejects (LSTM, Conv1D, attention, LayerNormalization, Embedding, ...)."""
import tensorflow_model_optimization as tfmot


class PassThroughQuantizeConfig(tfmot.quantization.keras.QuantizeConfig):
    def get_weights_and_quantizers(self, layer):
        return []

    def get_activations_and_quantizers(self, layer):
        return []

    def set_quantize_weights(self, layer, quantize_weights):
        pass

    def set_quantize_activations(self, layer, quantize_activations):
        pass

    def get_output_quantizers(self, layer):
        return []

    def get_config(self):
        return {}
