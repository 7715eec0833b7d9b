"""The --prune S / --qat / --tflite PATH stages of ``run``, in that order,
each fine-tuned briefly and measured on the same evaluation split."""
import numpy as np

from keras_arch.data.splits import make_dataset
from keras_arch.io import write_atomic
from keras_arch.paths import tflite_float_path


def _evaluate(model, x, y, batch_size):
    return float(model.evaluate(make_dataset(x, y, batch_size), verbose=0)[1])


def _fine_tune(model, settings, splits, epochs, loss, callbacks=(), verbose=0):
    """Short fine-tuning at a tenth of the recipe's learning rate, constant."""
    from keras_arch.training.schedules import compile_model
    tune = settings.replace(learning_rate=settings.learning_rate * 0.1, lr_schedule="constant",
                            epochs=epochs, warmup_epochs=0)
    steps = -(-len(splits.y_train) // settings.batch_size)
    compile_model(model, tune, steps, loss)
    train = make_dataset(splits.x_train, splits.y_train, settings.batch_size, shuffle=True,
                         seed=settings.seed, shift=settings.augment_shift)
    model.fit(train, epochs=epochs, verbose=verbose, callbacks=list(callbacks))
    return model


def compress(model, recipe, settings, splits, config, verbose=0):
    """The stages ``config`` asks for (--prune, --qat, --tflite), each
    measured on the evaluation split.

    Args:
        model: the trained Keras model.
        recipe: the arch's recipe (its loss, its TFLite batch).
        settings: the run's resolved :class:`keras_arch.config.Settings`.
        splits: the run's data.
        config: the run's :class:`keras_arch.config.RunConfig` (prune, qat,
            tflite, compress_epochs, per_channel, logdir).
        verbose: Keras progress bars in the fine-tuning fits.

    Returns:
        (final Keras model, {stage: metrics}).
    """
    return compress_model(model, recipe, settings, splits, prune=config.prune, qat=config.qat,
                          tflite=config.tflite, epochs=config.compress_epochs or 2, logdir=config.logdir,
                          verbose=verbose, per_channel=config.per_channel)


def compress_model(model, recipe, settings, splits, prune=None, qat=False, tflite=None, epochs=2,
                   logdir=None, verbose=0, per_channel=False):
    """Returns (final Keras model, {stage: metrics})."""
    from keras_arch.optimize import prune as prune_lib
    from keras_arch.optimize import qat as qat_lib
    from keras_arch.optimize import tflite as tflite_lib
    _, x_eval, y_eval = splits.eval_split()
    bs = settings.batch_size
    stages = {"baseline": {"accuracy": _evaluate(model, x_eval, y_eval, bs),
                           "gzip_bytes": prune_lib.gzip_size(model), "parameters": model.count_params()}}
    current = model
    if prune:
        steps = -(-len(splits.y_train) // bs) * epochs
        pruned = prune_lib.prunable_copy(current, prune, end_step=int(steps * 0.7))
        _fine_tune(pruned, settings, splits, epochs, recipe.loss, prune_lib.callbacks(logdir), verbose)
        current = prune_lib.strip(pruned)
        current.compile(loss=recipe.loss, metrics=["accuracy"])
        per_layer = prune_lib.layer_sparsity(current)
        pruned_layers = [n for n, s in per_layer.items() if s > 0]
        stages["pruned"] = {"target_sparsity": prune, "accuracy": _evaluate(current, x_eval, y_eval, bs),
                            "sparsity": prune_lib.overall_sparsity(current, pruned_layers),
                            "layer_sparsity": per_layer, "gzip_bytes": prune_lib.gzip_size(current)}
    if qat:
        from keras_arch.optimize.fold_batch_norm import fold_batch_norm, foldable
        # The pruning-preserving scheme quantizes conv kernels per channel, which
        # absorbs BN folding exactly; per-tensor QAT needs BN folded first.
        if not prune and not per_channel and foldable(current):
            current = fold_batch_norm(current)
        quantized, float_layers = qat_lib.quantize(current, preserve_sparsity=bool(prune),
                                                   per_channel=per_channel)
        _fine_tune(quantized, settings, splits, max(1, epochs // 2), recipe.loss, verbose=verbose)
        stage = {"accuracy": _evaluate(quantized, x_eval, y_eval, bs), "float_layers": float_layers,
                 "preserve_sparsity": bool(prune)}
        if prune:
            stage["layer_sparsity"] = quantized_sparsity(quantized)
            stage["sparsity"] = float(np.mean([stage["layer_sparsity"][n] for n in stages["pruned"]["layer_sparsity"]
                                               if stages["pruned"]["layer_sparsity"][n] > 0 and n in stage["layer_sparsity"]]))
        stages["qat"] = stage
        current = quantized
    if tflite:
        batch = recipe.tflite_batch
        rep = splits.x_train[:200]
        float_bytes = tflite_lib.convert(model if qat else current, batch_size=batch)
        int8_bytes = tflite_lib.convert(current, int8=True, representative=rep, batch_size=batch,
                                        per_channel=per_channel)
        write_atomic(tflite, int8_bytes)
        write_atomic(tflite_float_path(tflite), float_bytes)
        stages["tflite"] = {
            "int8_path": tflite, "float_path": tflite_float_path(tflite),
            "int8_bytes": len(int8_bytes), "float_bytes": len(float_bytes),
            "int8_gzip_bytes": prune_lib.bytes_gzip_size(int8_bytes),
            "size_ratio": len(int8_bytes) / len(float_bytes),
            "int8_accuracy": tflite_lib.accuracy(int8_bytes, x_eval, y_eval, batch or 256),
            "float_accuracy": tflite_lib.accuracy(float_bytes, x_eval, y_eval, batch or 256)}
    return current, stages


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
