import numpy as np
import pytest
import tensorflow as tf

from keras_arch.layers.mixture_of_experts import MixtureOfExperts
from keras_arch.layers.transformer_encoder_block import TransformerEncoderBlock
from tests.helpers import run_layer_test
from keras_arch.reference import layer_norm, mhsa_weights, mixture_of_experts, multi_head_self_attention, randomize, relu

MASK = np.array([[True] * 5, [True, True, True, False, False]])


def numpy_block(block, x, mask, feed_forward, norm_first=False):
    """Post-norm encoder block (document 004 §4.1, Vaswani et al.):
    y = LN1(x + MHSA(x)), out = LN2(y + FFN(y)); pre-norm (Xiong et al.):
    y = x + MHSA(LN1(x)), out = y + FFN(LN2(y)). Dropout is off at inference."""
    ln1 = lambda v: layer_norm(v, block.norm1.gamma.numpy(), block.norm1.beta.numpy(), 1e-6)  # noqa: E731
    ln2 = lambda v: layer_norm(v, block.norm2.gamma.numpy(), block.norm2.beta.numpy(), 1e-6)  # noqa: E731
    attend = lambda v: multi_head_self_attention(v, *mhsa_weights(block.attention), mask=mask)[0]  # noqa: E731
    if norm_first:
        y = x + attend(ln1(x))
        return y + feed_forward(ln2(y))
    y = ln1(x + attend(x))
    return ln2(y + feed_forward(y))


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
def test_block_end_to_end_against_numpy_with_padding(norm_first):
    """Both residuals, both norms (random gamma and beta), the ReLU feed-forward
    and the mask: a dropped residual, a swapped norm, the other norm placement
    or a counted pad each changes the output."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 5, 7)).astype(np.float32)
    block = TransformerEncoderBlock(num_heads=3, key_dim=4, ff_dim=9, dropout=0.3, norm_first=norm_first)
    block(x)
    randomize(block, seed=1)
    out = block(x, mask=tf.constant(MASK), training=False).numpy()
    d1, d2 = block.feed_forward.layers
    assert d1.kernel.shape == (7, 9) and d2.kernel.shape == (9, 7)

    def ffn(y):  # W2 relu(W1 y + b1) + b2
        return relu(y @ d1.kernel.numpy() + d1.bias.numpy()) @ d2.kernel.numpy() + d2.bias.numpy()

    np.testing.assert_allclose(out, numpy_block(block, x, MASK, ffn, norm_first), rtol=1e-4, atol=1e-4)
    other = numpy_block(block, x, MASK, ffn, not norm_first)
    assert np.abs(other - out).max() > 1e-2  # the two placements differ on these weights
    no_mask = block(x, training=False).numpy()
    np.testing.assert_allclose(no_mask, numpy_block(block, x, None, ffn, norm_first), rtol=1e-4, atol=1e-4)
    assert np.abs(no_mask[1, :3] - out[1, :3]).max() > 1e-3  # the padding matters where it is masked


def test_mixture_of_experts_feed_forward_gets_the_mask():
    """A MoE feed-forward routes the block's padding nowhere: capacity and the
    load-balancing loss count the 8 real tokens, not all 10."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 5, 6)).astype(np.float32)
    moe = MixtureOfExperts(num_experts=3, hidden_units=4, top_k=2, capacity_factor=0.8, aux_loss_weight=0.1)
    block = TransformerEncoderBlock(num_heads=2, key_dim=3, ff_dim=4, dropout=0.0, feed_forward=moe)
    mask = np.array([[True] * 5, [True, True, True, False, False]])
    block(x)
    randomize(block, seed=3)
    out = block(x, mask=tf.constant(mask), training=False).numpy()
    weights = [v.numpy() for v in (moe.router, moe.w1, moe.b1, moe.w2, moe.b2)]
    refs = []

    def ffn(y):
        r = mixture_of_experts(y.reshape(-1, 6), mask.reshape(-1), *weights, top_k=2, capacity_factor=0.8,
                               alpha=0.1)
        refs.append(r)
        return r["output"].reshape(y.shape)

    expected = numpy_block(block, x, mask, ffn)
    assert refs[0]["capacity"] == 5  # ceil(2 * 8 / 3 * 0.8): 6 if the two pads were counted
    assert refs[0]["kept"][:, 1].sum() < 8  # capacity binds: a second choice is dropped
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(float(block.losses[-1]), refs[0]["aux_loss"], rtol=1e-4)


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
    out = run_layer_test(TransformerEncoderBlock(2, 4, 16, dropout=0.1, norm_first=True), x, tmp_path)
    assert out.shape == (2, 5, 8) and np.abs(np.mean(out, -1)).max() > 1e-3  # pre-norm: residual stream last
