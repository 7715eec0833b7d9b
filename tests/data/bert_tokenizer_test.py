import tensorflow as tf

from keras_arch.data.bert_tokenizer import InGraphBertTokenizer, read_vocab
from keras_arch.models.bert_config import default_pretrained_dir

HARD = ["Café au lait, naïve résumé!", "Hello... world?! (yes)", "東京は日本の首都です", "I love it 😀🚀", "",
        "  spaced   out\ttabs\n", "don't stop-believing; e-mail: a@b.com", "ÀÉÎÕÜ ÇÑ ß", "word " * 300,
        "mixed中文and English", "\u200bzero\u200bwidth", "Ｆｕｌｌｗｉｄｔｈ", "ÅNGSTRÖM ﬁ ligature", "tab\x00null\ufffd"]


def test_in_graph_ids_equal_hugging_face_tokenizer_ids():
    from transformers import BertTokenizer
    directory = default_pretrained_dir()
    reference = BertTokenizer.from_pretrained(directory)
    tokenizer = InGraphBertTokenizer(read_vocab(directory + "/vocab.txt"), max_length=64)
    out = tokenizer(tf.constant(HARD))
    lengths = out["attention_mask"].numpy().sum(1)
    for i, text in enumerate(HARD):
        expected = reference(text, truncation=True, max_length=64)["input_ids"]
        assert out["input_ids"].numpy()[i, :lengths[i]].tolist() == expected, text
        assert (out["input_ids"].numpy()[i, lengths[i]:] == 0).all()  # [PAD] after
    assert out["input_ids"].shape[1] == 64  # the long text sets the batch length, truncated
    assert out["token_type_ids"].numpy().max() == 0


def test_dynamic_padding_pads_to_the_longest_in_the_batch():
    tokenizer = InGraphBertTokenizer(read_vocab(default_pretrained_dir() + "/vocab.txt"), max_length=128)
    out = tokenizer(tf.constant(["short", "a somewhat longer sentence here"]))
    assert out["input_ids"].shape == (2, 7) and out["attention_mask"].numpy().sum(1).tolist() == [3, 7]
