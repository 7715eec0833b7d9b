import numpy as np
import pytest
import tensorflow as tf

from keras_arch.backend import keras
from keras_arch.layers.mixture_of_experts import MixtureOfExperts
from tests.helpers import run_layer_test
from keras_arch.reference import mixture_of_experts


def routed(layer, logits, valid=None):
    """Route tokens whose router logits are exactly ``logits``: identity tokens
    through a router kernel set to the logits."""
    count, n = logits.shape
    layer.build((None, count))
    layer.router.assign(logits.astype(np.float32))
    return {k: v.numpy() for k, v in layer.route(tf.eye(count), valid).items()}


def test_top_k_and_capacity_are_respected():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(12, 4)) * 3
    logits[:, 0] += 5  # most tokens want expert 0: capacity must cut
    for k in (1, 2):
        layer = MixtureOfExperts(num_experts=4, hidden_units=3, top_k=k, capacity_factor=1.0)
        r = routed(layer, logits)
        assert r["capacity"] == int(np.ceil(k * 12 / 4 * 1.0))
        d = r["dispatch"]  # (tokens, experts, capacity)
        assert d.sum(axis=(1, 2)).max() <= k  # a token goes to at most k experts
        assert d.sum(axis=(0, 2)).max() <= r["capacity"]  # an expert takes at most C tokens
        assert d.sum(axis=0).max() <= 1  # one token per slot
        top = np.argsort(-logits, axis=1)[:, :k]
        for t, e, c in zip(*np.nonzero(d)):
            assert e in top[t]  # only chosen experts
        # first come, first served: the first C tokens choosing expert 0 first are the ones kept
        first = np.flatnonzero(top[:, 0] == 0)
        kept = np.flatnonzero(d[:, 0].sum(1))
        assert set(first[:r["capacity"]]) <= set(kept)
        probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        gates = np.take_along_axis(probs, top, 1)
        gates = gates / gates.sum(1, keepdims=True) if k > 1 else gates
        np.testing.assert_allclose(r["gates"], gates, rtol=1e-5)


def test_aux_loss_on_a_hand_computed_case():
    # 4 tokens, 2 experts. probabilities: [.9,.1], [.8,.2], [.3,.7], [.6,.4]
    probs = np.array([[.9, .1], [.8, .2], [.3, .7], [.6, .4]])
    layer = MixtureOfExperts(num_experts=2, hidden_units=2, aux_loss_weight=0.01)
    r = routed(layer, np.log(probs))
    # f = (3/4, 1/4); P = (2.6/4, 1.4/4); loss = 0.01 * 2 * (0.75 * 0.65 + 0.25 * 0.35) = 0.0115
    assert r["aux_loss"] == pytest.approx(0.0115, rel=1e-5)


def test_aux_loss_is_alpha_for_uniform_routing_and_larger_otherwise():
    n = 4
    layer = MixtureOfExperts(num_experts=n, hidden_units=2, aux_loss_weight=0.05)
    uniform = routed(layer, np.eye(n) * 2.0)  # token i prefers expert i equally strongly: f = P = 1/N
    assert uniform["aux_loss"] == pytest.approx(0.05, rel=1e-5)
    skewed = routed(layer, np.tile([3.0, 0, 0, 0], (n, 1)))
    assert skewed["aux_loss"] > 0.05 * 1.5
    collapsed = routed(layer, np.tile([50.0, 0, 0, 0], (n, 1)))
    assert collapsed["aux_loss"] == pytest.approx(0.05 * n, rel=1e-4)  # the maximum, α·N


