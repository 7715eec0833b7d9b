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


def m_by_n(target):
    """(M, N) of an "M:N" pruning target, or None for a sparsity."""
    return tuple(int(v) for v in target.split(":")) if isinstance(target, str) else None


def structured_layers(model):
    """Layers tfmot prunes to an M:N pattern: Dense and Conv2D kernels."""
    return [layer.name for layer in model.layers if isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D))]


def prunable_copy(model, target, end_step, begin_step=0):
    """A copy of ``model`` whose prunable layers go from 0 to ``target``
    sparsity along a PolynomialDecay schedule between begin_step and
    end_step, or (``target`` "M:N", e.g. "2:4") to M zeros in every N
    consecutive weights along a Dense or Conv2D kernel's input axis, the
    pattern sparse tensor cores run (tfmot's ``sparsity_m_by_n``; other
    layers stay dense). Layers tfmot cannot prune (see :func:`dense_layers`)
    are left dense."""
    pattern = m_by_n(target)
    if pattern:
        schedule = sparsity.ConstantSparsity(pattern[0] / pattern[1], begin_step=begin_step,
                                             frequency=max(1, (end_step - begin_step) // 20))
        eligible = set(structured_layers(model))
    else:
        schedule = sparsity.PolynomialDecay(initial_sparsity=0.0, final_sparsity=target,
                                            begin_step=begin_step, end_step=max(end_step, begin_step + 1),
                                            frequency=max(1, (end_step - begin_step) // 20))
        eligible = {layer.name for layer in model.layers}
    keep = set(dense_layers(model))

    def wrap(layer):  # tfmot's per-layer pattern, on a copy so the baseline keeps its weights
        if layer.weights and layer.name not in keep and layer.name in eligible and _has_prunable_weights(layer):
            extra = {"sparsity_m_by_n": pattern} if pattern else {}
            return sparsity.prune_low_magnitude(layer, pruning_schedule=schedule, **extra)
        return layer

    return keras.models.clone_model(copy_model(model), clone_function=wrap)


def m_by_n_groups(kernel, m, n):
    """(groups with at least ``m`` zeros, groups) of ``n`` consecutive weights
    along a Dense (in, out) or Conv2D (h, w, in, out) kernel's input axis, per
    output: the layout tfmot's M:N pruning and TFLite use."""
    w = np.asarray(kernel)
    # rows of input weights: Dense (out, in); Conv2D (out x h x w, in), TFLite's layout
    rows = w.T if w.ndim == 2 else np.transpose(w, (3, 0, 1, 2)).reshape(-1, w.shape[2])
    pad = (-rows.shape[1]) % n
    groups = np.pad(rows, [(0, 0), (0, pad)], constant_values=0.0).reshape(-1, n)
    return int(np.sum((groups == 0).sum(1) >= m)), len(groups)


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
