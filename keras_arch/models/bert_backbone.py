"""A BERT encoder as a functional tf_keras model, built from a Hugging Face
BERT directory's ``config.json`` and loading its ``model.safetensors`` or
``tf_model.h5`` itself: no transformers on the way (document 001,
"Transformer实现", uses ``TFBertModel``; transformers removed its TensorFlow
classes in v5).

Every piece is an ordinary Keras layer, so TF Model Optimization can prune
and quantize it and the TFLite converter can see through it: token, position
and segment embeddings, their sum, LayerNorm and dropout, then per layer
Dense query, key and value projections, the weightless attention core
(:class:`~keras_arch.layers.scaled_dot_product_attention.ScaledDotProductAttention`),
a Dense output projection, residual and LayerNorm (post-norm), and a GELU
feed-forward with its residual and LayerNorm.

    h_0 = LayerNorm(E_token[x] + E_position[0..T-1] + E_segment[s])
    a_l = LayerNorm(h_{l-1} + W_o Attention(W_q h_{l-1}, W_k h_{l-1}, W_v h_{l-1}; mask))
    h_l = LayerNorm(a_l + W_2 GELU(W_1 a_l))

Under a mixed-precision policy (``--precision mixed_bfloat16``) only the
matrix products run in the policy's compute dtype: the Dense projections and
the attention core. Embeddings, sums, LayerNorms, GELU and dropout stay
float32: on a CPU, TensorFlow's bfloat16 elementwise kernels convert every
element and run slower than float32 (GELU's erf twice as slow on AMX
hardware), while matrix products gain four times; softmax, LayerNorm
statistics and the loss stay float32 as well (docs/measurements.md, precision).

Anchor: keras-hub ``models/bert/bert_backbone.py`` (the constructor's
arguments are the config; the classifier head takes the backbone).
"""
from __future__ import annotations

import os

import numpy as np

from keras_arch.backend import keras
from keras_arch.errors import UsageError
from keras_arch.layers.position_embedding import PositionEmbedding
from keras_arch.layers.scaled_dot_product_attention import ScaledDotProductAttention
from keras_arch.models.bert_config import INPUTS, TINY, BertConfig

layers = keras.layers


def bert_backbone(config: BertConfig = TINY, name="bert"):
    """The BERT encoder: int32 ``input_ids``, ``attention_mask`` and
    ``token_type_ids`` (batch, time) -> the last hidden state (batch, time,
    hidden_size), every position (padding too; the mask keeps padded keys
    out of every attention).

    Args:
        config: the :class:`BertConfig`.
        name: the model's name.
    """
    c = config
    init = lambda: keras.initializers.TruncatedNormal(stddev=0.02)  # noqa: E731  (one instance per weight)
    f32 = {"dtype": "float32"}  # the elementwise layers (see the module docstring); the rest: the global policy
    inputs = {n: keras.Input(shape=(None,), dtype="int32", name=n) for n in INPUTS}
    mask = inputs["attention_mask"]
    tokens = layers.Embedding(c.vocab_size, c.hidden_size, embeddings_initializer=init(),
                              name="token_embedding", **f32)(inputs["input_ids"])  # (batch, time, hidden)
    positions = PositionEmbedding(c.max_position_embeddings, init(), name="position_embedding", **f32)(tokens)
    segments = layers.Embedding(c.type_vocab_size, c.hidden_size, embeddings_initializer=init(),
                                name="segment_embedding", **f32)(inputs["token_type_ids"])
    x = layers.Add(name="embeddings_sum", **f32)([tokens, positions, segments])
    x = layers.LayerNormalization(epsilon=c.layer_norm_eps, name="embeddings_norm", **f32)(x)
    x = layers.Dropout(c.hidden_dropout_prob, name="embeddings_dropout", **f32)(x)
    for i in range(c.num_hidden_layers):
        p = f"layer_{i}_"
        q, k, v = (layers.Dense(c.hidden_size, kernel_initializer=init(), name=p + n)(x)
                   for n in ("query", "key", "value"))  # (batch, time, heads x d_k) each
        context = ScaledDotProductAttention(c.num_attention_heads, c.attention_probs_dropout_prob,
                                            name=p + "attention")([q, k, v], attention_mask=mask)
        a = layers.Dense(c.hidden_size, kernel_initializer=init(), name=p + "attention_output")(context)
        a = layers.Dropout(c.hidden_dropout_prob, name=p + "attention_dropout", **f32)(a)
        x = layers.LayerNormalization(epsilon=c.layer_norm_eps, name=p + "attention_norm", **f32)(
            layers.Add(name=p + "attention_residual", **f32)([x, a]))
        f = layers.Dense(c.intermediate_size, kernel_initializer=init(), name=p + "intermediate")(x)
        f = layers.Activation("gelu", name=p + "gelu", **f32)(f)  # erf GELU, as BERT's "gelu"
        f = layers.Dense(c.hidden_size, kernel_initializer=init(), name=p + "output")(f)
        f = layers.Dropout(c.hidden_dropout_prob, name=p + "output_dropout", **f32)(f)
        x = layers.LayerNormalization(epsilon=c.layer_norm_eps, name=p + "output_norm", **f32)(
            layers.Add(name=p + "output_residual", **f32)([x, f]))
    return keras.Model(inputs, x, name=name)


