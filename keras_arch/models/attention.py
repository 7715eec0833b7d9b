"""Attention classifiers: document 000 §4.3 (LSTM + Attention) and document 004
§4.1 (multi-head self-attention Transformer)."""
from keras_arch.backend import keras
from keras_arch.layers.masked_mean import MaskedMean
from keras_arch.layers.token_and_position_embedding import TokenAndPositionEmbedding
from keras_arch.layers.transformer_encoder_block import TransformerEncoderBlock

layers = keras.layers


def doc000_attention_classifier(vocab_size=10_000, num_classes=10, embed_dim=64, units=64,
                                input_shape=None, word_vectors=None, embedding_dropout=0.0):
    """Document 000 §4.3 "Attention实现", corrected.

    As written it cannot run: a Sequential model cannot hand keras' Attention
    its [query, value] pair, and LSTM(64) without return_sequences leaves no
    sequence to attend over. Here the LSTM returns every timestep and its final
    state; the final state is the query, the timesteps are the values, padding
    (id 0) is masked, and the weights are the ``attention`` layer's second
    output (see :func:`attention_weights_model`).

    Args:
        vocab_size: rows of the embedding (document: 10000).
        num_classes: softmax width.
        embed_dim: embedding width (document: 64; the recipe uses 128 on
            real sentences: docs/measurements.md, text_attention).
        units: LSTM width (document: 64).
        input_shape: ignored (sequences of any length).
        word_vectors: optional initial embedding matrix (vocab_size, embed_dim),
            or a function of the width returning one, e.g.
            ``functools.partial(keras_arch.data.word_vectors.embedding_matrix, vocabulary)``
            (what the text loader hands over, so the recipe picks the width).
        embedding_dropout: dropout of whole embedding channels, the same
            channels for every word of a sentence (SpatialDropout1D).
    """
    ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    embedding = layers.Embedding(vocab_size, embed_dim, mask_zero=True, name="embedding")
    x = embedding(ids)  # (batch, time, embed_dim)
    if word_vectors is not None:
        if callable(word_vectors):
            word_vectors = word_vectors(embed_dim)  # (vocab, embed_dim)
        if tuple(word_vectors.shape) != (vocab_size, embed_dim):
            raise ValueError(f"word_vectors is {tuple(word_vectors.shape)}; the embedding is ({vocab_size}, {embed_dim})")
        embedding.set_weights([word_vectors])
    if embedding_dropout:
        x = layers.SpatialDropout1D(embedding_dropout, name="embedding_dropout")(x)
    sequence, state_h, _ = layers.LSTM(units, return_sequences=True, return_state=True, name="lstm")(x)
    query = layers.Reshape((1, units), name="query")(state_h)  # (batch, 1, units)
    context, _ = layers.Attention(name="attention")([query, sequence], return_attention_scores=True)
    x = layers.Flatten(name="context")(context)  # (batch, units)
    x = layers.Dense(64, activation="relu", name="dense")(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(ids, outputs, name="doc000_attention_classifier")


def attention_weights_model(model, layer="attention"):
    """Same inputs, the attention weights as output: (batch, queries, keys)."""
    return keras.Model(model.inputs, model.get_layer(layer).output[1])


def transformer_classifier(vocab_size=10_000, num_classes=2, input_shape=(50,), embed_dim=64,
                           num_heads=4, ff_dim=128, num_blocks=1, dropout=0.1, feed_forward=None, norm_first=True):
    """Document 004 §4.1: token + position embedding, Transformer encoder
    block(s) built on the corrected multi-head self-attention, masked mean
    pooling, softmax head. The document shows only the attention; the block
    around it is pre-norm with a final LayerNorm (GPT-2, ViT) and the position
    table starts at zero: together they take the generated reviews from a
    0.56 plateau at 3 epochs to 0.9-1.0 (docs/short-runs.md).

    Args:
        vocab_size: token table rows (id 0 is padding, masked throughout).
        num_classes: softmax width.
        input_shape: (max_length,): the position table's rows.
        embed_dim: model width; each of ``num_heads`` heads gets embed_dim // num_heads.
        num_heads: attention heads per block.
        ff_dim: feed-forward hidden width.
        num_blocks: encoder blocks.
        dropout: attention, sublayer and pre-head dropout.
        feed_forward: a layer factory replacing each block's dense
            feed-forward (a mixture of experts, say).
        norm_first: pre-norm blocks and a final LayerNorm (default), or
            post-norm blocks as in Vaswani et al.
    """
    ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    x = TokenAndPositionEmbedding(vocab_size, input_shape[0], embed_dim, name="embedding")(ids)
    for i in range(num_blocks):
        ff = feed_forward() if feed_forward else None
        x = TransformerEncoderBlock(num_heads, embed_dim // num_heads, ff_dim, dropout,
                                    feed_forward=ff, norm_first=norm_first, name=f"encoder_{i}")(x)  # (batch, time, embed_dim)
    if norm_first:  # pre-norm blocks leave the residual stream unnormalised
        x = layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)
    x = MaskedMean(name="pool")(x)  # mean over real tokens (zeros for a text with none)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(ids, outputs, name="transformer_classifier")
