"""Recurrent builders for documents 000 and 001."""
from keras_arch.backend import keras

layers = keras.layers


def doc000_stacked_lstm(input_shape=(100, 64), num_classes=10):
    """Document 000 §4.2 "RNN实现": LSTM(128, return_sequences) x2 -> Dense(64, relu)
    -> Dense(10, softmax), a label for every timestep (239,306 parameters)."""
    x_in = keras.Input(shape=input_shape, name="sequence")  # (batch, 100, 64)
    x = layers.LSTM(128, return_sequences=True, name="lstm1")(x_in)  # (batch, 100, 128)
    x = layers.LSTM(128, return_sequences=True, name="lstm2")(x)  # (batch, 100, 128)
    x = layers.Dense(64, activation="relu", name="dense")(x)  # (batch, 100, 64)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="probabilities")(x)  # (batch, 100, 10)
    return keras.Model(x_in, outputs, name="doc000_stacked_lstm")


def doc001_lstm_classifier(input_shape=(None, 28), num_classes=10):
    """Document 001 "RNN实现", corrected: Input(None, num_features) -> LSTM(64) ->
    Dense(num_classes, softmax). As written the document never applies its Dense
    layer (and leaves num_features and num_classes undefined). Variable length:
    the time axis stays None whatever shape the data has."""
    x_in = keras.Input(shape=(None, input_shape[-1]), name="sequence")  # (batch, time, features)
    x = layers.LSTM(64, name="lstm")(x_in)  # (batch, 64)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(x_in, outputs, name="doc001_lstm_classifier")


def simple_rnn_unit(units, input_dim):
    """One SimpleRNN and Dense for the formulas h_t = f(W x_t + U h_{t-1} + b) and
    y_t = g(W h_t + b) of documents 001 and 003 (checked against NumPy in the tests)."""
    x_in = keras.Input(shape=(None, input_dim), name="sequence")
    h = layers.SimpleRNN(units, activation="tanh", return_sequences=True, name="rnn")(x_in)
    y = layers.Dense(input_dim, activation="sigmoid", dtype="float32", name="output")(h)
    return keras.Model(x_in, y, name="simple_rnn")