# --- checkpoints ---------------------------------------------------------------------------------

def _hf_names(config):
    """{Keras weight: (Hugging Face tensor name, transpose)} of the backbone
    ``bert_backbone(config)`` builds, in PyTorch's layout (a Dense kernel is
    PyTorch's Linear weight transposed)."""
    out = {"token_embedding/embeddings": ("embeddings.word_embeddings.weight", False),
           "position_embedding/embeddings": ("embeddings.position_embeddings.weight", False),
           "segment_embedding/embeddings": ("embeddings.token_type_embeddings.weight", False),
           "embeddings_norm/gamma": ("embeddings.LayerNorm.weight", False),
           "embeddings_norm/beta": ("embeddings.LayerNorm.bias", False)}
    parts = {"query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
             "attention_output": "attention.output.dense", "attention_norm": "attention.output.LayerNorm",
             "intermediate": "intermediate.dense", "output": "output.dense", "output_norm": "output.LayerNorm"}
    for i in range(config.num_hidden_layers):
        for ours, theirs in parts.items():
            hf = f"encoder.layer.{i}.{theirs}"
            if ours.endswith("norm"):
                out[f"layer_{i}_{ours}/gamma"] = (hf + ".weight", False)
                out[f"layer_{i}_{ours}/beta"] = (hf + ".bias", False)
            else:
                out[f"layer_{i}_{ours}/kernel"] = (hf + ".weight", True)
                out[f"layer_{i}_{ours}/bias"] = (hf + ".bias", False)
    return out


def _tf_h5_tensors(path):
    """transformers' tf_model.h5, renamed to the PyTorch names and layout, read
    with h5py (what the file is: Keras HDF5 weights; no transformers)."""
    import h5py
    out = {}
    try:
        with h5py.File(path, "r") as f:
            def visit(name, obj):
                if isinstance(obj, h5py.Dataset):  # "bert/bert/bert/encoder/layer_._0/...:0"
                    parts = name.split("/")
                    start = next((i for i, p in enumerate(parts) if p in ("embeddings", "encoder", "pooler")), 0)
                    key = "/".join(parts[start:]).rsplit(":", 1)[0].replace("/", ".").replace("layer_._", "layer.")
                    key = key.replace(".gamma", ".weight").replace(".beta", ".bias")
                    key = key.replace(".embeddings", ".weight") if key.startswith("embeddings.") else key
                    value = np.asarray(obj)
                    if key.endswith(".kernel"):  # Keras (in, out) -> PyTorch (out, in)
                        key, value = key[:-len(".kernel")] + ".weight", value.T
                    out[key] = value
            f.visititems(visit)
    except OSError as e:
        raise UsageError(f"{path}: not a readable HDF5 file ({e})") from None
    return out


def read_tensors(directory):
    """{Hugging Face name: array} of a BERT directory's weights, from
    ``model.safetensors`` (preferred) or ``tf_model.h5``; a "bert." prefix
    (BertFor... checkpoints) is dropped."""
    st, h5 = os.path.join(directory, "model.safetensors"), os.path.join(directory, "tf_model.h5")
    if os.path.isfile(st):
        from safetensors import SafetensorError
        from safetensors.numpy import load_file
        try:
            tensors = load_file(st)
        except (SafetensorError, OSError, ValueError) as e:
            raise UsageError(f"{st}: not a readable safetensors file ({e})") from None
    elif os.path.isfile(h5):
        tensors = _tf_h5_tensors(h5)
    else:
        raise UsageError(f"--pretrained {directory}: neither model.safetensors nor tf_model.h5")
    return {(k[len("bert."):] if k.startswith("bert.") else k): v for k, v in tensors.items()}


def load_weights(backbone, config, directory):
    """Set ``backbone``'s weights from a Hugging Face BERT directory; returns
    {"missing": [...], "unused": [...]} (tensors the backbone has no place
    for: the pooler, a classification head, BERT's position_ids buffer).

    A tensor whose shape does not fit the config is one line naming the
    tensor, the expected and the found shape.
    """
    tensors = read_tensors(directory)
    names = _hf_names(config)
    by_name = {w.name.split(":")[0].split("/", 1)[-1] if w.name.count("/") > 1 else w.name.split(":")[0]: w
               for w in backbone.weights}
    missing = sorted(hf for hf, _ in names.values() if hf not in tensors)
    if missing:
        raise UsageError(f"--pretrained {directory}: no tensor {missing[0]} (and {len(missing) - 1} more missing)"
                         if len(missing) > 1 else f"--pretrained {directory}: no tensor {missing[0]}")
    values = []
    for ours, (hf, transpose) in names.items():
        variable = by_name[ours]
        value = tensors[hf].T if transpose else tensors[hf]
        if tuple(value.shape) != tuple(variable.shape):
            found = tuple(tensors[hf].shape)
            expected = tuple(variable.shape)[::-1] if transpose else tuple(variable.shape)
            raise UsageError(f"--pretrained {directory}: tensor {hf} has shape {found}, the config "
                             f"expects {expected}")
        values.append((variable, value.astype(np.float32)))
    for variable, value in values:
        variable.assign(value)
    used = {hf for hf, _ in names.values()}
    return {"missing": [], "unused": sorted(k for k in tensors if k not in used)}
