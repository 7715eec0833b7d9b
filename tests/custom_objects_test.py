"""`import keras_arch` alone makes every arch's saved model load in a fresh
process (issue 16): custom layers, schedules and losses are registered with
tf_keras once TensorFlow is imported, without importing TensorFlow at
`import keras_arch`."""
import glob
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from keras_arch import custom_objects, registry
from keras_arch.serving.servable import sample_inputs
from tests.conftest import ROOT


def _python(code, *args):
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)


def test_the_module_list_covers_every_registered_object_in_the_source():
    found = set()
    for path in glob.glob(os.path.join(ROOT, "keras_arch", "**", "*.py"), recursive=True):
        if "register_keras_serializable" in open(path, encoding="utf-8").read():
            module = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
            found.add(module)
    assert found - {"keras_arch.custom_objects"} == set(custom_objects.MODULES)


def _model_inputs(model, recipe, splits, n=3):
    """Real inputs for the Keras model itself (not a serving signature)."""
    samples = sample_inputs(recipe, splits, n)
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
data = np.load(sys.argv[1], allow_pickle=True)
x = {k: data[k] for k in data.files}
x = x['x'] if list(x) == ['x'] else x
out = {}
for path in sys.argv[2:]:
    model = tf_keras.models.load_model(path)
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


def _save_and_load_fresh(arch, tmp_path, formats=("keras", "tf")):
    """Build ``arch`` small, compile it as training does, save it in each
    format, and load every file in one fresh process that imports only
    keras_arch (then tf_keras / tf to load); outputs must match."""
    import tensorflow as tf
    recipe = registry.get(arch)
    splits = registry.resolve(recipe.data)(dataset=recipe.datasets[0])
    model = registry.build(arch, **splits.model_args(), **recipe.small_builder_kwargs)
    _compile_like_training(model, recipe)
    x = _model_inputs(model, recipe, splits)
    expected = [np.asarray(v) for v in tf.nest.flatten(model(x, training=False))]
    np.savez(tmp_path / "x.npz", **(x if isinstance(x, dict) else {"x": x}))
    paths = [str(tmp_path / ("model.keras" if fmt == "keras" else "saved_model")) for fmt in formats]
    for path in paths:
        model.save(path)
    out = _python(LOAD, tmp_path / "x.npz", *paths)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    for path in paths:
        loaded = got[path]
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
    return model


@pytest.mark.slow  # a fresh process or a whole export: runs in CI, not in the fast suite
def test_a_saved_moe_model_loads_after_only_import_keras_arch(tmp_path):
    """The issue's report: "'str' object is not callable" unless the layer module was imported by hand."""
    model = _save_and_load_fresh("moe", tmp_path, ("keras",))
    assert type(model.optimizer._learning_rate).__name__ == "WarmupCosine"  # a custom schedule was saved too


@pytest.mark.parametrize("first_import", [
    "import tensorflow",
    pytest.param("import tf_keras", marks=pytest.mark.slow),  # a fresh process each (about 4 s): CI runs them
    # TensorFlow first imported by a keras_arch layer module, whose siblings
    # import it by name: registration must wait until it has finished.
    "from keras_arch.layers.multi_head_self_attention import MultiHeadSelfAttention",
    pytest.param("from keras_arch.layers.triple_scorer import TripleScorer", marks=pytest.mark.slow),
    pytest.param("from keras_arch.backend import keras", marks=pytest.mark.slow),
])
@pytest.mark.slow  # a fresh process or a whole export: runs in CI, not in the fast suite
def test_registration_follows_whatever_imports_tensorflow_first(first_import):
    code = ("import sys, keras_arch\n"
            f"{first_import}\n"
            "import tf_keras\n"
            "names = tf_keras.utils.get_custom_objects()\n"
            "print(json.dumps(sorted(n for n in names if n.startswith('keras_arch>'))))\n"
            "print(any(type(f).__module__ == 'keras_arch._autoregister' for f in sys.meta_path))\n")
    out = _python("import json\n" + code)
    assert out.returncode == 0, out.stderr[-3000:]
    names, finder_left = out.stdout.strip().splitlines()[-2:]
    source = "".join(open(p, encoding="utf-8").read() for p in glob.glob(os.path.join(ROOT, "keras_arch", "**", "*.py"),
                                                                          recursive=True))
    # Every decorated class or function in the source, found independently of the module list.
    decorated = re.findall(r"register_keras_serializable\(package=\"keras_arch\"\)[^\n]*\n(?:class|def) (\w+)", source)
    assert sorted(json.loads(names)) == sorted(f"keras_arch>{n}" for n in decorated)
    assert finder_left == "False"  # the import hook removed itself


@pytest.mark.slow  # a fresh process or a whole export: runs in CI, not in the fast suite
def test_the_lazy_bert_entry_imports_transformers_only_when_used():
    out = _python("import sys, keras_arch, tf_keras\n"
                  "entry = tf_keras.utils.get_custom_objects()['TFBertModel']\n"
                  "print('transformers' in sys.modules)\n"
                  "from transformers import BertConfig\n"
                  "m = entry.from_config(BertConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=2,"
                  " intermediate_size=8).to_dict())\n"
                  "print(type(m).__name__, tf_keras.utils.get_custom_objects()['TFBertModel'] is type(m))\n")
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split()[-3:] == ["False", "TFBertModel", "True"]


@pytest.mark.slow
@pytest.mark.parametrize("arch", registry.names())
def test_every_arch_saved_model_loads_in_a_fresh_process(arch, tmp_path):
    """.keras and SavedModel, with the recipe's optimizer, schedule and losses."""
    _save_and_load_fresh(arch, tmp_path)
