"""Text classification data as token-id arrays (TextVectorization).

- embedded default: generated review-like sentences whose label needs the
  negation and the sentiment word, wherever they stand (no network);
- ``--data-dir DIR``: one UTF-8 file per class, one example per line (class =
  file name without extension; ../shared/data/text/rt-polarity has pos.txt and
  neg.txt); stratified 80/10/10 split, or ``--test-dir`` in the same format;
- ``--dataset imdb``: imdb_reviews through tensorflow-datasets (network).

Id 0 is padding (masked by the models), 1 is out-of-vocabulary.
"""
import functools
import os

import numpy as np

from keras_arch.data import tfds as tfds_offline
from keras_arch.data.splits import Splits, stratified_split
from keras_arch.data.word_vectors import embedding_matrix
from keras_arch.errors import UsageError

SPLIT_SEED = 0
MAX_TOKENS = 10_000  # document 000 §4.3: Embedding(10000, 64)
MAX_LENGTH = 50


def cut(text, max_words):
    """``text`` cut to its first ``max_words`` words (and at most 100
    characters a word): what the model reads, so that one huge line costs
    no more memory than a normal one. Shorter texts are left as they are."""
    if len(text) <= max_words:
        return text
    words = text[:max_words * 100].split(None, max_words)
    return text if len(words) <= max_words and len(text) <= max_words * 100 else " ".join(words[:max_words])


def read_class_dir(directory, flag="--data-dir", max_words=None):
    """(texts, labels, class names) from one file per class, each text cut to
    ``max_words`` words (:func:`cut`) when given."""
    if not os.path.isdir(directory):
        raise UsageError(f"{flag} {directory}: no such directory")
    files = sorted(f for f in os.listdir(directory)
                   if os.path.isfile(os.path.join(directory, f)) and not f.startswith("."))
    if len(files) < 2:
        raise UsageError(f"{flag} {directory}: needs one text file per class (at least 2), found {len(files)}")
    texts, labels = [], []
    for label, name in enumerate(files):
        path = os.path.join(directory, name)
        try:
            with open(path, encoding="utf-8") as f:
                lines = [line.strip() for line in f]
        except UnicodeDecodeError as e:
            raise UsageError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
        lines = [cut(line, max_words) if max_words else line for line in lines if line]
        if not lines:
            raise UsageError(f"{path}: no examples (one per line expected)")
        texts += lines
        labels += [label] * len(lines)
    return np.array(texts, dtype=object), np.array(labels, dtype=np.int64), [os.path.splitext(f)[0] for f in files]


POSITIVE = ["good", "great", "excellent", "wonderful", "moving", "brilliant", "funny", "superb"]
NEGATIVE = ["bad", "awful", "boring", "dull", "terrible", "clumsy", "tedious", "weak"]
FILLER = ["the", "film", "movie", "plot", "acting", "story", "cast", "script", "really", "quite",
          "this", "its", "and", "with", "a", "of", "in", "ending", "director", "score", "overall",
          "honestly", "frankly", "scenes", "dialogue", "pacing", "visuals", "i", "think", "found"]


