"""Scoring a knowledge-graph model for ranking (document 004 §4.3): an
XLA-compiled (heads, relations) -> (batch, entities) function, the
evaluation batch that bounds its memory, and the callback that keeps the
weights of the best filtered validation MRR.
"""
import tensorflow as tf

from keras_arch.backend import keras
from keras_arch.training import ranking


def score_function(model):
    """(heads, relations) numpy -> (batch, entities) numpy; compiled with XLA
    once per model and batch length (XLA fuses the MLP scorer's
    relu(q + t) · w2 over (batch, entities, hidden) into one loop: 13x faster
    than TensorFlow's kernels at 40,000 entities here)."""
    if not hasattr(model, "_kg_score_fn"):
        spec = tf.TensorSpec([None], tf.int32)
        model._kg_score_fn = tf.function(lambda h, r: model({"head": h, "relation": r}, training=False),
                                         input_signature=[spec, spec], jit_compile=True)
    fn = model._kg_score_fn
    return lambda h, r: fn(tf.constant(h, tf.int32), tf.constant(r, tf.int32)).numpy()


EVAL_ELEMENTS = 256 * 2 ** 20  # the largest scoring tensor evaluation may build (1 GiB of float32)


def eval_batch_size(model):
    """Queries per evaluation batch: the MLP scorer builds (batch, entities,
    hidden), the others (batch, entities)."""
    layer = model.get_layer("scorer")
    width = layer.num_entities * getattr(layer, "hidden", 1)
    return int(max(1, min(512, EVAL_ELEMENTS // width)))


class BestValidationMRR(keras.callbacks.Callback):
    """Filtered MRR on the validation triples every ``every`` epochs (and
    after the last); restores the best weights when training ends.

    Args:
        model: the scoring model (``{head, relation}`` -> scores over entities);
            the fitted model may wrap it (shared negatives).
        graph: the :class:`keras_arch.data.kg.KnowledgeGraph`.
        known: its known tails (the filter).
        every: epochs between measurements.
        verbose: print each measurement.
        valid: the triples measured (default: all of ``graph.valid``).
    """

    def __init__(self, model, graph, known, every, verbose=0, valid=None):
        super().__init__()
        self.scorer, self.graph, self.known, self.every, self.verbose = model, graph, known, every, verbose
        self.valid = graph.valid if valid is None else valid
        self.best, self.best_epoch, self.best_weights, self.history = -1.0, 0, None, []

    def on_epoch_end(self, epoch, logs=None):
        last = epoch + 1 == self.params["epochs"]
        if (epoch + 1) % self.every and not last:
            return
        mrr = ranking.evaluate(score_function(self.scorer), self.valid, self.graph.num_relations, self.known,
                               eval_batch_size(self.scorer))["mrr"]
        self.history.append((epoch + 1, mrr))
        if logs is not None:
            logs["val_mrr"] = mrr
        if self.verbose:
            print(f" - val_mrr (filtered): {mrr:.4f}")
        if mrr > self.best:
            self.best, self.best_epoch, self.best_weights = mrr, epoch + 1, self.scorer.get_weights()

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.scorer.set_weights(self.best_weights)
