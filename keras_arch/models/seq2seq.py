"""Encoder-decoder with additive (Bahdanau) attention for document 003's
summarisation example (§4): teacher forcing in training, greedy decoding at
inference."""
import tensorflow as tf

from keras_arch.backend import keras
from keras_arch.data.sequences import END, START
from keras_arch.layers.bahdanau_attention import BahdanauAttention

layers = keras.layers


def seq2seq(vocab_size=23, num_classes=None, max_length=25, embed_dim=32, units=128, attention=True):
    """Inputs {"source": ids, "target_in": START + target ids}; output: next-token
    probabilities (batch, target_time, vocab). ``attention=False`` is the same
    decoder reading only the encoder's final state."""
    source = keras.Input(shape=(None,), dtype="int32", name="source")
    target_in = keras.Input(shape=(None,), dtype="int32", name="target_in")
    x = layers.Embedding(vocab_size, embed_dim, mask_zero=True, name="source_embedding")(source)
    encoded, h, c = layers.LSTM(units, return_sequences=True, return_state=True, name="encoder")(x)
    y = layers.Embedding(vocab_size, embed_dim, mask_zero=True, name="target_embedding")(target_in)
    decoded = layers.LSTM(units, return_sequences=True, name="decoder")(y, initial_state=[h, c])
    if attention:  # decoder state queries every encoder position
        context, _ = BahdanauAttention(units, name="attention")([decoded, encoded])  # (batch, tgt, units)
        decoded = layers.Concatenate(name="with_context")([decoded, context])
    hidden = layers.Dense(units, activation="tanh", name="hidden")(decoded)
    outputs = layers.Dense(vocab_size, activation="softmax", dtype="float32", name="probabilities")(hidden)
    name = "seq2seq_bahdanau" if attention else "seq2seq_plain"
    return keras.Model({"source": source, "target_in": target_in}, outputs, name=name)


def greedy_decode(model, source, max_length):
    """Feed back the argmax token at each step; tokens after END become 0.
    Re-runs the teacher-forcing graph on the growing prefix: exact greedy
    decoding, O(T^2) but graph-friendly (it exports as a serving signature)."""
    batch = tf.shape(source)[0]
    tokens = tf.fill([batch, 1], START)
    for _ in tf.range(max_length):  # a tf.while_loop in graphs: one copy of the model
        tf.autograph.experimental.set_loop_options(shape_invariants=[(tokens, tf.TensorShape([None, None]))])
        probs = model({"source": source, "target_in": tokens}, training=False)  # (batch, t+1, vocab)
        next_token = tf.argmax(probs[:, -1], axis=-1, output_type=tf.int32)
        tokens = tf.concat([tokens, next_token[:, None]], axis=1)
    out = tokens[:, 1:]  # (batch, max_length)
    ended = tf.cumsum(tf.cast(tf.equal(out, END), tf.int32), axis=1, exclusive=True) > 0
    return tf.where(ended, tf.zeros_like(out), out)


def signatures(model, recipe):
    """serving_default: source ids -> greedy tokens; next_token_probabilities:
    the teacher-forcing step."""
    max_length = recipe.builder_kwargs.get("max_length", 25)

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name="source")])
    def serve(source):
        return {"tokens": greedy_decode(model, source, max_length)}

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name="source"),
                                  tf.TensorSpec([None, None], tf.int32, name="target_in")])
    def step(source, target_in):
        return {"probabilities": model({"source": source, "target_in": target_in}, training=False)}

    return {"serving_default": serve, "next_token_probabilities": step}


def serving_samples(splits, n):
    _, x, _ = splits.eval_split()
    return {"serving_default": {"source": x["source"][:n]},
            "next_token_probabilities": {"source": x["source"][:n], "target_in": x["target_in"][:n]}}
