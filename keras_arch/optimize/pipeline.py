"""The --prune S / --qat / --tflite PATH stages of ``run``, in that order,
each fine-tuned briefly and measured on the same evaluation split.

The data come through the run's task (:meth:`keras_arch.tasks.base.Task.dataset`):
images and token ids as they are, BERT's raw sentences through its in-graph
tokenizer, so every stage (and the TFLite models) sees what the Keras model sees.
"""
import numpy as np

from keras_arch.data.splits import head
from keras_arch.io import write_atomic
from keras_arch.paths import tflite_float_path


def _evaluate(model, task, splits, settings):
    _, x, y = splits.eval_split()
    return float(model.evaluate(task.dataset(x, y, settings), verbose=0, return_dict=True)["accuracy"])


def _fine_tune(model, task, settings, splits, epochs, callbacks=(), verbose=0):
    """Short fine-tuning at the task's fraction of the recipe's learning rate
    (a tenth unless the task says otherwise), constant (the task's compile:
    BERT keeps AdamW with its warmup and decay)."""
    tune = settings.replace(learning_rate=settings.learning_rate * task.compress_learning_rate_factor,
                            lr_schedule="constant",
                            epochs=epochs, warmup_epochs=0)
    train, _, steps = task.datasets(splits, tune)
    task.compile_model(model, tune, steps)
    model.fit(train, epochs=epochs, steps_per_epoch=steps, verbose=verbose, callbacks=list(callbacks))
    return model


def _numpy_batches(task, x, y, settings, batch_size):
    return task.tflite_dataset(x, y, settings, batch_size).as_numpy_iterator()


def compress(model, task, settings, splits, config, verbose=0):
    """The stages ``config`` asks for (--prune, --qat, --tflite), each
    measured on the evaluation split.

    Args:
        model: the trained Keras model.
        task: the run's task (its data pipeline, compile and loss).
        settings: the run's resolved :class:`keras_arch.config.Settings`.
        splits: the run's data.
        config: the run's :class:`keras_arch.config.RunConfig` (prune, qat,
            tflite, compress_epochs, per_channel, logdir).
        verbose: Keras progress bars in the fine-tuning fits.

    Returns:
        (final Keras model, {stage: metrics}).
    """
    return compress_model(model, task, settings, splits, prune=config.prune, qat=config.qat,
                          tflite=config.tflite, epochs=config.compress_epochs or 2, logdir=config.logdir,
                          verbose=verbose, per_channel=config.per_channel)


