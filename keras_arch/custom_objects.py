"""Every custom object a saved keras_arch model can name, registered with tf_keras.

A saved model refers to its custom classes and functions by name
("keras_arch>MixtureOfExperts", "keras_arch>WarmupCosine",
"keras_arch>symmetric_infonce"). Each is registered by the module that
defines it (``register_keras_serializable``), when that module runs; tf_keras
cannot resolve a name whose module no one imported ("'str' object is not
callable"). Importing this module imports every such module, so

    import keras_arch.custom_objects
    import tf_keras
    model = tf_keras.models.load_model("moe.keras")

works for every arch, and so does :func:`load_model` (also
``keras_arch.load_model``). Importing this module imports TensorFlow.
"""
import importlib

from keras_arch.backend import keras

# Modules whose import registers objects (a test checks this list against
# every register_keras_serializable in the package).
MODULES = (
    "keras_arch.layers.bahdanau_attention",
    "keras_arch.layers.contrastive_similarity",
    "keras_arch.layers.distmult_scorer",
    "keras_arch.layers.er_mlp_scorer",
    "keras_arch.layers.masked_mean",
    "keras_arch.layers.mixture_of_experts",
    "keras_arch.layers.multi_head_self_attention",
    "keras_arch.layers.position_embedding",
    "keras_arch.layers.scaled_dot_product_attention",
    "keras_arch.layers.token_and_position_embedding",
    "keras_arch.layers.transe_scorer",
    "keras_arch.layers.transformer_encoder_block",
    "keras_arch.layers.weighted_fusion",
    "keras_arch.optimize.quantize_configs",  # in a saved quantization-aware model
    "keras_arch.training.schedules",  # WarmupCosine, WarmupLinear (in a saved optimizer)
    "keras_arch.losses",  # symmetric_infonce (a saved loss)
)
for _module in MODULES:
    importlib.import_module(_module)


def registered():
    """The sorted names keras_arch objects are registered under."""
    return sorted(n for n in keras.utils.get_custom_objects() if n.startswith("keras_arch>"))


def registered_objects():
    """{name: object} of every keras_arch registration, for ``from_config`` calls."""
    custom = keras.utils.get_custom_objects()
    return {name: custom[name] for name in registered()}


def load_model(path, **kwargs):
    """Load a saved keras_arch model (every custom object registered).

    Args:
        path: a ``.keras`` file or a Keras SavedModel directory.
        **kwargs: passed on to ``tf_keras.models.load_model`` (``compile=False``, ...).

    Returns:
        The tf_keras model.
    """
    return keras.models.load_model(path, **kwargs)
