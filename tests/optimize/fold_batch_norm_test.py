import numpy as np

from keras_arch.backend import keras
from keras_arch.models.cnn import doc000_cnn
from keras_arch.optimize import qat
from keras_arch.optimize.fold_batch_norm import fold_batch_norm, foldable


def trained_like_bn_cnn():
    model = doc000_cnn(batch_norm=True)
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.gamma.shape[0]  # non-trivial statistics, as after training
            layer.set_weights([rng.uniform(0.5, 2, n), rng.normal(0, 0.5, n),
                               rng.normal(0, 0.5, n), rng.uniform(0.2, 3, n)])
    return model


def test_folded_model_computes_the_same_function():
    model = trained_like_bn_cnn()
    folded = fold_batch_norm(model)
    x = np.random.default_rng(1).random((4, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(folded(x), model(x, training=False), rtol=1e-5, atol=1e-6)
    names = [layer.name for layer in folded.layers]
    assert not any(isinstance(l, (keras.layers.BatchNormalization, keras.layers.ReLU)) for l in folded.layers)
    assert folded.get_layer("conv1").get_config()["activation"] == "relu" and "conv1_bn" not in names
    assert foldable(model) and not foldable(folded)


def test_folded_conv_kernels_get_fake_quantization():
    """A separate ReLU after a conv makes tfmot drop the conv's kernel quantizer
    (LayerReLUQuantize); folding ReLU into the conv keeps it."""
    def kernel_quantized(q, name):
        return any(w.name.startswith(f"quant_{name}/kernel_m") for w in q.get_layer(f"quant_{name}").weights)

    plain = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, name="c"),
                              keras.layers.ReLU(), keras.layers.Flatten(), keras.layers.Dense(2)])
    assert not kernel_quantized(qat.quantize(plain)[0], "c")  # the tfmot behaviour worked around
    folded_q, _ = qat.quantize(fold_batch_norm(trained_like_bn_cnn()))
    assert all(kernel_quantized(folded_q, n) for n in ("conv1", "conv2", "conv3"))


def test_folded_weights_equal_the_formula_with_conv_and_dense_biases():
    """W' = W s, b' = (b - mean) s + beta, s = gamma / sqrt(var + eps), for a
    conv and a dense layer that both have a bias (doc000_cnn's convs have
    none, which hides a misplaced bias term) and a BN with a large epsilon."""
    rng = np.random.default_rng(2)
    model = keras.Sequential([
        keras.Input((6, 5, 2)),
        keras.layers.Conv2D(3, 3, name="c", bias_initializer="random_normal"),
        keras.layers.BatchNormalization(epsilon=0.3, name="c_bn"),
        keras.layers.ReLU(max_value=6.0, name="relu6"),  # not a plain ReLU: stays a layer
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(4, name="d", bias_initializer="random_normal"),
        keras.layers.BatchNormalization(epsilon=0.05, name="d_bn"),
        keras.layers.ReLU(name="relu"),
    ])
    stats = {}
    for name, n in (("c_bn", 3), ("d_bn", 4)):
        stats[name] = [rng.uniform(0.5, 2, n), rng.normal(0, 0.5, n), rng.normal(0, 0.5, n), rng.uniform(0.2, 3, n)]
        model.get_layer(name).set_weights(stats[name])
    folded = fold_batch_norm(model)
    assert [l.name for l in folded.layers[1:]] == ["c", "relu6", "flat", "d"]
    assert folded.get_layer("c").get_config()["activation"] == "linear"
    assert folded.get_layer("d").get_config()["activation"] == "relu"
    for conv, bn, eps in (("c", "c_bn", 0.3), ("d", "d_bn", 0.05)):
        w, b = model.get_layer(conv).get_weights()
        gamma, beta, mean, var = stats[bn]
        s = gamma / np.sqrt(var + eps)
        got_w, got_b = folded.get_layer(conv).get_weights()
        np.testing.assert_allclose(got_w, w * s, rtol=1e-6)  # per output channel (last axis)
        np.testing.assert_allclose(got_b, (b - mean) * s + beta, rtol=1e-5, atol=1e-6)
    x = rng.normal(size=(3, 6, 5, 2)).astype(np.float32)
    np.testing.assert_allclose(folded(x), model(x, training=False), rtol=1e-5, atol=1e-5)


def test_a_conv_with_its_own_activation_is_not_folded():
    model = keras.Sequential([keras.Input((5, 5, 1)), keras.layers.Conv2D(2, 3, activation="relu"),
                              keras.layers.BatchNormalization(), keras.layers.Flatten()])
    assert not foldable(model)
    folded = fold_batch_norm(model)
    assert any(isinstance(l, keras.layers.BatchNormalization) for l in folded.layers)
