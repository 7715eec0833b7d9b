"""DistMult (Yang et al. 2015), a baseline for document 004 §3.3's scorer:
f(h, r, t) = Σ_k E(h)_k · R(r)_k · E(t)_k. Symmetric in h and t by design."""
import tensorflow as tf

from keras_arch.backend import keras
from keras_arch.layers.triple_scorer import TripleScorer


@keras.utils.register_keras_serializable(package="keras_arch")
class DistMultScorer(TripleScorer):
    def query(self, h, r, training):
        return h * r  # (batch, dim)

    def score_entities(self, q, entities, training):
        return tf.matmul(q, entities, transpose_b=True)  # (batch, n)

    def score_candidates(self, q, t, training):
        return tf.einsum("bd,bkd->bk", q, t)  # (batch, candidates)
