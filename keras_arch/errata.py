"""Errata: every code example of the five documents, what it was meant to do,
what happens when it runs as written, the keras_arch command or builder that
does it right, and the test that proves it. ``python -m keras_arch.run --list``
prints it; the table of ``docs/errata.md`` is generated from it
(``python -m keras_arch.readme errata``; a test compares).
"""
from keras_arch.markdown import cell, header

HEADERS = {
    "en": ("doc", "section", "meant to", "as written", "keras_arch", "test"),
    "zh": ("文档", "章节", "本意 (meant to)", "照原文运行 (as written)", "keras_arch 的替代", "测试 (test)"),
}

# (document, section, meant to, as written, keras_arch, test)
ROWS = [
    ("000", "§4.1 CNN实现", "Conv32-Pool-Conv64-Pool-Conv64-Dense64-Dense10 digit classifier",
     "runs once x_train/y_train exist (never defined); the structure is sound",
     "`run cnn-doc000` (exact), `run cnn` (BatchNorm, 99.45% on MNIST)",
     "tests/models/cnn_test.py::test_doc000_cnn_parameter_count_matches_the_document_by_hand"),
    ("000", "§4.2 RNN实现", "stacked LSTM(128)x2 over (100, 64) sequences",
     "fails with one label per sequence, as the text implies (ValueError: labels.shape must equal logits.shape): "
     "return_sequences=True makes Dense label every timestep; it trains only on per-timestep labels the text never mentions",
     "`run lstm` (a label per timestep, generated data)",
     "tests/models/rnn_test.py::test_doc000_stacked_lstm_parameters_and_per_timestep_output"),
    ("000", "§4.3 Attention实现", "LSTM + attention text classifier",
     "ValueError: Attention must be called on a list of inputs (query, value) inside a Sequential",
     "`run attention` (final-state query over all LSTM steps, padding masked)",
     "tests/models/attention_test.py::test_doc000_attention_as_written_cannot_run"),
    ("001", "CNN实现", "functional-API CNN",
     "fails: outputs= is the Dense layer object, never applied to x",
     "`run cnn-doc001`, `keras_arch.models.cnn:doc001_cnn`",
     "tests/models/cnn_test.py::test_doc001_cnn_as_written_fails"),
    ("001", "RNN实现", "LSTM(64) classifier over variable-length sequences",
     "fails the same way (outputs= an unapplied Dense); num_features and num_classes undefined",
     "`run lstm-doc001`, `keras_arch.models.rnn:doc001_lstm_classifier`",
     "tests/errata_test.py::test_doc001_rnn_as_written_fails"),
    ("001", "Transformer实现", "BERT encoder + softmax head",
     "downloads bert-base-uncased (no network here); `model` names both encoder and classifier; Dense never applied; num_classes undefined",
     "`run bert` (packaged all-MiniLM-L6-v2, offline, text-in export)",
     "tests/models/bert_classifier_test.py::test_text_in_export_equals_the_python_path"),
    ("002", "§4.1 模型结构的优化 (distillation)", "train a small model from a large one",
     "placeholders: both models return x unchanged and no loss or training is written",
     "`run distill` (Distiller, T=2, alpha=0.5)",
     "tests/optimize/distiller_test.py::test_loss_equals_the_formula_in_numpy"),
    ("002", "§4.2 模型的并行化", "data-parallel training on several GPUs",
     "NameError: parser is undefined; no process group is initialised before training",
     "`--strategy mirrored|multi-worker` on every arch",
     "tests/training/distribute_test.py::test_two_workers_train_together_and_only_the_chief_writes"),
    ("002", "§4.3 模型的压缩", "quantize a model",
     "ImportError: torch.quantization.q_module does not exist, nor does torch.nn.QLinear",
     "`run cnn --qat --tflite m.tflite` (TFMOT QAT, full-int8 TFLite)",
     "tests/optimize/qat_test.py::test_bn_cnn_quantizes_exactly_like_tfmot_quantize_model"),
    ("002", "§4.4 模型的自适应", "a network that adapts its structure to its input",
     "adapt() is `pass`: nothing adapts",
     "`run moe` (mixture of experts), `run early-exit`",
     "tests/layers/mixture_of_experts_test.py::test_top_k_and_capacity_are_respected"),
    ("003", "§4 Attention (summarisation)", "additive attention of a decoder state over encoder outputs",
     "fails unless hidden_size = attention_size (V takes hidden_size inputs but gets attention_size); with them "
     "equal it runs, silently wrong: the scores never see encoder_outputs, and the softmax over an axis of size 1 "
     "makes every weight 1",
     "`run seq2seq`, `keras_arch.layers.bahdanau_attention:BahdanauAttention`",
     "tests/errata_test.py::test_doc003_attention_weights_are_all_one"),
    ("004", "§4.1 自注意力机制", "multi-head self-attention",
     "TypeError: nn.Dropout(rate=0.1) (PyTorch's argument is p); past that, permute(0, 2, 1, 3, 4) + unbind(dim=2) "
     "splits the sequence, not q/k/v (fails unless N = 3, and then q kᵀ attends across heads, not positions); "
     "no softmax over the scores; np not imported",
     "`run transformer`, `keras_arch.layers.multi_head_self_attention:MultiHeadSelfAttention`",
     "tests/errata_test.py::test_doc004_self_attention_unbinds_the_wrong_axis"),
    ("004", "§4.2 跨模态学习", "image-text shared representation and similarity",
     "fails: cat of two 128-d features (256) into nn.Linear(128, 64); the similarity compares fused pairs with themselves",
     "`run crossmodal` (two towers, InfoNCE, weighted fusion)",
     "tests/models/two_tower_test.py::test_document_code_fails_as_written"),
    ("004", "§4.3 结构化知识迁移", "score (e_i, r, e_j) triples with MLP(E(e_i) ⊕ E(e_j) ⊕ E(r))",
     "NameError: num_entities, num_relations undefined; forward never sees e_j; text says ⊕ is addition, code concatenates",
     "`run kg --combine concat|sum`, `run kg-distmult`, `run kg-transe`",
     "tests/errata_test.py::test_doc004_kg_scorer_ignores_the_tail"),
]


def render(lang="en"):
    """The Markdown table; ``lang`` ("en" or "zh") changes only the header row."""
    lines = header(HEADERS[lang])
    for doc, section, meant, written, fix, test in ROWS:
        path, name = test.split("::")
        cells = [cell(c) for c in (doc, section, meant, written, fix)] + [f"[`{name}`](../{path})"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def text():
    """The plain-text form for ``run --list``."""
    out = ["Errata (document, section: as written -> keras_arch):"]
    for doc, section, _, written, fix, _ in ROWS:
        out.append(f"  {doc} {section}: {written}\n      -> {fix.replace('`', '')}")
    return "\n".join(out)
