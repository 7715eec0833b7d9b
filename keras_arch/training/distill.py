"""``run distill``: train the ``cnn`` teacher, then a student of at most a tenth
of its parameters through :class:`~keras_arch.optimize.distiller.Distiller`."""
import dataclasses
import time

from keras_arch import registry

TEACHER = "cnn"


def train_student(name, cfg, splits, teacher=None, temperature=2.0, alpha=0.5, seed=0, verbose=0):
    """Train the ``name`` arch's student with the distiller, or from scratch
    when ``teacher`` is None, under the same budget; returns (student, seconds)."""
    from keras_arch.data.splits import make_dataset
    from keras_arch.optimize.distiller import Distiller
    from keras_arch.training.trainer import seed_everything
    from keras_arch.training.schedules import compile_model
    seed_everything(seed, deterministic=not cfg.get("jit"))  # XLA has no deterministic MaxPool gradient
    student = registry.build(name, **splits.model_args())
    model = Distiller(teacher, student, temperature, alpha) if teacher is not None else student
    steps = -(-len(splits.y_train) // cfg["batch_size"])
    compile_model(model, cfg, steps, "sparse_categorical_crossentropy")
    train = make_dataset(splits.x_train, splits.y_train, cfg["batch_size"], shuffle=True, seed=seed,
                         shift=cfg["augment_shift"])
    start = time.perf_counter()
    model.fit(train, epochs=cfg["epochs"], verbose=verbose)
    return student, time.perf_counter() - start


def evaluate(model, splits, batch_size=256):
    from keras_arch.data.splits import make_dataset
    _, x, y = splits.eval_split()
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, accuracy = model.evaluate(make_dataset(x, y, batch_size), verbose=0)
    return float(loss), float(accuracy)


def run(name, options):
    from keras_arch.training.trainer import run_metrics, train
    recipe = registry.get(name)
    teacher_options = dataclasses.replace(options, export=None, checkpoint_dir=None, epochs=None,
                                          batch_size=None, learning_rate=None, prune=None,
                                          qat=False, tflite=None)
    teacher, teacher_metrics = train(TEACHER, teacher_options)
    cfg = options.resolved(recipe)
    splits = registry.resolve(recipe.data)(dataset=cfg["dataset"], data_dir=options.data_dir,
                                           test_dir=options.test_dir)
    cfg = options.resolved(recipe, splits.family)
    student, seconds = train_student(name, cfg, splits, teacher, seed=options.seed,
                                     verbose=0 if options.quiet else 1)
    loss, accuracy = evaluate(student, splits)
    metrics = run_metrics(name, splits, student, accuracy, loss, cfg["epochs"], seconds, cfg)
    metrics["teacher"] = {k: teacher_metrics[k] for k in ("eval_accuracy", "parameters", "train_seconds")}
    metrics["parameter_ratio"] = student.count_params() / teacher.count_params()
    if options.export:
        from keras_arch.serving.servable import export_arch
        metrics["export_path"] = export_arch(student, recipe, options.export, splits)
    return student, metrics
