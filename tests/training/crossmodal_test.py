import json

import numpy as np
import pytest

from keras_arch.losses import symmetric_infonce
from keras_arch.tasks.crossmodal import retrieval
from tests.conftest import run_cli


def log_softmax(z, axis):
    z = z - z.max(axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis, keepdims=True))


def test_symmetric_infonce_against_numpy():
    logits = np.random.default_rng(0).normal(size=(5, 5)).astype(np.float32)
    got = symmetric_infonce(None, logits).numpy()
    i2t = -np.diag(log_softmax(logits, 1))  # image i must pick caption i among the row
    t2i = -np.diag(log_softmax(logits, 0))  # caption j must pick image j among the column
    np.testing.assert_allclose(got, (i2t + t2i) / 2, rtol=1e-5)


def test_infonce_through_the_learned_temperature_and_its_gradient():
    """L = mean_i [CE(row i of S, i) + CE(column i of S, i)] / 2 with S = exp(s) cos(image, text),
    and dL/ds = mean_i [Σ_j P_ij S_ij - S_ii + Σ_j Q_ji S_ji - S_ii] / 2 (P row-, Q
    column-softmax of S): the temperature really learns. Above the cap exp(s) = 100
    and the gradient is 0."""
    import math

    import tensorflow as tf
    from keras_arch.layers.contrastive_similarity import ContrastiveSimilarity
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(6, 5)).astype(np.float32), rng.normal(size=(6, 5)).astype(np.float32)
    a[1] = 3 * b[1]  # one confident pair
    layer = ContrastiveSimilarity()
    layer.build([(None, 5), (None, 5)])
    cos = np.array([[a[i] @ b[j] / np.linalg.norm(a[i]) / np.linalg.norm(b[j]) for j in range(6)] for i in range(6)])
    for scale, capped in ((4.0, False), (150.0, True)):
        layer.log_scale.assign(math.log(scale))
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(symmetric_infonce(None, layer([a, b])))
        grad = tape.gradient(loss, layer.log_scale)
        S = min(scale, 100.0) * cos
        row, col = log_softmax(S, 1), log_softmax(S, 0)
        expected = np.mean([-(row[i, i] + col[i, i]) / 2 for i in range(6)])
        assert float(loss) == pytest.approx(expected, rel=1e-5)
        P, Q = np.exp(row), np.exp(col)
        d = np.mean([((P[i] * S[i]).sum() - S[i, i] + (Q[:, i] * S[:, i]).sum() - S[i, i]) / 2 for i in range(6)])
        assert float(grad) == pytest.approx(0.0 if capped else d, rel=1e-4, abs=1e-7)
    assert abs(d) > 1e-3


def test_retrieval_counts_a_caption_of_the_same_digit_as_a_hit():
    labels = np.array([0, 0, 1, 2])
    sim = np.array([[0.1, 0.9, 0.0, 0.0],   # image 0 -> caption 1: also a zero, hit
                    [0.0, 0.0, 0.8, 0.1],   # image 1 -> caption 2 (a one): miss; caption 1 is 2nd
                    [0.0, 0.0, 0.9, 0.0],   # hit
                    [0.5, 0.0, 0.0, 0.4]])  # image 3 -> caption 0: miss; 2nd is caption 3
    r = retrieval(sim, labels, ks=(1, 2))
    assert r["image_to_text_recall@1"] == 0.5 and r["image_to_text_recall@2"] == 0.75
    # text -> image reads columns: caption 0 -> image 3 (miss), 1 -> 0 (hit), 2 -> 2 (hit), 3 -> 3 (hit)
    assert r["text_to_image_recall@1"] == 0.75


@pytest.mark.slow  # an end-to-end run of 15-70 s here (issue 18: the fast suite)
def test_run_crossmodal_offline_reaches_recall_09_both_ways(tmp_path):
    path = tmp_path / "m.json"
    out = run_cli("crossmodal", "--quiet", "--metrics-json", str(path), "--plot", str(tmp_path / "plots"),
                  "--export", str(tmp_path / "serving"))
    assert out.returncode == 0, out.stderr[-3000:]
    m = json.loads(path.read_text())
    assert m["test_image_to_text_recall@1"] >= 0.9 and m["test_text_to_image_recall@1"] >= 0.9, m
    assert m["test_fused_digit_accuracy"] >= 0.95
    assert (tmp_path / "plots" / "similarity.png").stat().st_size > 10_000
    import tensorflow as tf
    served = tf.saved_model.load(m["export_path"])
    assert {"embed_image", "embed_text", "serving_default"} <= set(served.signatures)
    e = served.signatures["embed_text"](caption=tf.constant(["seven", "7", "the digit one"]))["embedding"].numpy()
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, rtol=1e-5)
    assert e[0] @ e[1] > e[0] @ e[2]  # "seven" is nearer "7" than "the digit one"
