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
