"""Mixture-of-experts models (document 002 §3.4, adaptive networks): the
Transformer classifier with a MixtureOfExperts feed-forward in every block,
and a residual MLP whose hidden blocks are mixtures of experts."""
from keras_arch.backend import keras
from keras_arch.data.splits import batched
from keras_arch.layers.mixture_of_experts import MixtureOfExperts
from keras_arch.models.attention import transformer_classifier


def moe_transformer_classifier(vocab_size=10_000, num_classes=2, input_shape=(50,), embed_dim=64, num_heads=4,
                               num_blocks=1, dropout=0.1, num_experts=4, top_k=1, expert_units=128,
                               capacity_factor=1.25, aux_loss_weight=0.01):
    """transformer_classifier whose feed-forward is a mixture of ``num_experts``
    experts of ``expert_units`` hidden units; ``top_k`` are active per token."""
    def experts():
        return MixtureOfExperts(num_experts, expert_units, top_k, capacity_factor, aux_loss_weight, name="moe")
    model = transformer_classifier(vocab_size, num_classes, input_shape, embed_dim, num_heads,
                                   ff_dim=expert_units, num_blocks=num_blocks, dropout=dropout, feed_forward=experts)
    model._name = "moe_transformer_classifier"
    return model


def moe_mlp(input_shape, num_classes=10, width=64, num_blocks=2, num_experts=4, top_k=1, expert_units=128,
            capacity_factor=1.25, aux_loss_weight=0.01):
    """Flatten -> Dense(width) -> [x + MoE(x), LayerNorm] x num_blocks -> softmax."""
    inputs = keras.Input(input_shape, name="inputs")
    x = keras.layers.Dense(width, activation="relu")(keras.layers.Flatten()(inputs))  # (batch, width)
    for i in range(num_blocks):
        moe = MixtureOfExperts(num_experts, expert_units, top_k, capacity_factor, aux_loss_weight, name=f"moe_{i}")
        x = keras.layers.LayerNormalization(name=f"norm_{i}")(x + moe(x))  # dropped examples pass through
    outputs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="moe_mlp")


def moe_layers(model):
    found = []
    for layer in model.layers:
        if isinstance(layer, MixtureOfExperts):
            found.append((layer.name, layer))
        elif isinstance(getattr(layer, "feed_forward", None), MixtureOfExperts):
            found.append((f"{layer.name}/{layer.feed_forward.name}", layer.feed_forward))
    return found


def expert_load(model, splits, batch_size=256):
    """Per-expert load of every MoE layer over the eval split (inference
    counters): the fraction of tokens each expert processed and the dropped fraction."""
    _, x, _ = splits.eval_split()
    layers = moe_layers(model)
    for _, layer in layers:
        layer.reset_counts()
    model.predict(batched(x, batch_size), verbose=0)
    report, rows = {}, []
    for name, layer in layers:
        c = layer.counts()
        report[f"{name}_expert_load"] = [round(float(v), 4) for v in c["load"]]
        report[f"{name}_dropped_fraction"] = c["dropped"]
        rows.append((f"{name} expert load", " / ".join(f"{v:.3f}" for v in c["load"])
                     + f" (dropped {c['dropped']:.3f} of {c['tokens']:,} tokens)"))
    report["report_rows"] = rows
    return report
