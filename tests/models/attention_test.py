import numpy as np

from keras_arch.backend import keras
from keras_arch.models import attention
from tests.helpers import run_model_test

IDS = np.array([[5, 9, 3, 7, 0, 0, 0], [4, 4, 8, 2, 6, 1, 3]], np.int32)


def test_doc000_attention_as_written_cannot_run():
    """Sequential + Attention: the layer needs a [query, value] list."""
    import pytest
    with pytest.raises(ValueError, match=r"must be called on a list of inputs"):
        model = keras.Sequential([keras.layers.Embedding(100, 8), keras.layers.LSTM(8), keras.layers.Attention()])
        model(IDS)


def test_attention_classifier_masks_padding_and_exposes_weights(tmp_path):
    model = attention.doc000_attention_classifier(vocab_size=100, num_classes=3)
    weights = attention.attention_weights_model(model)(IDS).numpy()  # (batch, 1, time)
    assert weights.shape == (2, 1, 7)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(weights[0, 0, 4:], 0.0, atol=1e-7)  # no weight on padding
    trimmed = model(IDS[:1, :4]).numpy()
    np.testing.assert_allclose(model(IDS[:1]).numpy(), trimmed, rtol=1e-5, atol=1e-6)  # padding changes nothing
    run_model_test(model, IDS, (2, 3), tmp_path)


def test_transformer_classifier_masks_padding(tmp_path):
    model = attention.transformer_classifier(vocab_size=100, num_classes=2, input_shape=(7,), dropout=0.0)
    np.testing.assert_allclose(model(IDS[:1]).numpy(), model(IDS[:1, :4]).numpy(), rtol=1e-5, atol=1e-6)
    run_model_test(model, IDS, (2, 2), tmp_path)