def compress_model(model, task, settings, splits, prune=None, qat=False, tflite=None, epochs=2,
                   logdir=None, verbose=0, per_channel=False):
    """Returns (final Keras model, {stage: metrics}); arguments as :func:`compress`'s."""
    from keras_arch.optimize import prune as prune_lib
    from keras_arch.optimize import qat as qat_lib
    from keras_arch.optimize import tflite as tflite_lib
    loss = task.recipe.loss
    stages = {"baseline": {"accuracy": _evaluate(model, task, splits, settings),
                           "gzip_bytes": prune_lib.gzip_size(model), "parameters": model.count_params()}}
    current = model
    if prune:
        steps = task.datasets(splits, settings.replace(epochs=epochs))[2] * epochs
        pruned = prune_lib.prunable_copy(current, prune, end_step=int(steps * 0.7))
        _fine_tune(pruned, task, settings, splits, epochs, prune_lib.callbacks(logdir), verbose)
        current = prune_lib.strip(pruned)
        current.compile(loss=loss, metrics=["accuracy"])
        per_layer = prune_lib.layer_sparsity(current)
        pruned_layers = [n for n, s in per_layer.items() if s > 0]
        stages["pruned"] = {"target_sparsity": prune, "epochs": epochs,
                            "accuracy": _evaluate(current, task, splits, settings),
                            "sparsity": prune_lib.overall_sparsity(current, pruned_layers),
                            "layer_sparsity": per_layer, "gzip_bytes": prune_lib.gzip_size(current)}
        if prune_lib.m_by_n(prune):
            stages["pruned"]["m_by_n_satisfied"] = _m_by_n_share(current, prune_lib.m_by_n(prune))
    if qat:
        from keras_arch.optimize.fold_batch_norm import fold_batch_norm, foldable
        # The pruning-preserving scheme quantizes conv kernels per channel, which
        # absorbs BN folding exactly; per-tensor QAT needs BN folded first.
        if not prune and not per_channel and foldable(current):
            current = fold_batch_norm(current)
        quantized, float_layers = qat_lib.quantize(current, preserve_sparsity=bool(prune),
                                                   per_channel=per_channel)
        qat_epochs = max(1, int(epochs * task.qat_epoch_share))
        _fine_tune(quantized, task, settings, splits, qat_epochs, verbose=verbose)
        stage = {"accuracy": _evaluate(quantized, task, splits, settings), "float_layers": float_layers,
                 "preserve_sparsity": bool(prune), "epochs": qat_epochs}
        if prune:
            stage["layer_sparsity"] = quantized_sparsity(quantized)
            stage["sparsity"] = float(np.mean([stage["layer_sparsity"][n] for n in stages["pruned"]["layer_sparsity"]
                                               if stages["pruned"]["layer_sparsity"][n] > 0 and n in stage["layer_sparsity"]]))
        stages["qat"] = stage
        current = quantized
    if tflite:
        batch = task.recipe.tflite_batch
        _, x_eval, y_eval = splits.eval_split()
        representative = [x for x, _ in _numpy_batches(task, head(splits.x_train, 200), splits.y_train[:200], settings,
                                                       batch or 1)]
        representative = [x if isinstance(x, dict) else {tflite_lib.input_names(current)[0]: x}
                          for x in representative]
        lengths = task.tflite_lengths(settings)
        float_bytes = tflite_lib.convert(model if qat else current, batch_size=batch, lengths=lengths)
        int8_bytes = tflite_lib.convert(current, int8=True, representative=representative, batch_size=batch,
                                        per_channel=per_channel, lengths=lengths, float_ops=task.tflite_float_ops)
        write_atomic(tflite, int8_bytes)
        write_atomic(tflite_float_path(tflite), float_bytes)
        runners = {"int8": tflite_lib.TFLiteModel(int8_bytes), "float": tflite_lib.TFLiteModel(float_bytes)}
        stages["tflite"] = {
            "int8_path": tflite, "float_path": tflite_float_path(tflite),
            "int8_bytes": len(int8_bytes), "float_bytes": len(float_bytes),
            "int8_float_ops": tflite_lib.float_op_names(int8_bytes),
            "int8_gzip_bytes": prune_lib.bytes_gzip_size(int8_bytes),
            "size_ratio": len(int8_bytes) / len(float_bytes)}
        for kind, runner in runners.items():
            stages["tflite"][f"{kind}_accuracy"] = tflite_lib.accuracy(
                runner, _numpy_batches(task, x_eval, y_eval, settings, batch or 256), task.scored)
            # which LiteRT kernels computed it (XNNPACK, or the built-in ones where XNNPACK can't)
            stages["tflite"][f"{kind}_kernels"] = runner.kernels
    return current, stages


def _m_by_n_share(model, pattern):
    """The share of M:N groups that hold at least M zeros, over the Dense and Conv2D kernels."""
    from keras_arch.optimize import prune as prune_lib
    counts = [prune_lib.m_by_n_groups(model.get_layer(name).kernel.numpy(), *pattern)
              for name in prune_lib.structured_layers(model)]
    return sum(ok for ok, _ in counts) / max(sum(total for _, total in counts), 1)


def quantized_sparsity(model):
    """Per-layer zero fraction of the kernels inside a QAT model's wrappers."""
    out = {}
    for layer in model.layers:
        inner = getattr(layer, "layer", layer)
        # Inside a QuantizeWrapper `inner.kernel` is the fake-quantized tensor;
        # the stored variable is the wrapper's weight named ".../kernel:0".
        kernels = [w for w in layer.weights if w.name.endswith("kernel:0")]
        if kernels:
            out[inner.name] = float(np.mean(kernels[0].numpy() == 0))
    return out
