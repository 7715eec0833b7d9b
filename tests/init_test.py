import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def _python(code, **env):
    full_env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env=full_env, timeout=300)


@pytest.mark.slow  # a fresh process that imports TensorFlow and TFMOT (about 10 s); CI runs it
def test_tensorflow_imported_first_still_gives_keras2_models_that_tfmot_quantizes():
    code = ("import tensorflow as tf\n"
            "tf.keras.layers  # binds tf.keras to Keras 3 in this process\n"
            "import warnings\n"
            "with warnings.catch_warnings(record=True) as caught:\n"
            "    warnings.simplefilter('always')\n"
            "    import keras_arch\n"
            "print('warned', any('tf_keras' in str(w.message) for w in caught))\n"
            "from keras_arch.models.cnn import doc000_cnn\n"
            "import tf_keras, tensorflow_model_optimization as tfmot\n"
            "m = doc000_cnn()\n"
            "print('tf_keras', isinstance(m, tf_keras.Model))\n"
            "q = tfmot.quantization.keras.quantize_model(m)\n"
            "print('quantized', q.count_params() > m.count_params())\n")
    out = _python(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["warned", "True", "tf_keras", "True", "quantized", "True"]


def test_keras3_requested_explicitly_fails_at_once_with_what_to_do():
    out = _python("import keras_arch", TF_USE_LEGACY_KERAS="0")
    assert out.returncode != 0
    assert "keras_arch needs Keras 2 (tf_keras)" in out.stderr and "TF_USE_LEGACY_KERAS=1" in out.stderr
    assert "tensorflow" not in out.stderr.split("ImportError")[0].split("\n")[-1]


def test_import_sets_the_flag_and_loads_no_tensorflow():
    out = _python("import sys, os, keras_arch; print(os.environ['TF_USE_LEGACY_KERAS'], 'tensorflow' in sys.modules)")
    assert out.stdout.split() == ["1", "False"], out.stderr


def test_import_keras_arch_changes_nothing_but_three_environment_defaults():
    """What ``import keras_arch`` changes in the process: TF_USE_LEGACY_KERAS=1
    and, unless set, USE_TF=1 and USE_TORCH=0. No import hook, no logging
    level, filter or handler, no warnings filter, no other variable, no
    TensorFlow; file descriptor 2 is the same file."""
    code = r"""
import json, logging, os, sys, warnings
def state():
    loggers = {name: (lg.level, len(lg.filters), len(lg.handlers))
               for name, lg in logging.Logger.manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    root = logging.getLogger()
    return {"meta_path": [repr(type(f)) for f in sys.meta_path], "path_hooks": [repr(h) for h in sys.path_hooks],
            "warnings": [repr(f) for f in warnings.filters], "loggers": loggers,
            "root": (root.level, len(root.filters), len(root.handlers)), "fd2": os.fstat(2).st_ino,
            "env": dict(os.environ)}
before = state()
import keras_arch
after = state()
env = {k: v for k, v in after.pop("env").items() if before["env"].get(k) != v}
before.pop("env")
new_loggers = sorted(set(after["loggers"]) - set(before["loggers"]))
print(json.dumps({"same": before == after, "env": env, "tensorflow": "tensorflow" in sys.modules,
                  "new_loggers": new_loggers}))
"""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_USE_LEGACY_KERAS", "USE_TF", "USE_TORCH")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got == {"same": True, "env": {"TF_USE_LEGACY_KERAS": "1", "USE_TF": "1", "USE_TORCH": "0"},
                   "tensorflow": False, "new_loggers": []}
    kept = subprocess.run([sys.executable, "-c", "import os, keras_arch; print(os.environ['USE_TF'])"],
                          capture_output=True, text=True, cwd=ROOT, env={**env, "USE_TF": "AUTO"}, timeout=60)
    assert kept.stdout.strip() == "AUTO"  # defaults only: a caller's value stays
