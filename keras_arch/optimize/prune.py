"""Magnitude pruning with tfmot (document 002 §3.2, 模型剪枝).

prune_low_magnitude changes the weights of the model it wraps in place, so
:func:`prunable_copy` always works on a copy and the baseline stays intact.
"""
import gzip

import numpy as np
import tensorflow_model_optimization as tfmot

from keras_arch.backend import keras

sparsity = tfmot.sparsity.keras


def copy_model(model):
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def dense_layers(model):
    """Layers with weights that tfmot cannot prune (custom layers): they stay dense."""
    from tensorflow_model_optimization.python.core.sparsity.keras.prune_registry import PruneRegistry
    return [layer.name for layer in model.layers
            if layer.weights and (isinstance(layer, keras.Model) or not PruneRegistry.supports(layer))]


def _has_prunable_weights(layer):
    """Whether tfmot would prune any weight of ``layer``. Built-in layers with
    nothing to prune (LayerNormalization, pooling) are left unwrapped: the
    wrapper would add nothing, and its call() takes no Keras mask, so a masked
    LayerNormalization (the transformer's final_norm) raised TypeError."""
    from tensorflow_model_optimization.python.core.sparsity.keras.prune_registry import PruneRegistry
    if isinstance(layer, sparsity.PrunableLayer):
        return bool(layer.get_prunable_weights())
    if PruneRegistry._is_rnn_layer(layer) or PruneRegistry._is_mha_layer(layer):
        return True
    return bool(PruneRegistry._weight_names(layer))


def prunable_copy(model, target_sparsity, end_step, begin_step=0):
    """A copy of ``model`` whose prunable layers go from 0 to ``target_sparsity``
    along a PolynomialDecay schedule between begin_step and end_step; layers
    tfmot cannot prune (see :func:`dense_layers`) are left dense."""
    schedule = sparsity.PolynomialDecay(initial_sparsity=0.0, final_sparsity=target_sparsity,
                                        begin_step=begin_step, end_step=max(end_step, begin_step + 1),
                                        frequency=max(1, (end_step - begin_step) // 20))
    keep = set(dense_layers(model))

    def wrap(layer):  # tfmot's per-layer pattern, on a copy so the baseline keeps its weights
        if layer.weights and layer.name not in keep and _has_prunable_weights(layer):
            return sparsity.prune_low_magnitude(layer, pruning_schedule=schedule)
        return layer

    return keras.models.clone_model(copy_model(model), clone_function=wrap)


def callbacks(logdir=None):
    cbs = [sparsity.UpdatePruningStep()]
    if logdir:
        cbs.append(sparsity.PruningSummaries(log_dir=logdir))
    return cbs


def strip(model):
    return sparsity.strip_pruning(model)


def layer_sparsity(model):
    """{layer: fraction of zero weights} over the kernels pruning acts on,
    measured on a stripped model's actual weights."""
    out = {}
    for layer in model.layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is None and hasattr(layer, "depthwise_kernel"):
            kernel = layer.depthwise_kernel
        if kernel is not None:
            w = kernel.numpy()
            out[layer.name] = float(np.mean(w == 0))
    return out


def overall_sparsity(model, layers=None):
    """Zero fraction over the kernels of ``layers`` (default: every kernel), weighted by size."""
    zeros = total = 0
    for layer in model.layers:
        if (layers is None or layer.name in layers) and getattr(layer, "kernel", None) is not None:
            w = layer.kernel.numpy()
            zeros, total = zeros + int(np.sum(w == 0)), total + w.size
    return zeros / max(total, 1)


def gzip_size(model):
    """Bytes of the model's weights after gzip -9: what pruning saves on disk.
    Only the model's own weights count (an .h5 of a trained model would also
    carry the optimizer's slots)."""
    return bytes_gzip_size(b"".join(np.ascontiguousarray(w).tobytes() for w in model.get_weights()))


def bytes_gzip_size(data):
    return len(gzip.compress(data, 9))
