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


@pytest.mark.slow  # a fresh process or a whole export: runs in CI, not in the fast suite
def test_no_cuinit_error_line_where_no_nvidia_driver_is_installed():
    """Without a driver the "failed call to cuInit" ERROR is expected noise;
    TensorFlow's C++ errors are hidden there (a caller's level stays)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    code = "import os, keras_arch, tensorflow as tf; tf.constant(1.0) + 1; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    driver = os.path.exists("/proc/driver/nvidia")
    assert out.stdout.split() == ["2" if driver else "3"]
    if not driver:
        assert "cuInit" not in out.stderr and "E0000" not in out.stderr, out.stderr
    kept = _python("import os, keras_arch; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])", TF_CPP_MIN_LOG_LEVEL="1")
    assert kept.stdout.split() == ["1"], kept.stderr
