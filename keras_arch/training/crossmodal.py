"""``run crossmodal``: the two-tower image–text model of document 004 §3.2/§4.2
trained with symmetric InfoNCE plus the fused digit classifier; reports
recall@1 and @5 image→text and text→image on held-out pairs.

Captions describe only the digit, so many held-out captions are equally right
for an image: a retrieval counts as correct when the retrieved caption (or
image) shows the same digit as the query's pair.
"""
import time

import numpy as np

from keras_arch import registry
from keras_arch.backend import keras

SIMILARITY_WEIGHT, DIGIT_WEIGHT = 1.0, 0.5


@keras.utils.register_keras_serializable(package="keras_arch")
def symmetric_infonce(y_true, logits):
    """Mean of the image→text and text→image cross-entropies of the (batch,
    batch) similarity logits, whose diagonal holds the true pairs (y_true unused)."""
    import tensorflow as tf
    labels = tf.range(tf.shape(logits)[0])
    i2t = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
    t2i = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, tf.transpose(logits))
    return (i2t + t2i) / 2.0  # (batch,)


def dataset(x, y, batch_size, shuffle=False, seed=0):
    import tensorflow as tf
    ds = tf.data.Dataset.from_tensor_slices((x, {"similarity": np.zeros(len(y), np.float32), "digit": y})).cache()
    if shuffle:
        ds = ds.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    # drop_remainder: a last batch of 1 is a 1x1 similarity matrix with nothing to contrast.
    return ds.batch(batch_size, drop_remainder=shuffle).prefetch(tf.data.AUTOTUNE)


def embed(model, x, batch_size=256):
    """(image embeddings, text embeddings), L2-normalised."""
    image_tower, text_tower = model.get_layer("image_tower"), model.get_layer("text_tower")
    images = image_tower.predict(x["image"], batch_size=batch_size, verbose=0)[1]
    texts = text_tower.predict(x["caption"], batch_size=batch_size, verbose=0)[1]
    normalise = lambda v: v / np.linalg.norm(v, axis=1, keepdims=True)  # noqa: E731
    return normalise(images), normalise(texts)


def retrieval(similarity, labels, ks=(1, 5)):
    """recall@k both ways for a (images, captions) similarity matrix of pairs
    (image i with caption i): a hit shows the query's digit."""
    out = {}
    for name, sim in (("image_to_text", similarity), ("text_to_image", similarity.T)):
        order = np.argsort(-sim, axis=1, kind="stable")
        for k in ks:
            hits = (labels[order[:, :k]] == labels[:, None]).any(axis=1)
            out[f"{name}_recall@{k}"] = float(hits.mean())
    return out


def evaluate(model, x, y):
    images, texts = embed(model, x)
    metrics = retrieval(images @ texts.T, np.asarray(y))
    digit = model.predict(x, batch_size=256, verbose=0)["digit"]
    metrics["fused_digit_accuracy"] = float((digit.argmax(1) == y).mean())
    metrics["temperature"] = float(1.0 / model.get_layer("similarity").scale.numpy())
    return metrics


