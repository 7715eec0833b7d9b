"""The support matrix: every registered arch x {QAT, pruning, pruning-preserving
QAT, TFLite float, TFLite int8, SavedModel}, found by doing each on the arch's
(untrained) model, never by listing.

The table of ``docs/compression.md``: ``python -m keras_arch.readme support-matrix``.
"""
import tempfile

import numpy as np

from keras_arch import registry
from keras_arch.config import resolve_settings
from keras_arch.data.splits import head
from keras_arch.markdown import header

COLUMNS = ("QAT", "pruning", "pruning-preserving QAT", "TFLite float", "TFLite int8", "SavedModel")
# The header row by language (the cells are the same in both).
HEADERS = {
    "en": ("arch",) + COLUMNS,
    "zh": ("arch", "量化感知训练 (QAT)", "剪枝 (pruning)", "保留稀疏的 QAT (pruning-preserving QAT)",
           "TFLite 浮点 (float)", "TFLite int8", "SavedModel"),
}


def _first_line(e):
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:120]


def _quantized(model, preserve_sparsity=False):
    from keras_arch.optimize import qat
    from keras_arch.optimize.fold_batch_norm import fold_batch_norm, foldable
    if not preserve_sparsity and foldable(model):
        model = fold_batch_norm(model)
    return qat.quantize(model, preserve_sparsity=preserve_sparsity)


def check_arch(name):
    """{column: cell text} for one arch: each operation done on its (small,
    untrained) model, its data read through its task."""
    from keras_arch.backend import keras
    from keras_arch.optimize import prune, tflite
    from keras_arch.serving.export import load_servable
    from keras_arch.serving.servable import export_arch
    from keras_arch.tasks.base import for_arch
    recipe = registry.get(name)
    task = for_arch(name)
    splits = task.load_data()
    model = registry.build(name, **splits.model_args(), **recipe.small_builder_kwargs)
    settings = resolve_settings(task.config, recipe, splits.family)
    lengths = task.tflite_lengths(settings)
    batches = task.tflite_dataset(head(splits.x_train, 32), splits.y_train[:32], settings, recipe.tflite_batch or 2)
    samples = [x if isinstance(x, dict) else {tflite.input_names(model)[0]: x} for x, _ in batches.as_numpy_iterator()]

    def qat_cell():
        _, float_layers = _quantized(model)
        return "yes" if not float_layers else "yes, float: " + ", ".join(sorted(float_layers))

    def pqat_cell():
        stripped = prune.strip(prune.prunable_copy(model, 0.5, end_step=2))
        _, float_layers = _quantized(stripped, preserve_sparsity=True)
        return "yes" if not float_layers else "yes, float: " + ", ".join(sorted(float_layers))

    def float_cell():
        tflite.TFLiteModel(tflite.convert(model, batch_size=recipe.tflite_batch, lengths=lengths))(samples[0])
        return "yes"

    def int8_cell():
        quantized, _ = _quantized(model)
        content = tflite.convert(quantized, int8=True, representative=samples, batch_size=recipe.tflite_batch,
                                 lengths=lengths, float_ops=task.tflite_float_ops)
        runner = tflite.TFLiteModel(content)
        runner(samples[0])
        kinds = {np.dtype(d["dtype"]).name for d in runner.inputs.values()}
        # The ops the task keeps float on purpose and the model computes in float. Not every op
        # the converter leaves float: TF 2.21's converter is not deterministic there (one of
        # attention's unrolled LSTM SPLITs stays float in about one process in five, same model
        # and data), and this table is compared with the code's output; each run's metrics JSON
        # lists them all (stages.tflite.int8_float_ops).
        float_ops = sorted(set(task.tflite_float_ops) & set(tflite.float_op_names(content)))
        kept = f"; float: {', '.join(float_ops)}" if float_ops else ""
        if kinds == {"int8"}:
            return f"yes (int8 in/out{kept})"
        return f"yes ({'/'.join(sorted(kinds))} {'ids ' if kinds <= {'int32', 'int64'} else ''}in, int8 out{kept})"

    def saved_model_cell():
        with tempfile.TemporaryDirectory() as d:
            load_servable(export_arch(model, recipe, d, splits, task))
        return "yes"

    def prune_cell():
        prune.strip(prune.prunable_copy(model, 0.5, end_step=2))
        dense = prune.dense_layers(model)
        return "yes" if not dense else "yes, dense: " + ", ".join(sorted(dense))

    cells = {"QAT": qat_cell, "pruning": prune_cell, "pruning-preserving QAT": pqat_cell,
             "TFLite float": float_cell, "TFLite int8": int8_cell, "SavedModel": saved_model_cell}
    subclassed = [layer for layer in model.layers
                  if isinstance(layer, keras.Model) and not getattr(layer, "_is_graph_network", True)]
    if subclassed:
        names = ", ".join(f"{layer.name} ({type(layer).__name__})" for layer in subclassed)
        why = f"no: {names} is a subclassed Keras model; tfmot clones and wraps functional/Sequential layers only"
        cells["QAT"] = cells["pruning"] = cells["pruning-preserving QAT"] = lambda: why
    out = {}
    for column, fn in cells.items():
        try:
            out[column] = fn()
        except Exception as e:  # the matrix records why, it does not stop
            out[column] = f"no: {type(e).__name__}: {_first_line(e)}"
    return out


def matrix():
    return {name: check_arch(name) for name in registry.names()}


def render(table, lang="en"):
    """The Markdown table of ``matrix()``; ``lang`` ("en" or "zh") changes only the header row."""
    lines = header(HEADERS[lang])
    for name, cells in table.items():
        lines.append(f"| `{name}` | " + " | ".join(cells[c].replace("|", "/") for c in COLUMNS) + " |")
    return "\n".join(lines)


def parse(block):
    """{arch: {column: cell}} from a rendered table: the inverse of ``render``."""
    table = {}
    for row in block.splitlines()[2:]:
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        table[cells[0].strip("`")] = dict(zip(COLUMNS, cells[1:]))
    return table
