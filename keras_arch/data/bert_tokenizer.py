"""WordPiece tokenization that runs inside a TF graph (tensorflow-text) and
gives the same ids as Hugging Face's BertTokenizer for uncased vocabularies.

TF-Text's own lower_case mode differs from Hugging Face's: it case-folds
("ß" -> "ss"), applies NFKC (full-width letters become ASCII) and splits on
format characters such as U+200B. Hugging Face deletes control/format
characters, lower-cases with str.lower(), decomposes (NFD) and strips
combining marks; :func:`normalize` does exactly that, then FastBertTokenizer
runs without its own lower-casing.
"""
import tensorflow as tf
import tensorflow_text as tf_text

CLS, SEP, PAD = "[CLS]", "[SEP]", "[PAD]"


def normalize(text):
    text = tf.strings.regex_replace(text, r"[^\P{C}\t\n\r]|\x{FFFD}", "")  # HF's _clean_text
    text = tf.strings.lower(text, encoding="utf-8")
    text = tf_text.normalize_utf8(text, "NFD")
    return tf.strings.regex_replace(text, r"\p{Mn}", "")  # strip accents


def read_vocab(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


class InGraphBertTokenizer(tf.Module):
    """tf.string (batch,) -> int32 input_ids, attention_mask, token_type_ids
    (batch, time), [CLS] ... [SEP], truncated to max_length, padded to the
    longest in the batch (dynamic padding)."""

    def __init__(self, vocab, max_length=128):
        super().__init__()
        if max_length < 3:  # [CLS] ... [SEP] around at least one word piece
            raise ValueError(f"max_length must be at least 3, got {max_length}")
        self.max_length = max_length
        self.tokenizer = tf_text.FastBertTokenizer(vocab, token_out_type=tf.int32, unknown_token="[UNK]")
        self.cls_id, self.sep_id, self.pad_id = vocab.index(CLS), vocab.index(SEP), vocab.index(PAD)

    def __call__(self, text):
        ids = self.tokenizer.tokenize(normalize(text))[:, : self.max_length - 2]  # ragged (batch, tokens)
        batch = tf.shape(ids.row_lengths())[0]
        cls = tf.fill([batch, 1], self.cls_id)
        sep = tf.fill([batch, 1], self.sep_id)
        ids = tf.concat([tf.RaggedTensor.from_tensor(cls), ids, tf.RaggedTensor.from_tensor(sep)], axis=1)
        # (batch, longest). Every sentence has at least [CLS] and [SEP]; an
        # empty batch gets that width too, (0, 2), for which BERT's attention
        # matmuls are defined ((0, 0) fails: "Matrix size-incompatible").
        shape = tf.stack([batch, tf.maximum(tf.cast(ids.bounding_shape(axis=1), tf.int32), 2)])
        input_ids = ids.to_tensor(default_value=self.pad_id, shape=shape)
        mask = tf.ones_like(ids, tf.int32).to_tensor(0, shape=shape)
        return {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": tf.zeros_like(input_ids)}
