"""``run bert``: fine-tune the document 001 BERT classifier on raw sentences.

Tokenization runs in the tf.data pipeline with the same in-graph tokenizer the
export uses, padding each batch to its own longest sentence (dynamic padding,
never to 512). AdamW, linear warmup (10%) then linear decay, global gradient
clipping at 1.0.
"""
import time

import numpy as np

from keras_arch import registry
from keras_arch.data.splits import Splits

GENERATED = 800  # embedded default: small enough to fine-tune offline in minutes


def load(dataset="generated", data_dir=None, test_dir=None):
    from keras_arch.data import text
    x_train, y_train, x_val, y_val, x_test, y_test, classes, name = text.load_raw(
        dataset, data_dir, test_dir, generated=GENERATED)
    as_str = lambda a: np.array([str(t) for t in a], dtype=object)  # noqa: E731
    return Splits(name, as_str(x_train), y_train, as_str(x_val), y_val, len(classes), as_str(x_test), y_test)


def tokenizer_for(pretrained, max_length):
    from keras_arch.data.bert_tokenizer import InGraphBertTokenizer, read_vocab
    from keras_arch.models.bert_classifier import vocab_path
    return InGraphBertTokenizer(read_vocab(vocab_path(pretrained)), max_length)


def make_dataset(texts, labels, tokenizer, batch_size, shuffle=False, seed=0, fixed_length=None):
    """Batches of raw text tokenized in-graph; ``fixed_length`` pads every batch
    to that length instead (the baseline the benchmark compares with)."""
    import tensorflow as tf
    ds = tf.data.Dataset.from_tensor_slices((texts.astype(str), labels))
    if shuffle:
        ds = ds.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)

    def encode(t, y):
        features = tokenizer(t)
        if fixed_length:
            features = {k: tf.pad(v, [[0, 0], [0, fixed_length - tf.shape(v)[1]]]) for k, v in features.items()}
        return features, y
    return ds.batch(batch_size).map(encode, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def compile_for_fine_tuning(model, learning_rate, steps, warmup_fraction=0.1):
    from keras_arch.training.schedules import make_optimizer, make_schedule
    schedule = make_schedule("warmup-linear", learning_rate, steps, int(steps * warmup_fraction))
    model.compile(optimizer=make_optimizer("adamw", schedule, clipnorm=1.0),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def run(name, options):
    from keras_arch.training.trainer import run_metrics, seed_everything
    recipe = registry.get(name)
    cfg = options.resolved(recipe)
    splits = load(cfg["dataset"], options.data_dir, options.test_dir)
    cfg = options.resolved(recipe, splits.family)
    seed_everything(options.seed)
    kwargs = dict(recipe.builder_kwargs, pretrained=options.pretrained or recipe.builder_kwargs.get("pretrained"),
                  freeze_encoder=options.freeze_encoder)
    model = registry.resolve(recipe.builder)(num_classes=splits.num_classes, **kwargs)
    tokenizer = tokenizer_for(kwargs["pretrained"], options.max_length)
    bs = cfg["batch_size"]
    train = make_dataset(splits.x_train, splits.y_train, tokenizer, bs, shuffle=True, seed=options.seed)
    val = make_dataset(splits.x_val, splits.y_val, tokenizer, bs)
    steps = cfg["epochs"] * -(-len(splits.y_train) // bs)
    compile_for_fine_tuning(model, cfg["learning_rate"], steps)
    start = time.perf_counter()
    from keras_arch.training.trainer import standard_callbacks
    history = model.fit(train, validation_data=val, epochs=cfg["epochs"], verbose=0 if options.quiet else 1,
                        callbacks=standard_callbacks(options))
    seconds = time.perf_counter() - start
    _, x, y = splits.eval_split()
    loss, accuracy = model.evaluate(make_dataset(x, y, tokenizer, bs), verbose=0)
    config = dict(cfg, pretrained=kwargs["pretrained"], max_length=options.max_length,
                  freeze_encoder=options.freeze_encoder)
    metrics = run_metrics(name, splits, model, accuracy, loss, cfg["epochs"], seconds, config, history.history)
    if options.export:
        from keras_arch.serving.export import export_servable
        from keras_arch.serving.warmup import sample_requests
        sigs = signatures(model, recipe, tokenizer)
        requests = [r for sig, inputs in serving_samples(splits, 8, tokenizer).items()
                    for r in sample_requests(sig, inputs)]
        metrics["export_path"] = export_servable(model, options.export, name, sigs, requests)
    return model, metrics


def signatures(model, recipe, tokenizer=None):
    """serving_default: raw sentences (tf.string [batch]) -> probabilities, tokenized
    in the graph (TF Serving needs TF-Text's ops); token_ids: the three id tensors."""
    import tensorflow as tf
    from keras_arch.models.bert_classifier import INPUTS
    from keras_arch.serving.signatures import check_shape
    tokenizer = tokenizer or tokenizer_for(recipe.builder_kwargs.get("pretrained"), 128)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve(text):
        return {"probabilities": model(tokenizer(check_shape(text, [None], "text")), training=False)}

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name=n) for n in INPUTS])
    def token_ids(input_ids, attention_mask, token_type_ids):
        return {"probabilities": model({"input_ids": input_ids, "attention_mask": attention_mask,
                                        "token_type_ids": token_type_ids}, training=False)}

    return {"serving_default": serve, "token_ids": token_ids}


def serving_samples(splits, n, tokenizer=None):
    _, x, _ = splits.eval_split()
    tokenizer = tokenizer or tokenizer_for("minilm", 128)
    ids = {k: v.numpy() for k, v in tokenizer(x[:n].astype(str)).items()}
    return {"serving_default": {"text": x[:n].astype(object)}, "token_ids": ids}
