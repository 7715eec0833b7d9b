import numpy as np
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
