"""``run distill`` (document 002 §3.3, 知识蒸馏): train the ``cnn`` teacher,
then a student of at most a tenth of its parameters through
:class:`~keras_arch.optimize.distiller.Distiller` (T=2, alpha=0.5).
"""
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
    """
    no_resume = "two fits (teacher, then student) do not resume as one"
    no_full_batch = "the teacher and the student have their own batch sizes"

    def __init__(self, recipe, config, teacher=None):
        """Args (beyond Task's):
            teacher: a trained teacher to distil from (its phase is skipped),
                e.g. one teacher for several student seeds in a benchmark.
        """
        super().__init__(recipe, config)
        self.teacher = teacher

    def teacher_task(self):
        """The teacher's task: the ``cnn`` recipe's own settings, the run's data, seed and devices."""
        from keras_arch.tasks.base import for_arch
        return for_arch(TEACHER, self.config.replace(
            epochs=None, batch_size=None, learning_rate=None, optimizer=None, lr_schedule=None,
            export=None, checkpoint_dir=None, plot=None, prune=None, qat=False, tflite=None))

    def fit(self, trainer, model, splits):
        from keras_arch.optimize.distiller import Distiller
        from keras_arch.training.trainer import seed_everything
        teacher_task = self.teacher_task()
        teacher_task.resolve(splits)
        teacher = self.teacher
        if teacher is None:
            seed_everything(self.settings.seed, deterministic=not self.config.jit)
            teacher = teacher_task.build_model(splits)
            teacher_task.fit(trainer, teacher, splits, phase="teacher")
        self.teacher_metrics = teacher_task.evaluate(teacher, splits)
        self.teacher_parameters = teacher.count_params()

        seed_everything(self.settings.seed, deterministic=not self.config.jit)
        student = model
        distiller = Distiller(teacher, student, TEMPERATURE, ALPHA)
        train, val, steps = self.datasets(splits)
        self.compile_model(distiller, steps)
        return trainer.fit(distiller, train, val, self.settings.epochs, steps, label="student")

    def evaluate(self, model, splits):
        model.compile(loss=self.recipe.loss, metrics=["accuracy"])
        out = super().evaluate(model, splits)
        out["teacher"] = {"eval_accuracy": self.teacher_metrics["eval_accuracy"],
                          "parameters": int(self.teacher_parameters)}
        out["parameter_ratio"] = model.count_params() / self.teacher_parameters
        return out

    def summary_rows(self, m):
        return super().summary_rows(m) + [
            ("teacher accuracy", f"{m['teacher']['eval_accuracy']:.4f} ({m['teacher']['parameters']:,} parameters)")]

    def epochs_row(self, m):
        if "phases" not in m:  # a given teacher
            return m["epochs"]
        return f"teacher {m['phases'][0]['epochs']}, student {m['epochs']}"
