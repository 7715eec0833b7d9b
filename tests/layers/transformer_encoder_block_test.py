import numpy as np
import tensorflow as tf

from keras_arch.layers.transformer_encoder_block import TransformerEncoderBlock
from tests.helpers import run_layer_test


def test_padding_does_not_change_real_token_outputs():
    rng = np.random.default_rng(0)
    block = TransformerEncoderBlock(num_heads=2, key_dim=4, ff_dim=16, dropout=0.0)
    x = rng.normal(size=(1, 4, 8)).astype(np.float32)
    padded = np.concatenate([x, rng.normal(size=(1, 3, 8)).astype(np.float32)], 1)
    short = block(x)
    long = block(padded, mask=tf.constant([[True] * 4 + [False] * 3]))
    np.testing.assert_allclose(long[:, :4], short, rtol=1e-5, atol=1e-5)


def test_shapes_and_round_trip(tmp_path):
    x = np.random.default_rng(1).normal(size=(2, 5, 8)).astype(np.float32)
    out = run_layer_test(TransformerEncoderBlock(2, 4, 16, dropout=0.1), x, tmp_path)
    assert out.shape == (2, 5, 8)
    np.testing.assert_allclose(np.mean(out, -1), 0, atol=1e-5)  # layer norm last
