"""Quantization-aware training (document 002 §3.2, which shows it with PyTorch
APIs that do not exist: torch.quantization.q_module, torch.nn.QLinear).

tfmot's default 8-bit registry leaves some layers out (Embedding,
LayerNormalization, LSTM, Conv1D, Attention, AdditiveAttention,
MultiHeadAttention, custom layers) and rejects BatchNormalization that follows
an activated convolution. Where LiteRT runs the layer in int8, keras_arch
gives it a real config (:data:`CONFIGS`, :mod:`keras_arch.optimize.quantize_configs`:
the embedding tables, LayerNorm, the BERT attention core); a weightless
slice such as BERT's [CLS] is left as it is (it keeps its input's
quantization). The rest is annotated with :class:`PassThroughQuantizeConfig`
and stays float; :func:`quantize` reports which, and why.
"""
import tensorflow_model_optimization as tfmot
from tensorflow_model_optimization.python.core.quantization.keras.default_8bit.default_8bit_quantize_configs import (
    NoOpQuantizeConfig)

from keras_arch.backend import keras
from keras_arch.layers.position_embedding import PositionEmbedding
from keras_arch.layers.scaled_dot_product_attention import ScaledDotProductAttention
from keras_arch.optimize import schemes
from keras_arch.optimize.passthrough_quantize_config import PassThroughQuantizeConfig
from keras_arch.optimize.quantize_configs import EmbeddingQuantizeConfig, OutputQuantizeConfig

qk = tfmot.quantization.keras
CUSTOM_OBJECTS = {"PassThroughQuantizeConfig": PassThroughQuantizeConfig, "NoOpQuantizeConfig": NoOpQuantizeConfig,
                  "EmbeddingQuantizeConfig": EmbeddingQuantizeConfig, "OutputQuantizeConfig": OutputQuantizeConfig}

# Layers outside TFMOT's default registry that LiteRT runs in int8, and their configs.
CONFIGS = ((keras.layers.Embedding, EmbeddingQuantizeConfig), (PositionEmbedding, EmbeddingQuantizeConfig),
           (keras.layers.LayerNormalization, OutputQuantizeConfig), (ScaledDotProductAttention, OutputQuantizeConfig))
def own_config(layer):
    """keras_arch's quantize config for ``layer`` (None: TFMOT's registry or pass-through)."""
    if type(layer).__name__ == "SlicingOpLambda":  # x[:, 0]: BERT's [CLS] keeps its input's quantization
        return NoOpQuantizeConfig()
    for cls, config in CONFIGS:
        if isinstance(layer, cls):
            return config()
    return None


def scope():
    """quantize_scope with this package's custom objects: load quantized models inside it."""
    return qk.quantize_scope(CUSTOM_OBJECTS)


def _activated_conv_feeds(layer):
    inbound = layer.inbound_nodes[0].inbound_layers if layer.inbound_nodes else []
    inbound = inbound if isinstance(inbound, list) else [inbound]
    return any(isinstance(i, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D))
               and i.get_config().get("activation") not in (None, "linear") for i in inbound)


def float_layers(model):
    """Names of the layers the default 8-bit scheme cannot quantize, with why."""
    registry = qk.default_8bit.Default8BitQuantizeRegistry()
    out = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.Model):
            out[layer.name] = f"{type(layer).__name__} is a nested model; tfmot annotates layers only"
        elif isinstance(layer, keras.layers.BatchNormalization):
            # Supported through the scheme's Conv -> BN (-> ReLU) folding
            # transforms, not the registry; it fails after an activated conv.
            if _activated_conv_feeds(layer):
                out[layer.name] = "BatchNormalization after an activated convolution"
        elif own_config(layer) is None and not registry.supports(layer):
            out[layer.name] = f"{type(layer).__name__} is not supported by the default 8-bit scheme"
    return out


def annotate(model):
    """Annotate every layer: default quantization where supported, pass-through elsewhere."""
    passthrough = float_layers(model)

    def clone(layer):
        if isinstance(layer, keras.Model):  # left as it is: float, unannotated
            return layer.__class__.from_config(layer.get_config())
        new = layer.__class__.from_config(layer.get_config())
        if layer.name in passthrough:
            return qk.quantize_annotate_layer(new, quantize_config=PassThroughQuantizeConfig())
        return qk.quantize_annotate_layer(new, quantize_config=own_config(layer))

    annotated = keras.models.clone_model(model, clone_function=clone)
    annotated.set_weights(model.get_weights())
    return annotated, passthrough


def quantize(model, preserve_sparsity=False, per_channel=False):
    """A quantization-aware copy of ``model`` and {layer: why it stays float}.

    ``preserve_sparsity`` uses tfmot's pruning-preserving scheme so that the
    zeros of a pruned model survive QAT fine-tuning (plain QAT refills them);
    that scheme always quantizes conv kernels per channel.
    ``per_channel=False`` (default) quantizes conv kernels per tensor: a
    per-channel scale and int64 zero point cost 12 bytes per output channel in
    the .tflite (3.8 KB, 4% of the int8 CNN) for little accuracy here.
    """
    annotated, passthrough = annotate(model)
    scheme = (schemes.PrunePreserveScheme() if preserve_sparsity
              else schemes.Default8BitScheme(disable_per_axis=not per_channel))
    with scope():
        quantized = qk.quantize_apply(annotated, scheme)
    return quantized, passthrough