def generated_reviews(n=4000, seed=0):
    """Sentences of 8-30 filler words with one sentiment word, sometimes negated
    ("not", "never"), at a random place: label = positive XOR negated."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        words = list(rng.choice(FILLER, rng.integers(8, 31)))
        positive = rng.random() < 0.5
        negated = rng.random() < 0.4
        cue = [str(rng.choice(POSITIVE if positive else NEGATIVE))]
        if negated:
            cue = [str(rng.choice(["not", "never"]))] + cue
        at = int(rng.integers(0, len(words) + 1))
        texts.append(" ".join(words[:at] + cue + words[at:]))
        labels.append(int(positive != negated))
    return np.array(texts, dtype=object), np.array(labels, dtype=np.int64), ["negative", "positive"]


def _imdb():
    datasets = tfds_offline.load("imdb_reviews", "--dataset imdb", ["train", "test"], as_supervised=True)
    import tensorflow_datasets as tfds
    parts = [list(tfds.as_numpy(ds)) for ds in datasets]
    decode = lambda rows: (np.array([t.decode("utf-8", "replace") for t, _ in rows], dtype=object),  # noqa: E731
                           np.array([int(y) for _, y in rows], dtype=np.int64))
    return decode(parts[0]), decode(parts[1])


def vectorize(train_texts, *others, max_tokens=MAX_TOKENS, max_length=MAX_LENGTH):
    """Adapt TextVectorization on the training texts only; ids for every set."""
    import tensorflow as tf
    from keras_arch.backend import keras
    layer = keras.layers.TextVectorization(max_tokens=max_tokens, output_sequence_length=max_length,
                                           standardize="lower_and_strip_punctuation")
    layer.adapt(tf.data.Dataset.from_tensor_slices(train_texts.astype(str)).batch(1024))
    encode = lambda t: layer(tf.constant(t.astype(str))).numpy().astype(np.int32)  # noqa: E731
    return [encode(train_texts)] + [encode(t) for t in others], layer.get_vocabulary()


def load_raw(dataset="generated", data_dir=None, test_dir=None, generated=4000, max_words=None):
    """Raw texts: (x_train, y_train, x_val, y_val, x_test, y_test, classes,
    name), each cut to ``max_words`` words (what the model reads) when given."""
    if data_dir:
        texts, labels, classes = read_class_dir(data_dir, max_words=max_words)
        name = "text-dir"
    elif dataset == "imdb":
        (texts, labels), test = _imdb()
        classes, name = ["negative", "positive"], "imdb-tfds"
    else:
        texts, labels, classes = generated_reviews(generated)
        name = "generated-reviews"
    flag = f"--data-dir {data_dir}" if data_dir else f"--dataset {dataset}"
    if (dataset == "imdb" and not data_dir) or test_dir:  # the test set comes from elsewhere
        x_train, y_train, x_val, y_val = stratified_split(texts, labels, 0.1, SPLIT_SEED, flag)
        x_test, y_test = (None, None) if test_dir else test
    else:
        x_rest, y_rest, x_test, y_test = stratified_split(texts, labels, 0.1, SPLIT_SEED, flag)
        x_train, y_train, x_val, y_val = stratified_split(x_rest, y_rest, 1 / 9, SPLIT_SEED, flag)
    if test_dir:
        test_texts, y_test, test_classes = read_class_dir(test_dir, "--test-dir", max_words=max_words)
        if test_classes != classes:
            raise UsageError(f"--test-dir {test_dir}: classes {test_classes} differ from {classes}")
        x_test = test_texts
    return x_train, y_train, x_val, y_val, x_test, y_test, classes, name


def load(dataset="generated", data_dir=None, test_dir=None, max_length=MAX_LENGTH, word_vectors=False):
    """Token-id splits for a text classifier.

    Args:
        dataset: "generated" (embedded) or "imdb" (tensorflow-datasets).
        data_dir: one text file per class (overrides ``dataset``).
        test_dir: evaluate on this directory's files instead of a held-out 10%.
        max_length: tokens kept per example.
        word_vectors: also hand the builder initial embeddings for the
            vocabulary, from the packaged MiniLM (:mod:`keras_arch.data.word_vectors`),
            as a function of the embedding width (the recipe chooses the width).
    """
    x_train, y_train, x_val, y_val, x_test, y_test, classes, name = load_raw(dataset, data_dir, test_dir,
                                                                             max_words=max_length)
    (x_train, x_val, x_test), vocab = vectorize(x_train, x_val, x_test, max_length=max_length)
    builder_args = {"vocab_size": len(vocab)}
    if word_vectors:
        # a function of the width: the builder asks for as many directions as its embedding is wide
        builder_args["word_vectors"] = functools.partial(embedding_matrix, vocab)
    return Splits(name, x_train, y_train, x_val, y_val, len(classes), x_test, y_test,
                  builder_args=builder_args, vocabulary=vocab)


def load_with_word_vectors(dataset="generated", data_dir=None, test_dir=None):
    """:func:`load` with MiniLM-initialised word vectors (the ``attention`` recipe)."""
    return load(dataset, data_dir, test_dir, word_vectors=True)
