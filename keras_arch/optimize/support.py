"""The support matrix: every registered arch x {QAT, pruning, pruning-preserving
QAT, TFLite float, TFLite int8, SavedModel}, found by doing each on the arch's
(untrained) model, never by listing.

The table of ``docs/compression.md``: ``python -m keras_arch.readme support-matrix``.
"""
import tempfile

import numpy as np

from keras_arch import registry
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
    """{column: cell text} for one arch."""
    from keras_arch.backend import keras
    from keras_arch.optimize import prune, tflite
    from keras_arch.serving.export import load_servable
    from keras_arch.serving.servable import export_arch
    recipe = registry.get(name)
    splits = registry.resolve(recipe.data)(dataset=recipe.datasets[0])
    model = registry.build(name, **splits.model_args(), **recipe.small_builder_kwargs)
    multi_input = isinstance(splits.x_train, dict) or len(model.inputs) > 1
    rep = None if multi_input else splits.x_train[:32]

    def qat_cell():
        _, float_layers = _quantized(model)
        return "yes" if not float_layers else "yes, float: " + ", ".join(sorted(float_layers))

    def pqat_cell():
        stripped = prune.strip(prune.prunable_copy(model, 0.5, end_step=2))
        _, float_layers = _quantized(stripped, preserve_sparsity=True)
        return "yes" if not float_layers else "yes, float: " + ", ".join(sorted(float_layers))

    def int8_cell():
        quantized, float_layers = _quantized(model)
        content = tflite.convert(quantized, int8=True, representative=rep, batch_size=recipe.tflite_batch)
        runner = tflite.TFLiteModel(content)
        runner(rep[:recipe.tflite_batch or 2])
        if runner.input["dtype"] == np.int8:
            return "yes (int8 in/out)"
        return f"yes ({np.dtype(runner.input['dtype']).name} ids in, int8 out)"

    def saved_model_cell():
        with tempfile.TemporaryDirectory() as d:
            load_servable(export_arch(model, recipe, d, splits))
        return "yes"

    def prune_cell():
        prune.strip(prune.prunable_copy(model, 0.5, end_step=2))
        dense = prune.dense_layers(model)
        return "yes" if not dense else "yes, dense: " + ", ".join(sorted(dense))

    cells = {
        "QAT": qat_cell,
        "pruning": prune_cell,
        "pruning-preserving QAT": pqat_cell,
        "TFLite float": lambda: (tflite.TFLiteModel(tflite.convert(model, batch_size=recipe.tflite_batch))(
            rep[:recipe.tflite_batch or 2]), "yes")[1],
        "TFLite int8": int8_cell,
        "SavedModel": saved_model_cell,
    }
    if multi_input:
        reason = "no: several inputs; keras_arch's TFLite path converts and evaluates one-input models"
        cells["TFLite float"] = cells["TFLite int8"] = lambda: reason
    subclassed = [l for l in model.layers if isinstance(l, keras.Model) and not getattr(l, "_is_graph_network", True)]
    if subclassed:
        names = ", ".join(f"{l.name} ({type(l).__name__})" for l in subclassed)
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
