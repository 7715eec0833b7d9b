import numpy as np

from keras_arch.layers.token_and_position_embedding import TokenAndPositionEmbedding
from tests.helpers import run_layer_test

# Shorter than max_length (an off-by-one position or a position read from the
# ids changes the sum); padding 0 at the end and once in the middle.
IDS = np.array([[3, 9, 4, 1, 0], [7, 0, 2, 0, 0]], np.int32)


def test_token_plus_position_embedding_and_mask(tmp_path):
    # Random positions: the default zero start would hide a dropped or misread position.
    layer = TokenAndPositionEmbedding(vocab_size=11, max_length=8, embed_dim=4,
                                      position_initializer="random_normal")
    out = run_layer_test(layer, IDS, tmp_path)
    tokens, positions = layer.token.embeddings.numpy(), layer.position.embeddings.numpy()
    assert tokens.shape == (11, 4) and positions.shape == (8, 4)
    assert np.abs(positions).min() > 0
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


def test_position_table_starts_at_zero_and_learns():
    """Default: positions start at zero (a bag of words at step 0) and still
    receive gradients (they are trained, not fixed)."""
    import tensorflow as tf
    layer = TokenAndPositionEmbedding(11, 8, 4)
    with tf.GradientTape() as tape:
        out = layer(IDS)
        loss = tf.reduce_sum(out * np.arange(1, 5, dtype=np.float32))
    np.testing.assert_array_equal(layer.position.embeddings.numpy(), 0)
    np.testing.assert_allclose(out.numpy(), layer.token.embeddings.numpy()[IDS])
    grad = tape.gradient(loss, layer.position.embeddings)
    assert layer.position.embeddings.trainable and np.abs(tf.convert_to_tensor(grad).numpy()[:5]).min() > 0
