"""tfmot's 8-bit schemes with one change: integer model inputs (token ids) get
no QuantizeLayer. tfmot puts one after every InputLayer, and its fake-quant op
only takes float, so any model with an Embedding input fails to quantize."""
import tensorflow as tf
import tensorflow_model_optimization as tfmot
from tensorflow_model_optimization.python.core.quantization.keras.default_8bit import (
    default_8bit_quantize_layout_transform as layout, default_8bit_transforms as t)
from tensorflow_model_optimization.python.core.quantization.keras.graph_transformations import (
    model_transformer)

qk = tfmot.quantization.keras


class FloatInputLayerQuantize(t.InputLayerQuantize):
    def replacement(self, match_layer):
        dtype = match_layer.layer["config"].get("dtype") or "float32"
        if not tf.as_dtype(dtype).is_floating:
            return match_layer  # ids are exact integers: nothing to quantize
        return super().replacement(match_layer)


class LayoutTransform(layout.Default8BitQuantizeLayoutTransform):
    """The default transforms, in tfmot 0.8.1's order, with FloatInputLayerQuantize."""

    def apply(self, model, layer_quantize_map):
        transforms = [
            FloatInputLayerQuantize(),
            t.SeparableConv1DQuantize(), t.SeparableConvQuantize(),
            t.Conv2DReshapeBatchNormReLUQuantize(), t.Conv2DReshapeBatchNormActivationQuantize(),
            t.Conv2DBatchNormReLUQuantize(), t.Conv2DBatchNormActivationQuantize(),
            t.Conv2DReshapeBatchNormQuantize(), t.Conv2DBatchNormQuantize(),
            t.ConcatTransform6Inputs(), t.ConcatTransform5Inputs(), t.ConcatTransform4Inputs(),
            t.ConcatTransform3Inputs(), t.ConcatTransform(),
            t.DenseBatchNormQuantize(), t.DenseBatchNormReLUQuantize(), t.DenseBatchNormActivationQuantize(),
            t.LayerReLUQuantize(), t.LayerReluActivationQuantize(),
        ]
        return model_transformer.ModelTransformer(
            model, transforms, set(layer_quantize_map.keys()), layer_quantize_map).transform()


class Default8BitScheme(qk.default_8bit.Default8BitQuantizeScheme):
    def get_layout_transformer(self):
        return LayoutTransform()


class PrunePreserveScheme(qk.collab_opts.Default8BitPrunePreserveQuantizeScheme):
    def get_layout_transformer(self):
        return LayoutTransform()
