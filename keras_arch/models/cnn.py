"""Convolutional builders for documents 000 and 001.

Each reproduces a document's code example as a functional model with a
softmax output named ``probabilities``.
"""
from keras_arch.backend import keras

layers = keras.layers


def _conv_block(x, filters, batch_norm, name):
    """Conv -> (BatchNorm) -> ReLU. With batch norm the conv has no bias (BN's
    beta replaces it) and the ReLU comes after BN, the order TFMOT can fold."""
    if not batch_norm:
        return layers.Conv2D(filters, 3, activation="relu", name=name)(x)
    x = layers.Conv2D(filters, 3, use_bias=False, name=name)(x)
    # momentum 0.9 (PyTorch's 0.1), not Keras's 0.99: the moving statistics
    # start at mean 0, variance 1 and forget that start as momentum**steps. At
    # 0.99 a 3-epoch run on the 1,257 digits (120 steps) still carries 30% of
    # the initial variance and scores 0.74 against 0.99 in training mode.
    x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def doc000_cnn(input_shape=(28, 28, 1), num_classes=10, batch_norm=False, dropout=0.0):
    """Document 000 §4.1 "CNN实现": Conv32-Pool-Conv64-Pool-Conv64-Flatten-Dense64-Dense10.

    ``batch_norm=False, dropout=0`` is the document's model exactly (93,322
    parameters on 28x28x1). ``batch_norm=True`` puts BatchNorm between each conv
    and its ReLU, which trains faster at a higher learning rate and quantizes
    with BN folding; ``dropout`` adds Dropout before the Dense(64) layer.
    """
    images = keras.Input(shape=input_shape, name="image")
    x = _conv_block(images, 32, batch_norm, "conv1")  # (batch, 26, 26, 32)
    x = layers.MaxPooling2D(2, name="pool1")(x)  # (batch, 13, 13, 32)
    x = _conv_block(x, 64, batch_norm, "conv2")  # (batch, 11, 11, 64)
    x = layers.MaxPooling2D(2, name="pool2")(x)  # (batch, 5, 5, 64)
    x = _conv_block(x, 64, batch_norm, "conv3")  # (batch, 3, 3, 64)
    x = layers.Flatten(name="flatten")(x)  # (batch, 576)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    x = layers.Dense(64, activation="relu", name="dense")(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(images, outputs, name="doc000_cnn")


def doc001_cnn(input_shape=(28, 28, 1), num_classes=10):
    """Document 001 "CNN实现" (functional API), corrected.

    As written the document builds ``Dense(10)`` but never calls it, then passes
    the layer object as ``outputs=`` to ``tf.keras.Model``, which fails. Here the
    Dense layer is applied to the flattened features: Conv32-Pool-Flatten-Dense10
    (54,410 parameters on 28x28x1).
    """
    images = keras.Input(shape=input_shape, name="image")
    x = layers.Conv2D(32, (3, 3), activation="relu", name="conv1")(images)  # (batch, 26, 26, 32)
    x = layers.MaxPooling2D((2, 2), name="pool1")(x)  # (batch, 13, 13, 32)
    x = layers.Flatten(name="flatten")(x)  # (batch, 5408)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(images, outputs, name="doc001_cnn")


def simple_mnist_convnet(input_shape=(28, 28, 1), num_classes=10):
    """The keras-io "Simple MNIST convnet" recipe, written from its published
    description (Conv32-Pool-Conv64-Pool, Flatten, Dropout 0.5, Dense softmax).
    The baseline the CNN benchmark compares with; 34,826 parameters."""
    images = keras.Input(shape=input_shape, name="image")
    x = layers.Conv2D(32, 3, activation="relu", name="conv1")(images)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(64, 3, activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)  # (batch, 1600)
    x = layers.Dropout(0.5, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(images, outputs, name="simple_mnist_convnet")


def tiny_cnn(input_shape=(28, 28, 1), num_classes=10):
    """A student for distillation (document 002 §3.3): Conv8-Pool-Conv16-Pool-Dense10,
    5,258 parameters, under a tenth of the 93,802-parameter ``cnn`` teacher."""
    images = keras.Input(shape=input_shape, name="image")
    x = layers.Conv2D(8, 3, activation="relu", name="conv1")(images)  # (batch, 26, 26, 8)
    x = layers.MaxPooling2D(2, name="pool1")(x)  # (batch, 13, 13, 8)
    x = layers.Conv2D(16, 3, activation="relu", name="conv2")(x)  # (batch, 11, 11, 16)
    x = layers.MaxPooling2D(2, name="pool2")(x)  # (batch, 5, 5, 16)
    x = layers.Flatten(name="flatten")(x)  # (batch, 400)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(images, outputs, name="tiny_cnn")