def test_dropped_tokens_pass_through_the_residual_unchanged():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 6, 8)).astype(np.float32)
    layer = MixtureOfExperts(num_experts=2, hidden_units=4, capacity_factor=0.5)
    layer.build(x.shape)
    layer.router.assign(np.tile([[5.0, -5.0]], (8, 1)) * np.sign(x.reshape(-1, 8).sum(0))[:, None])
    out = layer(x).numpy().reshape(-1, 8)
    weights = [v.numpy() for v in (layer.router, layer.w1, layer.b1, layer.w2, layer.b2)]
    ref = mixture_of_experts(x.reshape(-1, 8), None, *weights, top_k=1, capacity_factor=0.5, alpha=0.01)
    assert ref["capacity"] == 3  # ceil(12 / 2 * 0.5)
    dropped = ref["dropped"]
    assert dropped.sum() >= 3 and (~dropped).sum() >= 3  # capacity 3 of 12 tokens per expert
    np.testing.assert_array_equal(out[dropped], 0.0)
    assert np.abs(out[~dropped]).min(axis=1).max() > 0
    residual = (x.reshape(-1, 8) + out)[dropped]
    np.testing.assert_array_equal(residual, x.reshape(-1, 8)[dropped])


def moe_case(top_k, capacity_factor, seed=5):
    """14 tokens (2 x 7), the last 3 of the second example padding; expert 0
    favoured so that its capacity binds; one token ties experts 1 and 2."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, 7, 5)).astype(np.float32)
    x[1, 0] = 0.0  # all logits equal: a three-way tie, broken towards the lower index
    mask = np.array([[True] * 7, [True] * 4 + [False] * 3])
    layer = MixtureOfExperts(num_experts=3, hidden_units=4, top_k=top_k, capacity_factor=capacity_factor,
                             aux_loss_weight=0.05)
    layer.build(x.shape)
    for w in (layer.w1, layer.b1, layer.w2, layer.b2):
        w.assign(rng.normal(0, 0.5, w.shape).astype(np.float32))
    router = rng.normal(0, 1, (5, 3)).astype(np.float32)
    router[:, 0] = np.sign(x[0].sum(0)) * 1.5  # most tokens of example 0 prefer expert 0
    layer.router.assign(router)
    return layer, x, mask


@pytest.mark.parametrize("top_k, capacity_factor, capacity", [
    (1, 1.1, 5),  # ceil(1 * 11 / 3 * 1.1) = ceil(4.03): 4 if rounded, 6 if the 3 pads counted
    (2, 1.0, 8),  # ceil(2 * 11 / 3) = ceil(7.33): 7 if rounded, 10 if the pads counted
])
def test_layer_against_numpy_routing_with_padding(top_k, capacity_factor, capacity):
    """Output, capacity, kept/dropped choices, per-expert load, the load report
    and the balancing loss, all from routing written out token by token."""
    layer, x, mask = moe_case(top_k, capacity_factor)
    weights = [v.numpy() for v in (layer.router, layer.w1, layer.b1, layer.w2, layer.b2)]
    ref = mixture_of_experts(x.reshape(-1, 5), mask.reshape(-1), *weights, top_k=top_k,
                             capacity_factor=capacity_factor, alpha=0.05)
    assert ref["capacity"] == capacity
    assert ref["kept"].sum() < top_k * 11 and ref["load"].max() == capacity / 11  # the capacity binds
    assert ref["experts"][7, 0] == 0 and (top_k == 1 or ref["experts"][7, 1] == 1)  # the tie
    layer.reset_counts()
    out = layer(x, mask=tf.constant(mask), training=False).numpy().reshape(-1, 5)
    np.testing.assert_allclose(out, ref["output"], rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(out[~mask.reshape(-1)], 0.0)
    np.testing.assert_allclose(float(layer.losses[-1]), ref["aux_loss"], rtol=1e-5)
    counts = layer.counts()
    assert counts["tokens"] == 11
    np.testing.assert_allclose(counts["load"], ref["load"], rtol=1e-6)
    assert counts["dropped"] == pytest.approx(ref["dropped"].sum() / 11)
    r = {k: v.numpy() for k, v in layer.route(tf.reshape(x, (-1, 5)), tf.reshape(mask, [-1])).items()}
    assert int(r["capacity"]) == capacity
    np.testing.assert_array_equal(r["kept"].astype(bool) & mask.reshape(-1, 1), ref["kept"])
    np.testing.assert_array_equal(r["dropped"].astype(bool), ref["dropped"])
    np.testing.assert_allclose(r["load"], ref["load"], rtol=1e-6)
    np.testing.assert_allclose(r["gates"][mask.reshape(-1)], ref["gates"][mask.reshape(-1)], rtol=1e-5)


def test_aux_loss_ignores_padding_on_a_hand_computed_case():
    # The 4 tokens of test_aux_loss_on_a_hand_computed_case plus 2 pads that
    # would all pick expert 1: the loss stays 0.0115 (with the pads: 6 tokens,
    # f = (3/6, 3/6), P = (2.8/6, 3.2/6), 0.01 * 2 * 0.5 = 0.01).
    probs = np.array([[.9, .1], [.8, .2], [.3, .7], [.6, .4], [.1, .9], [.1, .9]])
    layer = MixtureOfExperts(num_experts=2, hidden_units=2, aux_loss_weight=0.01)
    r = routed(layer, np.log(probs), valid=tf.constant([True, True, True, True, False, False]))
    assert r["aux_loss"] == pytest.approx(0.0115, rel=1e-5)
    np.testing.assert_allclose(r["load"], [0.75, 0.25])  # capacity ceil(4 / 2 * 1.25) = 3: 3 and 1 routed
    # top-2: both experts for everyone; capacity ceil(2 * 4 / 2 * 1.25) = 5 each, nothing dropped
    layer = MixtureOfExperts(num_experts=2, hidden_units=2, top_k=2, aux_loss_weight=0.01)
    r = routed(layer, np.log(probs), valid=tf.constant([True, True, True, True, False, False]))
    assert r["capacity"] == 5 and r["aux_loss"] == pytest.approx(0.0115, rel=1e-5)
    np.testing.assert_allclose(r["load"], [1.0, 1.0])
    np.testing.assert_allclose(r["gates"][:4], -np.sort(-probs[:4], 1), rtol=1e-5)  # sum to 1 already


def test_padding_is_routed_nowhere():
    x = np.random.default_rng(3).normal(size=(1, 4, 6)).astype(np.float32)
    mask = tf.constant([[True, True, False, False]])
    layer = MixtureOfExperts(num_experts=2, hidden_units=3)
    full = layer(x, mask=mask).numpy()
    np.testing.assert_array_equal(full[0, 2:], 0.0)
    r = layer.route(tf.reshape(x, (-1, 6)), tf.reshape(mask, [-1]))
    assert r["capacity"].numpy() == int(np.ceil(2 / 2 * 1.25))
    np.testing.assert_allclose(r["load"].numpy().sum(), 1.0)


def test_router_stays_float32_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        layer = MixtureOfExperts(num_experts=2, hidden_units=4)
        out = layer(np.ones((2, 3, 4), np.float32))
        assert out.dtype == tf.float16 and layer.router.dtype == tf.float32
        assert layer.route(tf.ones((3, 4), tf.float16))["probabilities"].dtype == tf.float32
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_config_save_load_and_aux_loss_reaches_the_model(tmp_path):
    x = np.random.default_rng(4).normal(size=(2, 3, 4)).astype(np.float32)
    run_layer_test(MixtureOfExperts(num_experts=3, hidden_units=5, top_k=2), x, tmp_path)
    inp = keras.Input((3, 4))
    layer = MixtureOfExperts(num_experts=3, hidden_units=5)
    model = keras.Model(inp, layer(inp))
    model(x)
    weights = [v.numpy() for v in (layer.router, layer.w1, layer.b1, layer.w2, layer.b2)]
    expected = mixture_of_experts(x.reshape(-1, 4), None, *weights, top_k=1, capacity_factor=1.25,
                                  alpha=0.01)["aux_loss"]
    assert len(model.losses) == 1 and float(model.losses[0]) == pytest.approx(expected, rel=1e-5)
