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
