"""Multi-task (cross-task) learning, document 000 §3.3 and document 002 §3.4:
one shared convolutional trunk, two heads, trained on a weighted sum of their
losses. Here: the digit (10 classes) and its parity (odd/even)."""
from keras_arch.backend import keras

layers = keras.layers


def multitask_cnn(input_shape=(28, 28, 1), num_classes=10, num_aux_classes=2, dropout=0.25):
    """image -> {"digit": (batch, num_classes), "parity": (batch, num_aux_classes)}."""
    image = keras.Input(input_shape, name="image")
    x = layers.Conv2D(32, 3, activation="relu")(image)
    x = layers.MaxPooling2D()(x)  # (batch, 13, 13, 32)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.MaxPooling2D()(x)  # (batch, 5, 5, 64)
    x = layers.Dropout(dropout)(layers.Flatten()(x))
    shared = layers.Dense(64, activation="relu", name="shared")(x)  # what both tasks read
    digit = layers.Dense(num_classes, activation="softmax", dtype="float32", name="digit")(shared)
    parity = layers.Dense(num_aux_classes, activation="softmax", dtype="float32", name="parity")(shared)
    return keras.Model(image, {"digit": digit, "parity": parity}, name="multitask_cnn")
