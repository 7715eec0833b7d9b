"""Every custom object a saved keras_arch model can name, registered with tf_keras.

A saved model refers to its custom classes and functions by name
("keras_arch>MixtureOfExperts", "keras_arch>WarmupCosine",
"keras_arch>symmetric_infonce", transformers' "TFBertModel"). tf_keras
resolves a name only if the module defining it has already run its
``register_keras_serializable`` decorator; otherwise loading fails with
"'str' object is not callable". ``import keras_arch`` arranges for
:func:`register` to run as soon as TensorFlow and tf_keras are imported
(see ``keras_arch/_autoregister.py``), so in a fresh process

    import keras_arch
    import tf_keras
    model = tf_keras.models.load_model("moe.keras")

works for every arch, while ``import keras_arch`` alone still imports no
TensorFlow. Importing this module imports TensorFlow.
"""
import importlib

# Modules whose import registers objects (a test checks this list against
# every register_keras_serializable in the package).
MODULES = (
    "keras_arch.layers.bahdanau_attention",
    "keras_arch.layers.contrastive_similarity",
    "keras_arch.layers.distmult_scorer",
    "keras_arch.layers.er_mlp_scorer",
    "keras_arch.layers.mixture_of_experts",
    "keras_arch.layers.multi_head_self_attention",
    "keras_arch.layers.token_and_position_embedding",
    "keras_arch.layers.transe_scorer",
    "keras_arch.layers.transformer_encoder_block",
    "keras_arch.layers.weighted_fusion",
    "keras_arch.training.schedules",  # WarmupCosine, WarmupLinear (in a saved optimizer)
    "keras_arch.losses",  # symmetric_infonce (a saved loss)
)

# Classes from other packages that keras_arch models contain and that their
# package does not register: name in a saved config -> (module, attribute).
# Importing transformers takes about 4 s, so they resolve on first use.
LAZY = {"TFBertModel": ("transformers", "TFBertModel")}


class _LazyClass:
    """Stands in for a class in tf_keras's registry until a saved model
    needs it, then imports it and hands over (and takes its place)."""

    def __init__(self, name, module, attribute):
        self.name, self.module, self.attribute = name, module, attribute

    def resolve(self):
        cls = getattr(importlib.import_module(self.module), self.attribute)
        from keras_arch.backend import keras
        custom = keras.utils.get_custom_objects()
        if custom.get(self.name) is self:
            custom[self.name] = cls
        return cls

    def from_config(self, config, custom_objects=None):
        return self.resolve().from_config(config)

    def __call__(self, *args, **kwargs):
        return self.resolve()(*args, **kwargs)

    def __repr__(self):
        return f"<lazily imported {self.module}.{self.attribute}>"


def register():
    """Register every keras_arch layer, schedule and loss, and transformers'
    TFBertModel (lazily), with tf_keras. Safe to call more than once.

    Returns:
        The sorted names that keras_arch objects are registered under.
    """
    for module in MODULES:
        importlib.import_module(module)
    from keras_arch.backend import keras
    custom = keras.utils.get_custom_objects()
    for name, (module, attribute) in LAZY.items():
        custom.setdefault(name, _LazyClass(name, module, attribute))
    return sorted(n for n in custom if n.startswith("keras_arch>") or n in LAZY)


def load_model(path, **kwargs):
    """``tf_keras.models.load_model`` with every keras_arch object registered
    (what ``import keras_arch`` already arranges; this also works if
    registration was switched off or failed).

    Args:
        path: a ``.keras`` file or a Keras SavedModel directory.
        **kwargs: passed on (``compile=False``, ``custom_objects``...).

    Returns:
        The tf_keras model.
    """
    register()
    from keras_arch.backend import keras
    return keras.models.load_model(path, **kwargs)
