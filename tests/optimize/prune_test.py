import numpy as np

from keras_arch.data.images import load_digits
from keras_arch.data.splits import make_dataset
from keras_arch.models.cnn import doc001_cnn
from keras_arch.optimize import prune


def test_pruning_reaches_target_sparsity_and_leaves_the_baseline_intact():
    splits = load_digits()
    model = doc001_cnn()
    before = [w.copy() for w in model.get_weights()]
    steps = 2 * -(-len(splits.x_train) // 64)
    pruned = prune.prunable_copy(model, 0.8, end_step=steps // 2)
    pruned.compile("adam", "sparse_categorical_crossentropy")
    pruned.fit(make_dataset(splits.x_train, splits.y_train, 64), epochs=2, verbose=0,
               callbacks=prune.callbacks())
    stripped = prune.strip(pruned)
    for w0, w1 in zip(before, model.get_weights()):  # prune_low_magnitude worked on a copy
        np.testing.assert_array_equal(w0, w1)
    per_layer = prune.layer_sparsity(stripped)
    assert set(per_layer) == {"conv1", "probabilities"}
    assert all(abs(s - 0.8) < 0.01 for s in per_layer.values())
    assert abs(prune.overall_sparsity(stripped) - 0.8) < 0.01
    assert prune.gzip_size(stripped) < 0.4 * prune.gzip_size(model)


def test_layer_sparsity_counts_zeros_exactly():
    model = doc001_cnn()
    kernel = model.get_layer("probabilities").kernel
    w = kernel.numpy()
    w.flat[: w.size // 4] = 0.0
    kernel.assign(w)
    assert prune.layer_sparsity(model)["probabilities"] == np.mean(w == 0) == (w.size // 4) / w.size


def test_plain_qat_after_pruning_loses_sparsity_and_pruning_preserving_qat_keeps_it():
    from keras_arch.optimize import qat
    from keras_arch.optimize.pipeline import quantized_sparsity
    splits = load_digits()
    data = make_dataset(splits.x_train, splits.y_train, 64)
    pruned = prune.prunable_copy(doc001_cnn(), 0.8, end_step=10)
    pruned.compile("adam", "sparse_categorical_crossentropy")
    pruned.fit(data, epochs=1, verbose=0, callbacks=prune.callbacks())
    stripped = prune.strip(pruned)
    result = {}
    for preserve in (False, True):
        quantized, _ = qat.quantize(stripped, preserve_sparsity=preserve)
        quantized.compile("adam", "sparse_categorical_crossentropy")
        quantized.fit(data, epochs=1, verbose=0)
        result[preserve] = quantized_sparsity(quantized)["probabilities"]
    assert result[True] >= 0.79
    assert result[False] < 0.5  # the zeros get gradient steps: measured 0.32 after one epoch


def test_a_masked_layer_norm_is_left_unwrapped_and_the_dense_after_it_is_pruned():
    """The transformer's final_norm receives the embedding's mask; tfmot's
    wrapper takes none and raised TypeError when it wrapped the LayerNorm."""
    from keras_arch.backend import keras
    ids = keras.Input((6,), dtype="int32")
    x = keras.layers.Embedding(20, 8, mask_zero=True, name="embedding")(ids)
    x = keras.layers.LayerNormalization(name="final_norm")(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    out = keras.layers.Dense(2, name="head")(x)
    pruned = prune.prunable_copy(keras.Model(ids, out), 0.5, end_step=2)
    wrapped = {layer.name for layer in pruned.layers if layer.name.startswith("prune_low_magnitude_")}
    assert wrapped == {"prune_low_magnitude_embedding", "prune_low_magnitude_head"}
    pruned.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.array([[1, 2, 3, 0, 0, 0], [4, 5, 0, 0, 0, 0]] * 4)
    pruned.fit(x, np.array([0, 1] * 4), epochs=3, batch_size=8, verbose=0, callbacks=prune.callbacks())
    assert prune.layer_sparsity(prune.strip(pruned))["head"] == 0.5
