"""``run distill`` (document 002 §3.1 and §4.1, 知识蒸馏): train the ``cnn``
teacher, then a student of at most a tenth of its parameters through
:class:`~keras_arch.optimize.distiller.Distiller` (T=2, alpha=0.5).
"""
from keras_arch.tasks.base import Fitted, for_arch
from keras_arch.tasks.classification import ClassificationTask

TEACHER = "cnn"
TEMPERATURE, ALPHA = 2.0, 0.5


class DistillTask(ClassificationTask):
    """Two phases: the teacher (the ``cnn`` arch's task and recipe, on the
    same data and seed), then the student under the distiller with the
    distill recipe. Evaluation, compression and export are the student's.

    Args:
        recipe: the arch's recipe (its builder is the student's).
        config: the run's :class:`keras_arch.config.RunConfig`.
        teacher: a trained teacher to distil from (its phase is skipped),
            e.g. one teacher for several student seeds in a benchmark.
    """
    no_resume = "two fits (teacher, then student) do not resume as one"
    no_full_batch = "the teacher and the student have their own batch sizes"

    def __init__(self, recipe, config, teacher=None):
        super().__init__(recipe, config)
        self.teacher = teacher

    def teacher_task(self):
        """The teacher's task: the ``cnn`` recipe's own settings, the run's data, seed and devices."""
        return for_arch(TEACHER, self.config.replace(
            epochs=None, batch_size=None, learning_rate=None, optimizer=None, lr_schedule=None,
            export=None, checkpoint_dir=None, plot=None, prune=None, qat=False, tflite=None, per_channel=False,
            compress_epochs=None, metrics_json=None))

    def fit(self, model, splits, settings, fit, start_epoch=0):
        from keras_arch.optimize.distiller import Distiller
        from keras_arch.training.seeding import seed_everything
        teacher_task = self.teacher_task()
        teacher_settings = teacher_task.settings(splits, settings.precision)
        teacher = self.teacher
        if teacher is None:
            seed_everything(settings.seed, deterministic=not settings.jit)
            teacher = teacher_task.build_model(splits, teacher_settings)
            teacher_task.fit(teacher, splits, teacher_settings, fit, phase="teacher")
        teacher_metrics = teacher_task.evaluate(Fitted(teacher, {}), splits, teacher_settings)

        seed_everything(settings.seed, deterministic=not settings.jit)
        distiller = Distiller(teacher, model, TEMPERATURE, ALPHA)
        train, val, steps = self.datasets(splits, settings)
        self.compile_model(distiller, settings, steps)
        history = fit(distiller, train, val, settings.epochs, steps, label="student")
        return Fitted(model, history, {"teacher": {"eval_accuracy": teacher_metrics["eval_accuracy"],
                                                   "parameters": int(teacher.count_params())}})

    def evaluate(self, fitted, splits, settings):
        fitted.model.compile(loss=self.recipe.loss, metrics=["accuracy"])
        out = super().evaluate(fitted, splits, settings)
        teacher = fitted.state["teacher"]
        out["teacher"] = dict(teacher)
        out["parameter_ratio"] = fitted.model.count_params() / teacher["parameters"]
        return out

    def summary_rows(self, m):
        return super().summary_rows(m) + [
            ("teacher accuracy", f"{m['teacher']['eval_accuracy']:.4f} ({m['teacher']['parameters']:,} parameters)")]

    def epochs_row(self, m):
        if "phases" not in m:  # a given teacher
            return m["epochs"]
        return f"teacher {m['phases'][0]['epochs']}, student {m['epochs']}"
