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


@pytest.mark.slow  # a fresh process or a whole export: runs in CI, not in the fast suite
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


def test_similarity_rows_are_images_and_columns_captions():
    """S[i, j] = exp(s) cos(image tower(image_i), text tower(caption_j)) on the model's own towers."""
    vocabulary = ["the", "digit", "seven", "7", "one"]
    model = two_tower((28, 28, 1), vocabulary, caption_length=6, num_classes=10, embed_dim=8, fusion_units=8)
    rng = np.random.default_rng(1)
    images = rng.random((3, 28, 28, 1)).astype(np.float32)
    texts = np.array(["the digit seven", "7", "one one"])
    model.get_layer("similarity").log_scale.assign(np.log(3.0))
    got = model({"image": images, "caption": texts})["similarity"].numpy()
    u = model.get_layer("image_tower")(images)[1].numpy()
    v = model.get_layer("text_tower")(texts)[1].numpy()
    u, v = u / np.linalg.norm(u, axis=1, keepdims=True), v / np.linalg.norm(v, axis=1, keepdims=True)
    np.testing.assert_allclose(got, 3.0 * u @ v.T, rtol=1e-5, atol=1e-6)
    assert np.abs(got - got.T).max() > 1e-4  # not symmetric: a swap of the towers shows


NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
# Every other word a caption may hold: the templates', the adjectives and the fillers.
PLAIN_WORDS = set("the digit a handwritten number this is an image of written by hand".split()) | set(
    "small bold thin slanted blurry neat large faint".split()) | set(
    "scan photo of ink sample picture black white".split())


def test_captions_name_the_digit_and_are_reproducible():
    """Every caption names its own digit, by word or numeral, and no other; a
    misspelt word is its digit's name with exactly one letter dropped, and only
    ever next to the numeral (the numeral still says it)."""
    labels = np.arange(10).repeat(100)
    texts = captions.captions_for(labels, seed=1)
    assert (texts == captions.captions_for(labels, seed=1)).all()
    assert list(captions.NAMES) == NUMBER_WORDS
    misspelt = 0
    for label, text in zip(labels, texts):
        words = text.replace("(", "").replace(")", "").split()
        name, numeral = NUMBER_WORDS[label], str(label)
        assert name in words or numeral in words, text
        one_letter_dropped = {name[:i] + name[i + 1:] for i in range(len(name))}
        for w in words:
            if w in PLAIN_WORDS or w in (name, numeral):
                continue
            assert w in one_letter_dropped and numeral in words, text  # misspelt name, numeral kept
            misspelt += 1
        others = [NUMBER_WORDS[m] for m in range(10) if m != label] + [str(m) for m in range(10) if m != label]
        assert not set(words) & set(others), text
    assert 3 <= misspelt <= 30, misspelt  # noise 0.2, 1 template in 12 with both cues: about 8 in 1000
    assert len(set(texts)) > 100  # varied, not one caption per digit
