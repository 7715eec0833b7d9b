"""Knowledge distillation (document 002 §3.3, 知识蒸馏, whose code is an empty
skeleton): a student learns from hard labels and from the teacher's
temperature-softened outputs.

    loss = alpha * CE(y, softmax(z_s)) + (1 - alpha) * T^2 * KL(softmax(z_t / T) || softmax(z_s / T))

T^2 keeps the soft term's gradients on the scale of the hard term's (Hinton
et al., 2015). Works with any teacher/student pair of builders: models ending
in a softmax are read as logits through their last Dense layer.
"""
import tensorflow as tf

from keras_arch.backend import keras


def logits_model(model):
    """A model returning pre-softmax logits, sharing ``model``'s weights."""
    last = model.layers[-1]
    if isinstance(last, keras.layers.Dense) and last.get_config()["activation"] == "softmax":
        features = keras.Model(model.inputs, last.input)
        return lambda x, training=False: tf.matmul(features(x, training=training), last.kernel) + last.bias
    if isinstance(last, keras.layers.Softmax):
        return keras.Model(model.inputs, last.input)
    return model  # already logits


class Distiller(keras.Model):
    def __init__(self, teacher, student, temperature=4.0, alpha=0.1, **kwargs):
        super().__init__(**kwargs)
        self.teacher, self.student = teacher, student
        self.temperature, self.alpha = float(temperature), float(alpha)
        self._teacher_logits, self._student_logits = logits_model(teacher), logits_model(student)
        self.hard_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.kl = keras.losses.KLDivergence()
        self.teacher.trainable = False

    def call(self, x, training=False):
        return self.student(x, training=training)

    def distillation_loss(self, y, teacher_logits, student_logits):
        t = self.temperature
        hard = self.hard_loss(y, student_logits)
        soft = self.kl(tf.nn.softmax(teacher_logits / t), tf.nn.softmax(student_logits / t)) * t * t
        return self.alpha * hard + (1.0 - self.alpha) * soft, hard, soft

    def train_step(self, data):
        x, y = data
        teacher_logits = self._teacher_logits(x, training=False)
        with tf.GradientTape() as tape:
            student_logits = self._student_logits(x, training=True)
            loss, hard, soft = self.distillation_loss(y, teacher_logits, student_logits)
        variables = self.student.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        self.compiled_metrics.update_state(y, tf.nn.softmax(student_logits))
        return {"loss": loss, "hard_loss": hard, "distill_loss": soft,
                **{m.name: m.result() for m in self.metrics}}

    def test_step(self, data):
        x, y = data
        probabilities = self.student(x, training=False)
        self.compiled_loss(y, probabilities)
        self.compiled_metrics.update_state(y, probabilities)
        return {m.name: m.result() for m in self.metrics}
