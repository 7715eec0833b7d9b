"""Image–caption pairs for cross-modal learning (document 004 §3.2, §4.2).

Real digit images (the embedded digits, or MNIST with ``--data-dir``) paired
with captions the code writes: "seven", "7", "the digit seven", "a slanted
handwritten 7"... with noise: filler words, dropped words and misspelt number
words (which the vocabulary has never seen), so the text tower must rely on
what is left. Captions stay strings: the model tokenizes them in-graph, so the
exported ``embed_text`` signature takes text.
"""
import re

import numpy as np

from keras_arch.data import images
from keras_arch.data.splits import Splits

NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEMPLATES = ["{w}", "{d}", "the digit {w}", "a handwritten {w}", "number {d}", "this is a {w}",
             "an image of the number {w}", "a {adj} {w}", "a {adj} handwritten {d}", "digit {d}",
             "the number {w} written by hand", "{w} ({d})"]
ADJECTIVES = ["small", "bold", "thin", "slanted", "blurry", "neat", "large", "faint"]
FILLER = ["scan", "photo", "of", "ink", "sample", "picture", "black", "white"]
CAPTION_LENGTH = 10
SEED = 0


def _misspell(word, rng):
    i = int(rng.integers(len(word)))
    return word[:i] + word[i + 1:]  # "seven" -> "sevn": out of vocabulary


def caption(label, rng, noise=0.2):
    """One caption for digit ``label``."""
    template = TEMPLATES[int(rng.integers(len(TEMPLATES)))]
    word = NAMES[label]
    if rng.random() < noise / 2 and "{w}" in template and "{d}" in template:
        word = _misspell(word, rng)  # the numeral still says it
    words = template.format(w=word, d=label, adj=ADJECTIVES[int(rng.integers(len(ADJECTIVES)))]).split()
    if rng.random() < noise:
        words.insert(int(rng.integers(len(words) + 1)), FILLER[int(rng.integers(len(FILLER)))])
    if rng.random() < noise and len(words) > 2:  # drop a word that is not the only digit cue
        cues = {NAMES[label], str(label), f"({label})"}
        droppable = [i for i, w in enumerate(words) if w not in cues]
        if droppable:
            del words[droppable[int(rng.integers(len(droppable)))]]
    return " ".join(words)


def captions_for(labels, seed):
    rng = np.random.default_rng(seed)
    return np.array([caption(int(y), rng) for y in labels], dtype=str)


def load(dataset="digits", data_dir=None, test_dir=None):
    """Splits with x = {"image", "caption"} and y = the digit; the vocabulary
    (adapted on training captions only) is a builder argument."""
    base = images.load(dataset=dataset, data_dir=data_dir, test_dir=test_dir)
    parts = [(base.x_train, base.y_train), (base.x_val, base.y_val)]
    if base.x_test is not None:
        parts.append((base.x_test, base.y_test))
    xs = [{"image": x, "caption": captions_for(y, SEED + i)} for i, (x, y) in enumerate(parts)]
    # The words TextVectorization's "lower_and_strip_punctuation" will see.
    vocabulary = sorted({w for c in xs[0]["caption"] for w in re.sub(r"[^\w\s]", "", c.lower()).split()})
    splits = Splits(base.name, xs[0], base.y_train, xs[1], base.y_val, base.num_classes,
                    test_name=base.test_name,
                    builder_args={"image_shape": tuple(base.x_train.shape[1:]), "vocabulary": vocabulary,
                                  "caption_length": CAPTION_LENGTH},
                    vocabulary=vocabulary)
    if len(xs) == 3:
        splits.x_test, splits.y_test = xs[2], base.y_test
    return splits
