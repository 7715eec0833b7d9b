import numpy as np
import pytest

from keras_arch.backend import keras
from keras_arch.models import attention
import tensorflow as tf

from tests.helpers import run_model_test
from keras_arch.reference import layer_norm, lstm, mhsa_weights, multi_head_self_attention, randomize, relu, softmax

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


@pytest.mark.slow  # SavedModel tracing of the LSTM: about 10 s
def test_attention_classifier_round_trip(tmp_path):
    run_model_test(attention.doc000_attention_classifier(vocab_size=100, num_classes=3), IDS, (2, 3), tmp_path)


def test_transformer_classifier_masks_padding(tmp_path):
    model = attention.transformer_classifier(vocab_size=100, num_classes=2, input_shape=(7,), dropout=0.0)
    np.testing.assert_allclose(model(IDS[:1]).numpy(), model(IDS[:1, :4]).numpy(), rtol=1e-5, atol=1e-6)
    run_model_test(model, IDS, (2, 2), tmp_path)


def test_doc000_attention_classifier_against_numpy():
    """Masked LSTM over the embedded ids; its final state h_T (the last real
    step's) queries every real timestep by dot product; context -> Dense(64,
    relu) -> softmax."""
    model = randomize(attention.doc000_attention_classifier(vocab_size=100, num_classes=3, units=6), seed=7)
    emb = model.get_layer("embedding").get_weights()[0]
    mask = IDS != 0
    seq, h, _ = lstm(emb[IDS], *model.get_layer("lstm").get_weights(), mask=mask)
    w1, b1 = model.get_layer("dense").get_weights()
    w2, b2 = model.get_layer("probabilities").get_weights()
    expected, expected_a = [], []
    for b in range(len(IDS)):
        scores = np.array([h[b] @ seq[b, j] if mask[b, j] else -np.inf for j in range(IDS.shape[1])])
        a = softmax(scores)
        expected_a.append(a)
        expected.append(softmax(relu((a @ seq[b]) @ w1 + b1) @ w2 + b2))
    np.testing.assert_allclose(model(IDS).numpy(), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(attention.attention_weights_model(model)(IDS).numpy()[:, 0], expected_a,
                               rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("norm_first", [True, False], ids=["pre-norm (default)", "post-norm"])
def test_transformer_classifier_against_numpy(norm_first):
    """Token + position embedding, one encoder block with the mask (pre-norm
    with a final LayerNorm by default, or post-norm), mean over the real tokens
    only, softmax: the whole document 004 §4.1 model."""
    model = randomize(attention.transformer_classifier(vocab_size=100, num_classes=3, input_shape=(9,),
                                                       embed_dim=6, num_heads=2, ff_dim=5, norm_first=norm_first),
                      seed=8)
    emb = model.get_layer("embedding")
    x = emb.token.embeddings.numpy()[IDS] + emb.position.embeddings.numpy()[None, :IDS.shape[1]]
    mask = IDS != 0
    block = model.get_layer("encoder_0")
    d1, d2 = block.feed_forward.layers
    ln1 = lambda v: layer_norm(v, *block.norm1.get_weights(), 1e-6)  # noqa: E731
    ln2 = lambda v: layer_norm(v, *block.norm2.get_weights(), 1e-6)  # noqa: E731
    attend = lambda v: multi_head_self_attention(v, *mhsa_weights(block.attention), mask=mask)[0]  # noqa: E731
    ffn = lambda v: relu(v @ d1.kernel.numpy() + d1.bias.numpy()) @ d2.kernel.numpy() + d2.bias.numpy()  # noqa: E731
    if norm_first:
        y = x + attend(ln1(x))
        y = layer_norm(y + ffn(ln2(y)), *model.get_layer("final_norm").get_weights(), 1e-6)
    else:
        y = ln1(x + attend(x))
        y = ln2(y + ffn(y))
        assert "final_norm" not in [layer.name for layer in model.layers]
    pooled = np.stack([y[b, mask[b]].mean(0) for b in range(len(IDS))])
    w, b = model.get_layer("probabilities").get_weights()
    np.testing.assert_allclose(model(IDS, training=False).numpy(), softmax(pooled @ w + b), rtol=1e-4, atol=1e-5)