def run(name, options):
    from keras_arch.training.trainer import finish, prepare, seed_everything, standard_callbacks
    from keras_arch.training.schedules import optimizer_for
    recipe, cfg, splits = prepare(name, options)
    seed_everything(options.seed, deterministic=not options.jit)
    model = registry.build(name, **splits.model_args())
    model.compile(optimizer=optimizer_for(cfg, len(splits.y_train) // cfg["batch_size"]),
                  loss={"similarity": symmetric_infonce, "digit": "sparse_categorical_crossentropy"},
                  loss_weights={"similarity": SIMILARITY_WEIGHT, "digit": DIGIT_WEIGHT},
                  metrics={"digit": ["accuracy"]}, jit_compile=bool(cfg.get("jit")))
    callbacks = standard_callbacks(options)
    if options.checkpoint_dir:
        from keras_arch.training import checkpoints
        callbacks += checkpoints.callbacks(options.checkpoint_dir, {
            "arch": name, "model_args": splits.model_args(structure_only=True), "config": cfg})
    start = time.perf_counter()
    history = model.fit(dataset(splits.x_train, splits.y_train, cfg["batch_size"], True, options.seed),
                        validation_data=dataset(splits.x_val, splits.y_val, cfg["batch_size"]),
                        epochs=cfg["epochs"], verbose=0 if options.quiet else 1, callbacks=callbacks)
    seconds = time.perf_counter() - start
    split, x, y = splits.eval_split()
    m = evaluate(model, x, y)
    metrics = {"arch": name, "eval_split": split, **{f"{split}_{k}": v for k, v in m.items()},
               "epochs": cfg["epochs"], "train_seconds": round(seconds, 3),
               "samples_per_second": round(len(splits.y_train) * cfg["epochs"] / seconds, 1),
               "parameters": int(model.count_params()), "data": {"name": splits.name, **splits.sizes()},
               "history": {k: [float(v) for v in vals] for k, vals in history.history.items()}, "config": cfg}
    metrics["summary"] = [
        ("arch", name), ("data", f"{splits.name} image-caption pairs (train {len(splits.y_train)}, "
                                 f"val {len(splits.y_val)}, {split} {len(y)})"),
        (f"{split} recall@1 image→text", f"{m['image_to_text_recall@1']:.4f}"),
        (f"{split} recall@1 text→image", f"{m['text_to_image_recall@1']:.4f}"),
        (f"{split} recall@5 i→t / t→i", f"{m['image_to_text_recall@5']:.4f} / {m['text_to_image_recall@5']:.4f}"),
        (f"{split} fused digit accuracy", f"{m['fused_digit_accuracy']:.4f}"),
        ("learned temperature", f"{m['temperature']:.4f}"),
        ("epochs", cfg["epochs"]), ("training seconds", f"{seconds:.1f}"),
        ("parameters", f"{model.count_params():,}")]
    from keras_arch import plots
    return finish(name, model, recipe, splits, options, metrics,
                  [lambda d: plots.similarity_matrix(*similarity_pairs(model, splits), d)[0]])


def similarity_pairs(model, splits, per_class=4):
    """(image embeddings, caption embeddings, captions, digits) of
    ``per_class`` held-out pairs of each digit, sorted by digit: what
    :func:`keras_arch.plots.similarity_matrix` draws."""
    _, x, y = splits.eval_split()
    pick = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in np.unique(y)])
    images, texts = embed(model, {k: v[pick] for k, v in x.items()})
    return images, texts, x["caption"][pick], y[pick]


def signatures(model, recipe):
    """embed_image, embed_text (strings in: the model tokenizes) and
    serving_default = the fused digit classifier over (image, caption)."""
    import tensorflow as tf
    image_shape = [None, *model.get_layer("image_tower").input_shape[1:]]
    image_tower, text_tower = model.get_layer("image_tower"), model.get_layer("text_tower")
    image_spec = tf.TensorSpec(image_shape, tf.float32, name="image")
    text_spec = tf.TensorSpec([None], tf.string, name="caption")

    @tf.function(input_signature=[image_spec])
    def embed_image(image):
        e = image_tower(image, training=False)[1]
        return {"embedding": tf.math.l2_normalize(e, axis=-1)}

    @tf.function(input_signature=[text_spec])
    def embed_text(caption):
        e = text_tower(caption, training=False)[1]
        return {"embedding": tf.math.l2_normalize(e, axis=-1)}

    @tf.function(input_signature=[image_spec, text_spec])
    def classify(image, caption):
        out = model({"image": image, "caption": caption}, training=False)
        return {"probabilities": out["digit"]}

    return {"serving_default": classify, "embed_image": embed_image, "embed_text": embed_text}


def serving_samples(splits, n):
    _, x, _ = splits.eval_split()
    image, caption = x["image"][:n], x["caption"][:n].astype(object)  # object: what TF Serving's string tensors decode to
    return {"serving_default": {"image": image, "caption": caption},
            "embed_image": {"image": image}, "embed_text": {"caption": caption}}
