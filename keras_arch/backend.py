"""The Keras 2 module every builder uses. Importing it imports TensorFlow."""
import keras_arch  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
import tf_keras as keras  # noqa: E402

__all__ = ["keras"]
