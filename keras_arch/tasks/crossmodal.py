"""``run crossmodal``: the two-tower image–text model of document 004 §3.2/§4.2
trained with symmetric InfoNCE plus the fused digit classifier; reports
recall@1 and @5 image→text and text→image on held-out pairs.

Captions describe only the digit, so many held-out captions are equally right
for an image: a retrieval counts as correct when the retrieved caption (or
image) shows the same digit as the query's pair.
"""
import numpy as np

from keras_arch import plots
from keras_arch.data.splits import batched
from keras_arch.reasons import SEVERAL_OUTPUTS
from keras_arch.tasks.base import Task

SIMILARITY_WEIGHT, DIGIT_WEIGHT = 1.0, 0.5


def embed(model, x, batch_size=256):
    """(image embeddings, text embeddings), L2-normalised."""
    image_tower, text_tower = model.get_layer("image_tower"), model.get_layer("text_tower")
    images = image_tower.predict(batched(x["image"], batch_size), verbose=0)[1]
    texts = text_tower.predict(batched(x["caption"], batch_size), verbose=0)[1]
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
    digit = model.predict(batched(x, 256), verbose=0)["digit"]
    metrics["fused_digit_accuracy"] = float((digit.argmax(1) == y).mean())
    metrics["temperature"] = float(1.0 / model.get_layer("similarity").scale.numpy())
    return metrics


class CrossModalTask(Task):
    """The two-tower model: symmetric InfoNCE on the (batch, batch)
    similarity logits plus the fused digit classifier, weights 1.0 / 0.5.
    One epoch-keyed fit (drop_remainder: a last batch of 1 is a 1x1
    similarity matrix with nothing to contrast); resumable.

    Args:
        recipe: the arch's recipe.
        config: the run's :class:`keras_arch.config.RunConfig`.
    """
    no_full_batch = "InfoNCE builds a (batch, batch) similarity matrix: all training pairs at once is too large"
    no_compression = {flag: SEVERAL_OUTPUTS for flag in ("--prune", "--qat", "--tflite")}
    drop_remainder = True  # a last batch of 1 is a 1x1 similarity matrix with nothing to contrast

    def targets(self, y):
        return {"similarity": np.zeros(len(y), np.float32), "digit": y}

    def compile_model(self, model, settings, steps_per_epoch):
        from keras_arch.losses import symmetric_infonce
        from keras_arch.training.schedules import optimizer_for
        model.compile(optimizer=optimizer_for(settings, steps_per_epoch),
                      loss={"similarity": symmetric_infonce, "digit": "sparse_categorical_crossentropy"},
                      loss_weights={"similarity": SIMILARITY_WEIGHT, "digit": DIGIT_WEIGHT},
                      metrics={"digit": ["accuracy"]}, jit_compile=settings.jit)
        return model

    def evaluate(self, fitted, splits, settings):
        split, x, y = splits.eval_split()
        return {f"{split}_{k}": v for k, v in evaluate(fitted.model, x, y).items()}

    def data_row(self, splits, metrics):
        split, _, y = splits.eval_split()
        return (f"{splits.name} image-caption pairs (train {len(splits.y_train)}, "
                f"val {len(splits.y_val)}, {split} {len(y)})")

    def summary_rows(self, m):
        s = m["eval_split"]
        return [(f"{s} recall@1 image→text", f"{m[f'{s}_image_to_text_recall@1']:.4f}"),
                (f"{s} recall@1 text→image", f"{m[f'{s}_text_to_image_recall@1']:.4f}"),
                (f"{s} recall@5 i→t / t→i",
                 f"{m[f'{s}_image_to_text_recall@5']:.4f} / {m[f'{s}_text_to_image_recall@5']:.4f}"),
                (f"{s} fused digit accuracy", f"{m[f'{s}_fused_digit_accuracy']:.4f}"),
                ("learned temperature", f"{m[f'{s}_temperature']:.4f}")]

    def plots(self, model, splits, metrics, directory):
        return [plots.similarity_matrix(*similarity_pairs(model, splits), directory)[0]]

    def signatures(self, model):
        return signatures(model)

    def serving_samples(self, splits, n=8):
        return serving_samples(splits, n)


def similarity_pairs(model, splits, per_class=4):
    """(image embeddings, caption embeddings, captions, digits) of
    ``per_class`` held-out pairs of each digit, sorted by digit: what
    :func:`keras_arch.plots.similarity_matrix` draws."""
    _, x, y = splits.eval_split()
    pick = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in np.unique(y)])
    images, texts = embed(model, {k: v[pick] for k, v in x.items()})
    return images, texts, x["caption"][pick], y[pick]


def signatures(model):
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
