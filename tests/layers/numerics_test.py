"""keras_arch.layers.numerics.softmax against NumPy, in every compute dtype."""
import numpy as np
import pytest
import tensorflow as tf

from keras_arch.layers import numerics


def _reference(scores, keep):
    z = np.where(keep, scores, -np.inf)
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("dtype, tolerance", [("float32", 1e-6), ("bfloat16", 1e-2), ("float16", 1e-3)])
def test_masked_softmax_in_float32_for_every_compute_dtype(dtype, tolerance):
    """-1e9 on padded keys overflows float16 (to -inf, and a NaN follows
    wherever a row has nothing else): the mask must be added in float32.
    Padding gets exactly zero weight, also in a row that is all but one pad."""
    scores = np.array([[3.0, 12.0, -2.0, 7.5], [0.5, 0.25, 9.0, 1.0]], np.float32)
    keep = np.array([[True, True, False, True], [False, False, True, False]])
    got = numerics.softmax(tf.cast(scores, dtype), keep)
    assert got.dtype == dtype
    got = tf.cast(got, tf.float32).numpy()
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, _reference(scores, keep), atol=tolerance)
    assert got[0, 2] == 0 and got[1, 0] == got[1, 1] == got[1, 3] == 0  # padding gets nothing


def test_result_dtype_can_differ_and_no_mask_is_a_plain_softmax():
    scores = np.array([[1.0, 2.0, 3.0]], np.float32)
    got = numerics.softmax(tf.constant(scores), dtype=tf.bfloat16)
    assert got.dtype == tf.bfloat16
    np.testing.assert_allclose(tf.cast(got, tf.float32).numpy(), _reference(scores, np.ones_like(scores, bool)),
                               atol=1e-2)
