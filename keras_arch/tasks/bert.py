"""``run bert`` (:class:`BertTask`): fine-tune the document 001 BERT classifier on raw sentences.

Tokenization runs in the tf.data pipeline with the same in-graph tokenizer the
export uses, padding each batch to its own longest sentence (dynamic padding,
never to 512). AdamW, linear warmup (10%) then linear decay, global gradient
clipping at 1.0.
"""
import functools

import numpy as np

from keras_arch import registry
from keras_arch.config import dataset_name
from keras_arch.data import text
from keras_arch.data.splits import Splits, prefetched
from keras_arch.models.bert_config import INPUTS, MAX_LENGTH, TINY, check_dir, check_max_length, vocab_path
from keras_arch.tasks.base import Task

GENERATED = 800  # embedded default: small enough to fine-tune offline in minutes


def load(dataset="generated", data_dir=None, test_dir=None, max_length=MAX_LENGTH):
    """Raw sentences, each cut to the ``max_length`` words the encoder can read at most."""
    x_train, y_train, x_val, y_val, x_test, y_test, classes, name = text.load_raw(
        dataset, data_dir, test_dir, generated=GENERATED, max_words=max_length)
    as_str = lambda a: np.array([str(t) for t in a], dtype=object)  # noqa: E731
    return Splits(name, as_str(x_train), y_train, as_str(x_val), y_val, len(classes), as_str(x_test), y_test)


def tokenizer_for(pretrained, max_length):
    from keras_arch.data.bert_tokenizer import InGraphBertTokenizer, read_vocab
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
    return prefetched(ds.batch(batch_size).map(encode, num_parallel_calls=tf.data.AUTOTUNE))


def compile_for_fine_tuning(model, learning_rate, steps, warmup_fraction=0.1, jit=False):
    """AdamW (weight decay 0.01; :class:`keras_arch.training.schedules.FusedAdamW`),
    10% linear warmup then linear decay to 0, global clipping at 1.0."""
    from keras_arch.training.schedules import make_optimizer, make_schedule
    schedule = make_schedule("warmup-linear", learning_rate, steps, int(steps * warmup_fraction))
    model.compile(optimizer=make_optimizer("adamw", schedule, clipnorm=1.0), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=jit)
    return model


class BertTask(Task):
    """Fine-tune the document 001 BERT classifier on raw sentences: the
    in-graph tokenizer in the tf.data pipeline (dynamic padding), AdamW with
    10% linear warmup then linear decay, global clipping at 1.0. The export
    takes raw strings.

    Args:
        recipe: the arch's recipe.
        config: the run's :class:`keras_arch.config.RunConfig`.
    """
    own_options = ("--pretrained", "--max-length", "--freeze-encoder")
    no_full_batch = "fine-tuning a pretrained encoder on every sentence at once does not fit in memory"
    no_resume = "its text pipeline reshuffles per iteration, so a resumed run would not see what it missed"
    refused = {"--optimizer": "fine-tuning uses AdamW with clipnorm 1.0",
               "--lr-schedule": "fine-tuning uses 10% linear warmup, then linear decay"}
    # QAT at a tenth of 5e-5 stays below calibration-only QAT on rt-polarity; at 2e-5 one epoch recovers
    # the float accuracy, and after 2:4 pruning it takes two epochs for the int8 TFLite model to come
    # within 1.5 points of float (docs/measurements.md, "BERT compressed")
    compress_learning_rate_factor = 0.4
    qat_epoch_share = 1.0
    # LayerNorm's variance and 1/sqrt stay float in the int8 TFLite model: int8 squares of the hidden states'
    # outliers cost about a point on rt-polarity (docs/measurements.md, "BERT compressed")
    tflite_float_ops = ("MEAN", "SQUARED_DIFFERENCE", "RSQRT")

    def check(self):
        config = check_dir(self.pretrained) if self.pretrained else TINY
        check_max_length(self.max_length, config)

    def load_data(self):
        return load(dataset_name(self.config, self.recipe), self.config.data_dir, self.config.test_dir,
                    self.max_length)

    def extra_settings(self, splits):
        return {"pretrained": self.pretrained, "max_length": self.max_length,
                "freeze_encoder": self.config.freeze_encoder}

    @property
    def pretrained(self):
        return self.config.pretrained or self.recipe.builder_kwargs.get("pretrained")

    @property
    def max_length(self):
        return self.config.max_length or MAX_LENGTH

    @functools.cached_property
    def tokenizer(self):
        return tokenizer_for(self.pretrained, self.max_length)

    def build_model(self, splits, settings):
        kwargs = dict(settings.builder_kwargs, pretrained=settings.extras["pretrained"],
                      freeze_encoder=settings.extras["freeze_encoder"])
        return registry.resolve(self.recipe.builder)(num_classes=splits.num_classes, **kwargs)

    def datasets(self, splits, settings, start_epoch=0):
        s = settings
        train = make_dataset(splits.x_train, splits.y_train, self.tokenizer, s.batch_size, shuffle=True, seed=s.seed)
        return train, self.dataset(splits.x_val, splits.y_val, s), -(-len(splits.y_train) // s.batch_size)

    def dataset(self, x, y, settings, batch_size=None):
        return make_dataset(x, y, self.tokenizer, batch_size or settings.batch_size)

    def tflite_lengths(self, settings):
        """The TFLite models take --max-length tokens (padded), the mobile BERT way."""
        return {name: self.max_length for name in INPUTS}

    def tflite_dataset(self, x, y, settings, batch_size):
        return make_dataset(x, y, self.tokenizer, batch_size, fixed_length=self.max_length)

    def compile_model(self, model, settings, steps_per_epoch):
        return compile_for_fine_tuning(model, settings.learning_rate, settings.epochs * steps_per_epoch,
                                       jit=settings.jit)

    def signatures(self, model):
        return signatures(model, self.tokenizer)

    def serving_samples(self, splits, n=8):
        return serving_samples(splits, n, self.tokenizer)


def signatures(model, tokenizer):
    """serving_default: raw sentences (tf.string [batch]) -> probabilities, tokenized
    in the graph (TF Serving needs TF-Text's ops); token_ids: the three id tensors."""
    import tensorflow as tf
    from keras_arch.models.bert_classifier import INPUTS
    from keras_arch.serving.signatures import check_shape

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve(text):
        return {"probabilities": model(tokenizer(check_shape(text, [None], "text")), training=False)}

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name=n) for n in INPUTS])
    def token_ids(input_ids, attention_mask, token_type_ids):
        return {"probabilities": model({"input_ids": input_ids, "attention_mask": attention_mask,
                                        "token_type_ids": token_type_ids}, training=False)}

    return {"serving_default": serve, "token_ids": token_ids}


def serving_samples(splits, n, tokenizer):
    _, x, _ = splits.eval_split()
    ids = {k: v.numpy() for k, v in tokenizer(x[:n].astype(str)).items()}
    return {"serving_default": {"text": x[:n].astype(object)}, "token_ids": ids}
