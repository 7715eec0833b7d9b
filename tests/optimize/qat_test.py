import numpy as np
import pytest
import tensorflow_model_optimization as tfmot

from keras_arch.backend import keras
from keras_arch.models.cnn import doc000_cnn
from keras_arch.optimize import qat


def test_bn_cnn_quantizes_exactly_like_tfmot_quantize_model():
    model = doc000_cnn(batch_norm=True)
    ours, float_layers = qat.quantize(model, per_channel=True)
    reference = tfmot.quantization.keras.quantize_model(model)
    x = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    assert float_layers == {}
    np.testing.assert_allclose(ours(x), reference(x), atol=1e-6)


def test_unsupported_layers_stay_float_and_are_reported():
    inputs = keras.Input((12,), dtype="int32")
    x = keras.layers.Embedding(50, 8, name="embedding")(inputs)
    x = keras.layers.LSTM(4, return_sequences=True, name="lstm")(x)
    x = keras.layers.LayerNormalization(name="norm")(x)
    x = keras.layers.GlobalAveragePooling1D(name="pool")(x)
    model = keras.Model(inputs, keras.layers.Dense(2, name="out")(x))
    # The default scheme fails outright: a fake-quant op on the int32 ids, then the layers.
    with pytest.raises((RuntimeError, TypeError)):
        tfmot.quantization.keras.quantize_model(model)
    quantized, float_layers = qat.quantize(model)
    assert set(float_layers) == {"lstm"}  # the embedding table and LayerNorm's output: keras_arch's configs
    wrapped = {layer.layer.name: layer for layer in quantized.layers if hasattr(layer, "layer")}
    assert type(wrapped["embedding"].quantize_config).__name__ == "EmbeddingQuantizeConfig"
    assert type(wrapped["norm"].quantize_config).__name__ == "OutputQuantizeConfig"
    assert not any("quantize_layer" in layer.name for layer in quantized.layers)  # no fake-quant on ids
    x = np.random.default_rng(0).integers(0, 50, (2, 12))
    assert quantized(x).shape == (2, 2)


def test_bn_after_activated_conv_stays_float():
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(x)))
    with pytest.raises(RuntimeError, match="not supported"):
        tfmot.quantization.keras.quantize_model(model)
    _, float_layers = qat.quantize(model)
    assert float_layers == {"bn": "BatchNormalization after an activated convolution"}


def test_quantized_model_with_pass_through_layers_saves_and_loads(tmp_path):
    inputs = keras.Input((6,), dtype="int32")
    x = keras.layers.Embedding(20, 4, name="embedding")(inputs)
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, keras.layers.Dense(3)(x))
    quantized, _ = qat.quantize(model)
    x = np.arange(12).reshape(2, 6) % 20
    path = str(tmp_path / "q.h5")  # the format tfmot's guides use for QAT models
    quantized.save(path)
    with qat.scope():
        loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded(x), quantized(x), atol=1e-6)
