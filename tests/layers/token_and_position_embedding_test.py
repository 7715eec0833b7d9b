import numpy as np

from keras_arch.layers.token_and_position_embedding import TokenAndPositionEmbedding
from tests.helpers import run_layer_test

# Shorter than max_length (an off-by-one position or a position read from the
# ids changes the sum); padding 0 at the end and once in the middle.
IDS = np.array([[3, 9, 4, 1, 0], [7, 0, 2, 0, 0]], np.int32)


def test_token_plus_position_embedding_and_mask(tmp_path):
    layer = TokenAndPositionEmbedding(vocab_size=11, max_length=8, embed_dim=4)
    out = run_layer_test(layer, IDS, tmp_path)
    tokens, positions = layer.token.embeddings.numpy(), layer.position.embeddings.numpy()
    assert tokens.shape == (11, 4) and positions.shape == (8, 4)
    expected = np.zeros((2, 5, 4))
    for b in range(2):
        for t in range(5):
            expected[b, t] = tokens[IDS[b, t]] + positions[t]  # position t, counted from 0
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-7)
    mask = layer.compute_mask(IDS).numpy()
    np.testing.assert_array_equal(mask, [[True, True, True, True, False], [True, False, True, False, False]])


def test_mask_reaches_the_next_layer():
    from keras_arch.backend import keras
    ids = keras.Input((None,), dtype="int32")
    x = TokenAndPositionEmbedding(11, 8, 4)(ids)
    pooled = keras.layers.GlobalAveragePooling1D()(x)  # masked mean
    model = keras.Model(ids, [x, pooled])
    seq, mean = (t.numpy() for t in model(IDS))
    np.testing.assert_allclose(mean[1], (seq[1, 0] + seq[1, 2]) / 2, rtol=1e-5)
