"""Classifiers trained by one ``fit`` on ``(x, y)``: the CNNs, LSTMs,
attention models, the Transformer and MoE classifiers, and the seq2seq model
(a classifier per output token). Every option is honoured.
"""
from keras_arch.tasks.base import Task


class ClassificationTask(Task):
    """One epoch-keyed fit of a softmax classifier (``Recipe.loss``); resumable,
    compressible, full-batch capable. The base Task's steps, unchanged.

    Args:
        recipe: the arch's recipe.
        config: the run's :class:`keras_arch.config.RunConfig`.
    """


class Seq2SeqTask(ClassificationTask):
    """The document 003 encoder-decoder: trained with teacher forcing like any
    classifier; served as greedy decoding plus the next-token probabilities."""

    #: one QAT epoch does not bring the reversal back to the float model's
    #: token accuracy; two do (docs/compression.md, --compress-epochs)
    qat_epoch_share = 1.0

    def signatures(self, model):
        from keras_arch.models.seq2seq import signatures
        return signatures(model, self.recipe)

    def serving_samples(self, splits, n=8):
        from keras_arch.models.seq2seq import serving_samples
        return serving_samples(splits, n)

    def scored(self, x, y):
        """The decoder's Embedding masks PAD in ``target_in``, so Keras's
        accuracy counts only the positions it feeds (the reversal and its END)."""
        from keras_arch.data.sequences import PAD
        return x["target_in"] != PAD
