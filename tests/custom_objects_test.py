"""Every arch's saved model loads in a fresh process through the documented
paths: ``keras_arch.load_model(path)``, or ``tf_keras.models.load_model``
after ``import keras_arch.custom_objects``. Custom layers, schedules and
losses are registered by the modules that define them; no import hook."""
import glob
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from keras_arch import custom_objects, registry
from keras_arch.tasks.base import for_arch
from tests.conftest import ROOT


def _python(code, *args):
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=900)


def _decorated():
    """Every class or function the source registers, found independently of MODULES."""
    source = "".join(open(p, encoding="utf-8").read()
                     for p in glob.glob(os.path.join(ROOT, "keras_arch", "**", "*.py"), recursive=True))
    return sorted(f"keras_arch>{n}" for n in re.findall(
        r"register_keras_serializable\(package=\"keras_arch\"\)[^\n]*\n(?:class|def) (\w+)", source))


def test_the_module_list_covers_every_registered_object_in_the_source():
    found = set()
    for path in glob.glob(os.path.join(ROOT, "keras_arch", "**", "*.py"), recursive=True):
        if "register_keras_serializable" in open(path, encoding="utf-8").read():
            found.add(os.path.relpath(path, ROOT)[:-3].replace(os.sep, "."))
    assert found - {"keras_arch.custom_objects"} == set(custom_objects.MODULES)
    assert custom_objects.registered() == _decorated()


def _model_inputs(model, recipe, splits, n=3):
    """Real inputs for the Keras model itself (not a serving signature)."""
    samples = for_arch(recipe.name).serving_samples(splits, n)
    if len(model.inputs) == 1:
        (value,), = [list(v.values()) for v in [samples["serving_default"]]]
        return value
    names = set(model.input_names)
    for inputs in samples.values():
        if names <= set(inputs):
            return {k: inputs[k] for k in names}
    raise AssertionError(f"no sample inputs for {sorted(names)}")


def _compile_like_training(model, recipe):
    """The recipe's optimizer over its learning-rate schedule (WarmupCosine,
    WarmupLinear...) and its losses, so that the saved file names them."""
    from keras_arch.training import schedules
    from keras_arch.losses import symmetric_infonce
    schedule = schedules.make_schedule(recipe.lr_schedule, recipe.learning_rate, 100, 10)
    losses = {name: (symmetric_infonce if name == "similarity" else recipe.loss) for name in model.output_names}
    model.compile(optimizer=schedules.make_optimizer(recipe.optimizer, schedule), loss=losses)


LOAD = """
import json, sys
import numpy as np
import keras_arch
assert 'tensorflow' not in sys.modules  # import keras_arch stays light
import tensorflow as tf
import tf_keras
import keras_arch.custom_objects  # the documented import: every custom object registered
out = {}
for arg in sys.argv[1:]:
    data_path, path = arg.split("=", 1)
    data = np.load(data_path, allow_pickle=True)
    x = {k: data[k] for k in data.files}
    x = x['x'] if list(x) == ['x'] else x
    model = tf_keras.models.load_model(path) if path.endswith('.keras') else keras_arch.load_model(path)
    y = model(x, training=False)
    out[path] = {'names': model.output_names, 'values': [np.asarray(v).tolist() for v in tf.nest.flatten(y)],
                 'optimizer': type(model.optimizer).__name__ if model.optimizer else None,
                 'schedule': type(getattr(model.optimizer, '_learning_rate', None)).__name__}
    if not path.endswith('.keras'):  # a SavedModel: also the generic loader, through serving_default
        fn = tf.saved_model.load(path).signatures['serving_default']
        names = list(fn.structured_input_signature[1])
        feed = x if isinstance(x, dict) else {names[0]: x}
        out[path]['signature'] = {k: v.numpy().tolist() for k, v in fn(**{k: tf.constant(v) for k, v in feed.items()}).items()}
print(json.dumps(out))
"""


def _save(arch, directory, formats=("keras", "tf")):
    """Build ``arch`` small, compile it as training does, save it in each
    format; returns (model, {path: expected outputs}, [data=path args])."""
    import tensorflow as tf
    recipe = registry.get(arch)
    task = for_arch(arch)
    splits = task.load_data()
    model = registry.build(arch, **splits.model_args(), **recipe.small_builder_kwargs)
    _compile_like_training(model, recipe)
    x = _model_inputs(model, recipe, splits)
    expected = [np.asarray(v) for v in tf.nest.flatten(model(x, training=False))]
    os.makedirs(directory, exist_ok=True)
    data = os.path.join(directory, "x.npz")
    np.savez(data, **(x if isinstance(x, dict) else {"x": x}))
    paths = [os.path.join(directory, "model.keras" if fmt == "keras" else "saved_model") for fmt in formats]
    for path in paths:
        model.save(path)
    return model, expected, [f"{data}={p}" for p in paths]


def _check(model, expected, loaded):
    assert loaded["names"] == model.output_names
    for a, b in zip(loaded["values"], expected):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert loaded["optimizer"] == type(model.optimizer).__name__
    assert loaded["schedule"] == type(model.optimizer._learning_rate).__name__
    if "signature" in loaded:  # outputs keyed by output name
        by_name = dict(zip(model.output_names, expected))
        assert len(loaded["signature"]) == len(expected)
        for key, value in loaded["signature"].items():
            np.testing.assert_allclose(value, by_name[key] if len(expected) > 1 else expected[0],
                                       rtol=1e-5, atol=1e-6)


def _load_fresh(saved):
    """Load every saved file in one fresh process; compare with the in-memory outputs."""
    out = _python(LOAD, *[arg for _, _, args in saved.values() for arg in args])
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    for arch, (model, expected, args) in saved.items():
        for arg in args:
            _check(model, expected, got[arg.split("=", 1)[1]])


@pytest.mark.slow  # a fresh process or a whole export: runs in CI, not in the fast suite
def test_a_saved_moe_model_loads_in_a_fresh_process(tmp_path):
    """The report that started it: "'str' object is not callable" unless the layer module was imported by hand."""
    saved = {"moe": _save("moe", str(tmp_path / "moe"), ("keras",))}
    _load_fresh(saved)
    assert type(saved["moe"][0].optimizer._learning_rate).__name__ == "WarmupCosine"  # a custom schedule too


@pytest.mark.slow
def test_every_arch_saved_model_loads_in_a_fresh_process(tmp_path):
    """.keras and SavedModel of every arch, with the recipe's optimizer,
    schedule and losses, loaded in one fresh process."""
    _load_fresh({arch: _save(arch, str(tmp_path / arch)) for arch in registry.names()})


def test_importing_keras_arch_registers_nothing_and_hooks_nothing():
    """Registration is the defining modules' (and ``import keras_arch.custom_objects``');
    ``import keras_arch`` alone installs no import hook and registers nothing."""
    out = _python("import sys, keras_arch\n"
                  "print([type(f).__module__ for f in sys.meta_path if type(f).__module__.startswith('keras_arch')])\n"
                  "import tf_keras\n"
                  "print(sorted(n for n in tf_keras.utils.get_custom_objects() if n.startswith('keras_arch>')))\n"
                  "import keras_arch.custom_objects\n"
                  "print(len(keras_arch.custom_objects.registered()))\n")
    assert out.returncode == 0, out.stderr[-3000:]
    hooks, before, after = out.stdout.strip().splitlines()[-3:]
    assert hooks == "[]" and before == "[]" and int(after) == len(_decorated())
