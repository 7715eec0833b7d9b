"""Initial word vectors: the mean of each word's word-piece vectors, projected
onto principal directions (keras_arch/data/word_vectors.py)."""
import os

import numpy as np

from keras_arch.data import word_vectors

PIECES = ["[PAD]", "[UNK]", "play", "##ing", "##ed", "good", "film", "un", "##watch", "##able", "the"]


def _fake_minilm(tmp_path, dim=6):
    from safetensors.numpy import save_file
    table = np.random.default_rng(3).standard_normal((len(PIECES), dim)).astype(np.float32)
    (tmp_path / "vocab.txt").write_text("\n".join(PIECES) + "\n", encoding="utf-8")
    save_file({"embeddings.word_embeddings.weight": table}, str(tmp_path / "model.safetensors"))
    return table


def test_word_pieces_are_bert_wordpiece():
    ids = word_vectors.word_piece_ids(["playing", "unwatchable", "the", "zzz"], PIECES)
    names = [[PIECES[i] for i in row] for row in ids]
    assert names == [["play", "##ing"], ["un", "##watch", "##able"], ["the"], ["[UNK]"]]


def test_rows_are_a_linear_image_of_the_mean_piece_vectors(tmp_path):
    table = _fake_minilm(tmp_path)
    vocab = ["", "[UNK]", "playing", "played", "good", "film", "unwatchable", "the"]
    m = word_vectors.embedding_matrix(vocab, dim=5, scale=0.3, directory=str(tmp_path))
    by = {p: table[i] for i, p in enumerate(PIECES)}
    means = np.stack([by["[UNK]"], (by["play"] + by["##ing"]) / 2, (by["play"] + by["##ed"]) / 2, by["good"],
                      by["film"], (by["un"] + by["##watch"] + by["##able"]) / 3, by["the"]])
    assert m.shape == (8, 5) and m.dtype == np.float32
    np.testing.assert_array_equal(m[0], 0.0)  # padding
    # Every other row is (mean - centre) @ A for one matrix A: a summed (not
    # averaged) word, a wrong piece or a shuffled row leaves a residual.
    with_pad = np.vstack([table[0], means])  # the projection saw "[PAD]" as row 0
    centred = with_pad - with_pad.mean(axis=0)
    a, *_ = np.linalg.lstsq(centred[1:], m[1:], rcond=None)
    np.testing.assert_allclose(centred[1:] @ a, m[1:], atol=1e-5)
    # each column has the requested spread over the vocabulary (before the pad row is zeroed)
    full = word_vectors.project(with_pad, 5) * 0.3
    np.testing.assert_allclose(full.std(axis=0), 0.3, rtol=1e-6)
    np.testing.assert_allclose(full[1:], m[1:], rtol=1e-5, atol=1e-6)


def test_small_vocabularies_fill_the_missing_directions():
    vectors = np.random.default_rng(0).standard_normal((4, 10))
    out = word_vectors.project(vectors, 8)
    assert out.shape == (4, 8) and np.all(np.isfinite(out))


def test_the_attention_builder_starts_from_the_given_vectors():
    from keras_arch.models.attention import doc000_attention_classifier
    init = np.random.default_rng(1).standard_normal((30, 64)).astype(np.float32)
    model = doc000_attention_classifier(vocab_size=30, num_classes=2, word_vectors=init)
    np.testing.assert_array_equal(model.get_layer("embedding").get_weights()[0], init)



def test_the_attention_builder_asks_the_loader_for_its_own_width():
    # The text loader hands a function of the width, so a recipe can widen the
    # embedding (attention on real sentences: 128) without the loader knowing.
    import pytest
    from keras_arch.models.attention import doc000_attention_classifier
    init = np.random.default_rng(2).standard_normal((30, 40)).astype(np.float32)
    asked = []
    model = doc000_attention_classifier(vocab_size=30, num_classes=2, embed_dim=16,
                                        word_vectors=lambda width: asked.append(width) or init[:, :width])
    assert asked == [16]
    np.testing.assert_array_equal(model.get_layer("embedding").get_weights()[0], init[:, :16])
    with pytest.raises(ValueError, match=r"\(30, 40\); the embedding is \(30, 16\)"):
        doc000_attention_classifier(vocab_size=30, num_classes=2, embed_dim=16, word_vectors=init)


def test_the_text_loader_hands_a_width_function_and_run_json_leaves_it_out():
    from keras_arch.data import text
    splits = text.load("generated", word_vectors=True)
    fn = splits.builder_args["word_vectors"]
    assert callable(fn) and fn.args[0] == splits.vocabulary
    assert "word_vectors" not in splits.model_args(structure_only=True)
