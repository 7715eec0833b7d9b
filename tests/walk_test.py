"""One pass through a run: walking ``python -m keras_arch.run cnn --export DIR``
in-process, each lookup and check happens exactly once (issue 27's list:
the recipe, the task class, the config, the settings, the option and
precision checks, the model the export serves)."""
import collections
import functools

from keras_arch import config, options, precision, registry, run
from keras_arch.tasks import classification


def test_run_cnn_export_resolves_everything_once(tmp_path, monkeypatch):
    calls = collections.Counter()

    def count(owner, name, key=None, when=lambda *a, **k: True):
        original = getattr(owner, name)

        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            if when(*args, **kwargs):
                calls[key or name] += 1
            return original(*args, **kwargs)
        monkeypatch.setattr(owner, name, wrapper)

    task_path = registry.get("cnn").task
    count(registry, "get", "registry.get")
    count(registry, "resolve", "task class resolved", when=lambda path: path == task_path)
    count(config.RunConfig, "from_args", "RunConfig.from_args")
    count(classification.ClassificationTask, "settings", "settings resolved")
    count(options, "check", "options.check")
    count(precision, "check", "precision.check")
    count(precision, "resolve", "precision.resolve")
    count(classification.ClassificationTask, "signatures", "task.signatures (the served model)")
    count(classification.ClassificationTask, "build_model", "task.build_model")
    count(classification.ClassificationTask, "load_data", "task.load_data")
    monkeypatch.setattr(run.quiet, "enable", lambda: None)  # the test process keeps its logging

    assert run.main(["cnn", "--epochs", "1", "--quiet", "--export", str(tmp_path / "servables")]) == 0
    assert dict(calls) == {name: 1 for name in (
        "registry.get", "task class resolved", "RunConfig.from_args", "settings resolved", "options.check",
        "precision.check", "precision.resolve", "task.signatures (the served model)", "task.build_model",
        "task.load_data")}
    assert (tmp_path / "servables" / "cnn" / "1" / "saved_model.pb").is_file()
