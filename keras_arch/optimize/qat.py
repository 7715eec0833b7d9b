"""Quantization-aware training (document 002 §3.2, which shows it with PyTorch
APIs that do not exist: torch.quantization.q_module, torch.nn.QLinear).

tfmot's default 8-bit scheme rejects some layers outright (LSTM, Conv1D,
Attention, AdditiveAttention, MultiHeadAttention, LayerNormalization,
Embedding) and BatchNormalization that follows an activated convolution. Such
layers are annotated with :class:`PassThroughQuantizeConfig` and stay float;
:func:`quantize` reports which.
"""
import tensorflow_model_optimization as tfmot

from keras_arch.backend import keras
from keras_arch.optimize import schemes
from keras_arch.optimize.passthrough_quantize_config import PassThroughQuantizeConfig

qk = tfmot.quantization.keras
CUSTOM_OBJECTS = {"PassThroughQuantizeConfig": PassThroughQuantizeConfig}


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
        elif not registry.supports(layer):
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
        return qk.quantize_annotate_layer(new)

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
