"""Early-exit classifier (document 002 §3.4: a network that adapts its
computation to its input). A CNN in three stages, each followed by a
classifier head; at inference an example leaves at the first head whose
softmax confidence exceeds a threshold (BranchyNet, Teerapittayanon et al.
2016), so easy digits cost a fraction of the full network.

Stages and heads are separate sub-models so that inference really skips the
later stages: ``predict`` runs stage i only on the examples still in flight.
"""
import numpy as np

from keras_arch.backend import keras
from keras_arch.models.flops import forward_flops
from keras_arch.quiet import tf_logger_level

NUM_EXITS = 3


def early_exit_cnn(input_shape=(28, 28, 1), num_classes=10):
    """image -> {"exit_1", "exit_2", "exit_3"} probabilities (train all heads together)."""
    layers = keras.layers

    def stage(i, filters, shape):
        x_in = keras.Input(shape)
        x = layers.Conv2D(filters, 3, activation="relu", padding="same")(x_in)
        x = layers.MaxPooling2D()(x)  # halves height and width
        return keras.Model(x_in, x, name=f"stage_{i}")

    def head(i, shape, hidden=None):
        x_in = keras.Input(shape)
        x = layers.Flatten()(x_in)  # position matters: global pooling made exit 1 a 0.2-accuracy head
        if hidden:
            x = layers.Dense(hidden, activation="relu")(x)
        return keras.Model(x_in, layers.Dense(num_classes, activation="softmax", dtype="float32")(x), name=f"exit_{i}")

    image = keras.Input(input_shape, name="image")
    x, outputs = image, {}
    for i, filters in enumerate((16, 32, 64), start=1):
        s = stage(i, filters, x.shape[1:])
        x = s(x)  # (batch, h / 2^i, w / 2^i, filters)
        outputs[f"exit_{i}"] = head(i, x.shape[1:], hidden=64 if i == NUM_EXITS else None)(x)
    return keras.Model(image, outputs, name="early_exit_cnn")


def stage_flops(model):
    """[(stage FLOPs, head FLOPs)] per exit, per example."""
    return [(forward_flops(model.get_layer(f"stage_{i}")), forward_flops(model.get_layer(f"exit_{i}")))
            for i in range(1, NUM_EXITS + 1)]


def predict(model, x, threshold, batch_size=512):
    """Early-exit inference: (predicted classes, exit index 0..2, FLOPs spent)
    per example. An example exits at head i when max softmax > ``threshold``
    (strict: 1.0 never exits early, 0 always exits at the first head); the
    last head answers the rest."""
    costs = stage_flops(model)
    n = len(x)
    preds, exits = np.zeros(n, np.int64), np.full(n, NUM_EXITS - 1)
    flops = np.zeros(n, np.int64)
    active, feats = np.arange(n), x
    for i in range(NUM_EXITS):
        if len(active) == 0:
            break
        feats = _batched(model.get_layer(f"stage_{i + 1}"), feats, batch_size)
        probs = _batched(model.get_layer(f"exit_{i + 1}"), feats, batch_size)
        flops[active] += sum(costs[i])
        leave = np.ones(len(active), bool) if i == NUM_EXITS - 1 else probs.max(1) > threshold
        preds[active[leave]] = probs[leave].argmax(1)
        exits[active[leave]] = i
        active, feats = active[~leave], feats[~leave]
    return preds, exits, flops


def _batched(submodel, x, batch_size):
    """submodel(x) in batches through one batch-polymorphic tf.function (the
    shrinking in-flight set would retrace predict() at every size)."""
    import tensorflow as tf
    if not hasattr(submodel, "_early_exit_fn"):
        spec = tf.TensorSpec([None, *submodel.input_shape[1:]], tf.float32)
        submodel._early_exit_fn = tf.function(lambda t: submodel(t, training=False), input_signature=[spec])
    with tf_logger_level():  # one trace per submodel, by design: not the retracing the warning means
        # float32 in: a stage's output is bfloat16 under mixed_bfloat16 (exact in float32; the stage casts back)
        parts = [submodel._early_exit_fn(tf.cast(tf.constant(x[s:s + batch_size]), tf.float32)).numpy()
                 for s in range(0, len(x), batch_size)]
    return np.concatenate(parts) if parts else np.zeros((0,) + tuple(submodel.output_shape[1:]), np.float32)


def tradeoff(model, x, y, thresholds=(0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 1.0)):
    """Accuracy, mean FLOPs (absolute and relative to the full network) and
    the share of examples leaving at each exit, per threshold."""
    full = sum(s + h for s, h in stage_flops(model)[:-1]) + sum(stage_flops(model)[-1])
    last_only = sum(s for s, _ in stage_flops(model)) + stage_flops(model)[-1][1]
    rows = []
    for t in thresholds:
        preds, exits, flops = predict(model, x, t)
        rows.append({"threshold": t, "accuracy": float((preds == y).mean()), "mean_flops": float(flops.mean()),
                     "relative_compute": float(flops.mean() / last_only),
                     "exit_shares": [float((exits == i).mean()) for i in range(NUM_EXITS)]})
    return rows, {"all_heads_flops": full, "plain_network_flops": last_only}
