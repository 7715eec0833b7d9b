import numpy as np
import pytest
import tensorflow as tf

from keras_arch.data.images import load_digits
from keras_arch.data.splits import make_dataset
from keras_arch.models.cnn import doc001_cnn, tiny_cnn
from keras_arch.optimize.distiller import Distiller, logits_model


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_logits_model_gives_the_pre_softmax_values():
    model = doc001_cnn()
    x = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(softmax(logits_model(model)(x).numpy()), model(x).numpy(), atol=1e-6)


def test_loss_equals_the_formula_in_numpy():
    d = Distiller(doc001_cnn(), tiny_cnn(), temperature=3.0, alpha=0.25)
    rng = np.random.default_rng(1)
    zt, zs = rng.normal(0, 2, (5, 10)).astype(np.float32), rng.normal(0, 2, (5, 10)).astype(np.float32)
    y = np.array([0, 3, 9, 2, 2])
    loss, hard, soft = [v.numpy() for v in d.distillation_loss(tf.constant(y), zt, zs)]
    ps = softmax(zs)
    hard_np = -np.mean(np.log(ps[np.arange(5), y]))
    pt_T, ps_T = softmax(zt / 3.0), softmax(zs / 3.0)
    kl_np = np.mean(np.sum(pt_T * np.log(pt_T / ps_T), -1)) * 9.0
    np.testing.assert_allclose(hard, hard_np, rtol=1e-5)
    np.testing.assert_allclose(soft, kl_np, rtol=1e-4)
    np.testing.assert_allclose(loss, 0.25 * hard_np + 0.75 * kl_np, rtol=1e-4)


def test_one_training_step_follows_the_loss_and_its_gradient():
    """One SGD step on one batch: the reported losses equal the formula on the
    logits before the step, and the student's output bias moves by -lr times
    the analytic gradient mean_i[alpha (p_s - onehot(y)) + (1 - alpha) T (p_s^T - p_t^T)]
    (d/dz of T^2 KL(p_t^T || softmax(z / T)) is T (p_s^T - p_t^T)). A loss
    without T^2, a gradient of the hard term only, or a teacher at the wrong
    temperature each moves the bias differently."""
    from keras_arch.backend import keras
    rng = np.random.default_rng(2)
    teacher, student = doc001_cnn((12, 12, 1), num_classes=5), tiny_cnn((12, 12, 1), num_classes=5)
    for w in teacher.weights + student.weights:
        w.assign(rng.normal(0, 0.3, w.shape).astype(np.float32))
    x = rng.random((6, 12, 12, 1)).astype(np.float32)
    y = np.array([0, 4, 2, 2, 1, 3])
    zt, zs = logits_model(teacher)(x).numpy(), logits_model(student)(x).numpy()
    T, alpha, lr = 3.0, 0.25, 0.5
    d = Distiller(teacher, student, temperature=T, alpha=alpha)
    d.compile(optimizer=keras.optimizers.SGD(lr))
    bias = student.get_layer("probabilities").bias.numpy().copy()
    teacher_before = [w.copy() for w in teacher.get_weights()]
    history = d.fit(x, y, batch_size=6, epochs=1, shuffle=False, verbose=0).history
    ps, pt_T, ps_T = softmax(zs), softmax(zt / T), softmax(zs / T)
    hard = -np.mean(np.log(ps[np.arange(6), y]))
    soft = T * T * np.mean(np.sum(pt_T * np.log(pt_T / ps_T), -1))
    assert history["hard_loss"][0] == pytest.approx(hard, rel=1e-4)
    assert history["distill_loss"][0] == pytest.approx(soft, rel=1e-4)
    assert history["loss"][0] == pytest.approx(alpha * hard + (1 - alpha) * soft, rel=1e-4)
    grad = np.mean(alpha * (ps - np.eye(5)[y]) + (1 - alpha) * T * (ps_T - pt_T), axis=0)
    np.testing.assert_allclose(student.get_layer("probabilities").bias.numpy(), bias - lr * grad,
                               rtol=1e-4, atol=1e-6)
    for a, b in zip(teacher_before, teacher.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_training_moves_only_the_student():
    splits = load_digits()
    teacher, student = doc001_cnn(), tiny_cnn()
    frozen = [w.copy() for w in teacher.get_weights()]
    start = [w.copy() for w in student.get_weights()]
    d = Distiller(teacher, student)
    d.compile(optimizer="adam", metrics=["accuracy"])
    history = d.fit(make_dataset(splits.x_train, splits.y_train, 64), epochs=2, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    for a, b in zip(frozen, teacher.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(start, student.get_weights()))


def test_student_has_at_most_a_tenth_of_the_cnn_teachers_parameters():
    from keras_arch import registry
    assert tiny_cnn().count_params() == 5_258
    assert registry.build("distill").count_params() * 10 <= registry.build("cnn").count_params()
