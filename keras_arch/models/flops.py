"""Analytical FLOPs of a forward pass per example: 2 x multiply-adds of the
Conv2D and Dense layers (nested models included); pooling, activations and
normalisation are ignored (under 2% for the models here)."""
import numpy as np

from keras_arch.backend import keras


def forward_flops(model):
    """FLOPs of one example through ``model`` (a built tf_keras Model or layer)."""
    total = 0
    for layer in getattr(model, "layers", [model]):
        if isinstance(layer, keras.Model):
            total += forward_flops(layer)
        elif isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output_shape
            k_h, k_w, c_in, _ = layer.kernel.shape
            total += 2 * h * w * k_h * k_w * c_in * c_out
        elif isinstance(layer, keras.layers.Dense):
            fan_in, units = layer.kernel.shape
            positions = int(np.prod(layer.output_shape[1:-1])) if len(layer.output_shape) > 2 else 1
            total += 2 * fan_in * units * positions
    return int(total)
