import pytest
import numpy as np

from keras_arch.data.images import load_digits
from keras_arch.data.splits import make_dataset
from keras_arch.models.cnn import doc001_cnn
from keras_arch.optimize import qat, tflite


@pytest.mark.slow  # trains, fine-tunes with QAT and converts twice (about 23 s); CI runs it
def test_float_tflite_equals_keras_and_int8_tracks_the_qat_model():
    splits = load_digits()
    model = doc001_cnn()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(make_dataset(splits.x_train, splits.y_train, 32), epochs=3, verbose=0)
    x = splits.x_test
    float_model = tflite.TFLiteModel(tflite.convert(model))
    np.testing.assert_allclose(float_model.predict(x), model.predict(x, verbose=0), atol=1e-5)

    quantized, _ = qat.quantize(model)
    quantized.compile("adam", "sparse_categorical_crossentropy")  # QAT learns the activation ranges
    quantized.fit(make_dataset(splits.x_train, splits.y_train, 32), epochs=1, verbose=0)
    content = tflite.convert(quantized, int8=True, representative=splits.x_train)
    int8 = tflite.TFLiteModel(content)
    assert int8.input["dtype"] == np.int8 and int8.output["dtype"] == np.int8
    agreement = np.mean(np.argmax(int8.predict(x), -1) == np.argmax(quantized.predict(x, verbose=0), -1))
    assert agreement >= 0.98
    assert len(content) <= 0.3 * len(tflite.convert(model))
    assert tflite.accuracy(content, [(x, splits.y_test)]) >= 0.9


@pytest.mark.slow  # two int8 conversions of a 2-layer BERT (about 30 s); CI runs it
def test_bert_keeps_layernorm_statistics_float_and_everything_else_int8():
    from keras_arch import registry
    from keras_arch.config import resolve_settings
    from keras_arch.tasks.base import for_arch
    task, recipe = for_arch("bert"), registry.get("bert")
    splits = task.load_data()
    model = registry.build("bert", **splits.model_args(), **recipe.small_builder_kwargs)
    settings = resolve_settings(task.config, recipe, splits.family)
    batches = task.tflite_dataset(splits.x_train[:8], splits.y_train[:8], settings, 1)
    samples = [x for x, _ in batches.as_numpy_iterator()]
    quantized, _ = qat.quantize(model)
    lengths = task.tflite_lengths(settings)
    full = tflite.convert(quantized, int8=True, representative=samples, batch_size=1, lengths=lengths)
    assert tflite.float_op_names(full) == []  # full integer: no op computes in float
    kept = tflite.convert(quantized, int8=True, representative=samples, batch_size=1, lengths=lengths,
                          float_ops=task.tflite_float_ops)
    # LayerNorm's variance (SQUARED_DIFFERENCE, its MEAN) and RSQRT run in float; the matmuls, softmax
    # and GELU stay int8, and so do the model's output and its file (about the same size).
    assert tflite.float_op_names(kept) == ["MEAN", "RSQRT", "SQUARED_DIFFERENCE"]
    runner = tflite.TFLiteModel(kept)
    assert runner.output["dtype"] == np.int8
    assert abs(len(kept) - len(full)) < 0.05 * len(full)
    keras_p = quantized.predict(samples[0], verbose=0)
    assert np.max(np.abs(runner(samples[0]) - keras_p)) < 0.1


def _lookup_tflite():
    """A float .tflite whose argmax at each of 5 positions is the id fed there
    (an Embedding holding the identity), and its ids."""
    from keras_arch.backend import keras
    ids = keras.Input((5,), dtype="int32", name="ids")
    table = keras.layers.Embedding(4, 4, embeddings_initializer="identity", name="table")
    model = keras.Model(ids, keras.layers.Softmax()(table(ids) * 10.0))
    x = np.array([[1, 2, 3, 0, 0], [3, 3, 1, 2, 0]], np.int32)
    return tflite.convert(model), x


def test_accuracy_counts_only_the_labels_a_task_scores():
    content, x = _lookup_tflite()
    y = x.copy()
    y[x == 0] = 3  # every padded position (id 0) wrongly labelled: hits are the 7 real positions
    real = lambda xb, yb: xb != 0  # noqa: E731
    assert tflite.accuracy(content, [(x, y)]) == 7 / 10
    assert tflite.accuracy(content, [(x, y)], scored=real) == 1.0
    assert tflite.accuracy(content, [(x[:1], y[:1]), (x[1:], y[1:])], scored=real) == 1.0  # pooled over batches
    y[1, 0] = 0  # one real position wrong: 6 of the 7 it counts
    assert tflite.accuracy(content, [(x, y)], scored=real) == 6 / 7


def test_a_graph_xnnpack_cannot_prepare_runs_on_the_built_in_kernels(monkeypatch):
    """XNNPACK cannot prepare some graphs (seq2seq's untrained int8 model); the runner
    falls back to LiteRT's own kernels, which compute the same result."""
    content, x = _lookup_tflite()
    expected = tflite.TFLiteModel(content)(x)
    assert np.array_equal(np.argmax(expected, -1), x)
    run = tflite.TFLiteModel._run

    def failing_xnnpack(self, feed):
        if self.kernels == "XNNPACK":
            raise RuntimeError("failed to create XNNPACK runtimeNode number 7 (TfLiteXNNPackDelegate) failed to prepare.")
        return run(self, feed)

    monkeypatch.setattr(tflite.TFLiteModel, "_run", failing_xnnpack)
    runner = tflite.TFLiteModel(content)
    np.testing.assert_allclose(runner(x), expected, atol=1e-6)
    assert runner.kernels == "built-in"

    def failing(self, feed):
        raise RuntimeError("tensor 3 has the wrong shape")

    monkeypatch.setattr(tflite.TFLiteModel, "_run", failing)
    with pytest.raises(RuntimeError, match="wrong shape"):  # any other failure is the caller's to see
        tflite.TFLiteModel(content)(x)


def test_a_failed_conversion_says_which_op_it_could_not_convert():
    """The converter child's last line is often the tail of an MLIR graph dump;
    the error names the ops instead (crossmodal's in-graph tokenizer)."""
    import tensorflow as tf
    from keras_arch.backend import keras
    text = keras.Input((), dtype="string", name="text")
    length = keras.layers.Lambda(lambda t: tf.cast(tf.strings.length(tf.strings.lower(t)), "float32"))(text)
    model = keras.Model(text, keras.layers.Dense(2)(keras.layers.Reshape((1,))(length)))
    with pytest.raises(tflite.ConversionError) as e:
        tflite.convert(model)
    assert "'tf.StringLower' op is neither a custom op nor a flex op" in str(e.value)
    assert "entry_function" not in str(e.value)
