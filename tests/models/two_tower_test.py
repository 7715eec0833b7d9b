import numpy as np
import pytest

from keras_arch.data import captions
from keras_arch.models.two_tower import two_tower
from keras_arch.backend import keras


def test_document_code_fails_as_written():
    """Document 004 §4.2: cat of two 128-d projections (256 wide) into
    nn.Linear(128, 64): the matrix product has mismatched inner dimensions."""
    fused = np.zeros((4, 256))
    fc3 = np.zeros((128, 64))
    with pytest.raises(ValueError, match="mismatch"):
        np.matmul(fused, fc3)


def test_two_tower_shapes_config_and_save_load(tmp_path):
    vocabulary = ["the", "digit", "seven", "7", "one"]
    model = two_tower((28, 28, 1), vocabulary, caption_length=6, num_classes=10, embed_dim=8, fusion_units=8)
    rng = np.random.default_rng(0)
    x = {"image": rng.random((3, 28, 28, 1)).astype(np.float32),
         "caption": np.array(["the digit seven", "7", "one unknownword"])}
    out = model(x)
    assert out["similarity"].shape == (3, 3) and out["digit"].shape == (3, 10)
    np.testing.assert_allclose(out["digit"].numpy().sum(1), 1.0, rtol=1e-5)
    clone = keras.Model.from_config(model.get_config())  # config round trip
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone(x)["similarity"], out["similarity"], rtol=1e-5, atol=1e-6)
    for path in (tmp_path / "m.keras", tmp_path / "saved"):
        model.save(str(path))
        loaded = keras.models.load_model(str(path), compile=False)
        got = loaded(x)
        for key in ("similarity", "digit"):
            np.testing.assert_allclose(got[key], out[key], rtol=1e-5, atol=1e-6)


def test_captions_name_the_digit_and_are_reproducible():
    texts = captions.captions_for(np.arange(10).repeat(20), seed=1)
    assert (texts == captions.captions_for(np.arange(10).repeat(20), seed=1)).all()
    for label, text in zip(np.arange(10).repeat(20), texts):
        words = text.replace("(", "").replace(")", "").split()
        assert captions.NAMES[label] in words or str(label) in words or any(
            len(w) == len(captions.NAMES[label]) - 1 for w in words), text  # misspelt name
    assert len(set(texts)) > 100  # varied, not one caption per digit
