"""Every runnable arch: builder, default data and training recipe.

Add an arch here with :func:`keras_arch.recipe.register`; the CLI picks it up.
An arch that trains like a classifier needs only a builder and this call;
one that trains differently names its Task (``keras_arch/tasks/``).
"""
from keras_arch.reasons import GENERATED
from keras_arch.recipe import Recipe, register

# Why an arch refuses an option its task honours (docs/options.md's table).
GENERATED_ONLY = {"--data-dir": GENERATED, "--test-dir": GENERATED}

IMAGES = "keras_arch.data.images:load"

register(Recipe(
    name="cnn",
    summary="Conv32-Pool-Conv64-Pool-Conv64-Dense64-Dense10 with BatchNorm, on 28x28 digits",
    source="document 000 §4.1 (CNN实现); formula y=f(Wx+b) of document 003 §3.1",
    builder="keras_arch.models.cnn:doc000_cnn",
    builder_kwargs={"batch_norm": True, "dropout": 0.25},
    data=IMAGES, datasets=("digits", "mnist"),
    epochs=4, batch_size=128, learning_rate=3e-3, lr_schedule="warmup-cosine", warmup_epochs=0.3,
    by_data={"digits": {"epochs": 30, "batch_size": 32, "warmup_epochs": 1, "augment_shift": 2}},
    serving_input="image", serving_output="probabilities",
))

register(Recipe(
    name="cnn-doc000",
    summary="document 000 §4.1 CNN exactly as written (no BatchNorm), Adam, batch 64",
    source="document 000 §4.1 (CNN实现)",
    builder="keras_arch.models.cnn:doc000_cnn",
    data=IMAGES, datasets=("digits", "mnist"),
    epochs=10, batch_size=64, learning_rate=1e-3,
    serving_input="image", serving_output="probabilities",
))

register(Recipe(
    name="cnn-doc001",
    summary="document 001's functional CNN with its output Dense actually applied",
    source="document 001 CNN实现 (functional API)",
    builder="keras_arch.models.cnn:doc001_cnn",
    data=IMAGES, datasets=("digits", "mnist"),
    epochs=5, batch_size=64, learning_rate=1e-3,
    # 1,257 digits: 5 epochs are 100 steps (0.933, and 0.853 at half of them)
    by_data={"digits": {"epochs": 20}},
    serving_input="image", serving_output="probabilities",
))

register(Recipe(
    name="distill",
    summary="knowledge distillation: the cnn teacher, then a 5,258-parameter student (T=2, alpha=0.5)",
    source="document 002 §3.1, §4.1 (知识蒸馏)",
    builder="keras_arch.models.cnn:tiny_cnn",
    task="keras_arch.tasks.distill:DistillTask",
    data=IMAGES, datasets=("digits", "mnist"),
    epochs=6, batch_size=128, learning_rate=5e-3, lr_schedule="warmup-cosine", warmup_epochs=0.3,
    by_data={"digits": {"epochs": 40, "batch_size": 32, "warmup_epochs": 1, "augment_shift": 2}},
    serving_input="image", serving_output="probabilities",
))

TEXT = "keras_arch.data.text:load"

register(Recipe(
    name="lstm",
    summary="LSTM(128)x2 -> Dense(64) -> Dense(10): a label per timestep of (100, 64) sequences",
    source="document 000 §4.2 (RNN实现)",
    builder="keras_arch.models.rnn:doc000_stacked_lstm",
    data="keras_arch.data.sequences:load_timesteps", datasets=("generated",),
    epochs=12, batch_size=32, learning_rate=3e-3, lr_schedule="cosine",
    serving_input="sequence", serving_output="probabilities", tflite_batch=1,
    refused=GENERATED_ONLY,
))

register(Recipe(
    name="lstm-doc001",
    summary="document 001's LSTM(64) classifier on variable-length sequences (digit images read row by row)",
    source="document 001 RNN实现",
    builder="keras_arch.models.rnn:doc001_lstm_classifier",
    data="keras_arch.data.sequences:digit_rows", datasets=("digits", "mnist"),
    epochs=3, batch_size=128, learning_rate=3e-3, lr_schedule="cosine",
    by_data={"digits": {"epochs": 40, "batch_size": 32}},
    serving_input="sequence", serving_output="probabilities", tflite_batch=1,
))

register(Recipe(
    name="attention",
    summary="Embedding -> LSTM (all steps) -> Attention (final-state query, padding masked) -> Dense",
    source="document 000 §4.3 (Attention实现)",
    builder="keras_arch.models.attention:doc000_attention_classifier",
    data="keras_arch.data.text:load_with_word_vectors",
    builder_kwargs={"embedding_dropout": 0.3}, datasets=("generated", "imdb"),
    epochs=8, batch_size=64, learning_rate=3e-3, lr_schedule="cosine",
    # real sentences: 3 epochs (more overfit: 0.773 at 3, 0.762 at 8) and a 128-wide
    # embedding, the 128 leading MiniLM directions; on the inner validation / inner
    # test splits of rt-polarity folds 0-1 x seeds 0-2: width 64 0.772 / 0.749,
    # 128 0.788 / 0.751, 256 0.779 / 0.756 (word dropout 0.1: 0.767 / 0.748)
    by_data={"text": {"epochs": 3, "builder_kwargs": {"embed_dim": 128}},
             # generated: batch 64 with embedding dropout stalled short runs (2 epochs 0.47,
             # 4 epochs 0.68); batch 16 without it: 2 epochs 0.995-0.998, 8 epochs 1.0
             "generated": {"batch_size": 16, "builder_kwargs": {"embedding_dropout": 0.0}}},
    serving_input="token_ids", serving_output="probabilities", tflite_batch=1,
    tflite_lengths={"token_ids": 50},  # TextVectorization's length: the LSTM unrolls over it (optimize/tflite.py)
    plot="keras_arch.plots:attention_classifier",
))

register(Recipe(
    name="transformer",
    summary="token+position embedding -> Transformer encoder block (corrected multi-head self-attention)",
    source="document 004 §4.1 (多头自注意力)",
    builder="keras_arch.models.attention:transformer_classifier",
    data=TEXT, datasets=("generated", "imdb"),
    epochs=15, batch_size=64, learning_rate=3e-3, lr_schedule="warmup-cosine", warmup_epochs=0.5,
    # generated reviews: batch 32 gives a 3-epoch run the ~300 steps it needs to
    # find "not"/"never" (batch 64: 150 steps, 0.55-0.72 at 3 epochs)
    by_data={"generated": {"batch_size": 32}, "text": {"epochs": 3}},
    min_epochs={"generated": (3, "it learns to read 'not'/'never' in its second or third epoch: "
                                 "2 epochs scored 0.52, 3 scored 0.92-1.0")},
    serving_input="token_ids", serving_output="probabilities",
    plot="keras_arch.plots:transformer_attention",
))

register(Recipe(
    name="seq2seq",
    summary="LSTM encoder-decoder with Bahdanau attention; teacher forcing, greedy decoding (sequence reversal)",
    source="document 003 §3.3, §4 (Attention for summarisation)",
    builder="keras_arch.models.seq2seq:seq2seq", builder_kwargs={"max_length": 25},
    data="keras_arch.data.sequences:load_reversal", datasets=("generated",),
    # batch 16: it needs about 500 steps (2 epochs of 4,000 pairs: 0.999; 1 epoch
    # 0.82), so 8 epochs leave a fifth of the run enough (batch 64: 2 epochs 0.27)
    epochs=8, batch_size=16, learning_rate=3e-3, lr_schedule="cosine",
    clipnorm=1.0,  # without it, 1 seed in 3 diverged late (token accuracy 0.84 instead of 0.98-1.0)
    task="keras_arch.tasks.classification:Seq2SeqTask",
    tflite_lengths={"source": 24, "target_in": 25},  # the reversal's lengths: the float TFLite model unrolls over them
    refused=GENERATED_ONLY,
    serving_input="source", serving_output="tokens",
    plot="keras_arch.plots:seq2seq_attention",
))

register(Recipe(
    name="bert",
    summary="pretrained BERT encoder (all-MiniLM-L6-v2, offline) -> [CLS] -> Dropout -> Dense; text-in export",
    source="document 001 Transformer实现 (TFBertModel + Dense head)",
    builder="keras_arch.models.bert_classifier:bert_classifier", builder_kwargs={"pretrained": "minilm"},
    small_builder_kwargs={"pretrained": None},
    task="keras_arch.tasks.bert:BertTask",
    data="keras_arch.tasks.bert:load", datasets=("generated", "imdb"),
    epochs=2, batch_size=32, learning_rate=5e-5, optimizer="adamw", lr_schedule="warmup-linear",
    # the embedded 800 generated sentences: batch 32 x 2 epochs were 40 steps, too few
    # for fine-tuning to settle (seeds 0/1/2: 0.90 / 0.79 / 0.64; 1 epoch 0.56); batch 8
    # x 5 epochs (400 steps): seeds 0/1/2 1.0 / 1.0 / 1.0, 1 epoch 0.86. rt-polarity
    # (8,600 sentences, 540 steps at batch 32 x 2) keeps the defaults.
    by_data={"generated": {"batch_size": 8, "epochs": 5}},
    serving_input="text", serving_output="probabilities",
))

register(Recipe(
    name="moe",
    summary="Transformer classifier whose feed-forward is a mixture of 4 experts (top-1, capacity 1.25, Switch aux loss)",
    source="document 002 §3.4 (自适应网络: adapt() was `pass`)",
    builder="keras_arch.models.moe:moe_transformer_classifier",
    builder_kwargs={"num_experts": 4, "top_k": 1, "expert_units": 128},
    data=TEXT, datasets=("generated", "imdb"),
    epochs=15, batch_size=64, learning_rate=3e-3, lr_schedule="warmup-cosine", warmup_epochs=0.5,
    by_data={"generated": {"batch_size": 32}, "text": {"epochs": 3}},  # as the transformer's
    min_epochs={"generated": (3, "it learns to read 'not'/'never' in its second or third epoch")},
    serving_input="token_ids", serving_output="probabilities",
    report="keras_arch.models.moe:expert_load",
))

register(Recipe(
    name="early-exit",
    summary="three-stage CNN with a classifier after each stage; exits when softmax confidence passes a threshold",
    source="document 002 §3.4 (自适应网络)",
    builder="keras_arch.models.early_exit:early_exit_cnn",
    task="keras_arch.tasks.multi_output:EarlyExitTask",
    data=IMAGES, datasets=("digits", "mnist"),
    epochs=3, batch_size=128, learning_rate=3e-3, lr_schedule="warmup-cosine", warmup_epochs=0.3,
    by_data={"digits": {"epochs": 30, "batch_size": 32, "warmup_epochs": 1, "augment_shift": 2}},
    serving_input="image", serving_output="probabilities",
))

register(Recipe(
    name="transfer",
    summary="pretrain the document 000 CNN on digits 0-4, fine-tune on 5-9 with few labels (frozen, then unfrozen) vs scratch",
    source="document 000 §3.3, document 002 §3.4 (迁移学习)",
    builder="keras_arch.models.cnn:doc000_cnn", builder_kwargs={"dropout": 0.25},
    task="keras_arch.tasks.transfer:TransferTask",
    data=IMAGES, datasets=("digits", "mnist"),
    epochs=4, batch_size=64, learning_rate=1e-3,
    by_data={"digits": {"epochs": 15, "batch_size": 32, "augment_shift": 2}},
    serving_input="image", serving_output="probabilities",
))

register(Recipe(
    name="multitask",
    summary="shared CNN trunk, two heads (digit, parity), weighted losses 1.0 / 0.5",
    source="document 000 §3.3, document 002 §3.4 (多任务学习)",
    builder="keras_arch.models.multitask:multitask_cnn",
    task="keras_arch.tasks.multi_output:MultitaskTask",
    data=IMAGES, datasets=("digits", "mnist"),
    epochs=4, batch_size=128, learning_rate=3e-3, lr_schedule="warmup-cosine", warmup_epochs=0.3,
    by_data={"digits": {"epochs": 30, "batch_size": 32, "warmup_epochs": 1, "augment_shift": 2}},
    serving_input="image", serving_output="probabilities",
))

register(Recipe(
    name="crossmodal",
    summary="two-tower image-caption model: CNN + text towers in one space, InfoNCE, fusion f = Σαf_j(x) + Σβf_k(y)",
    source="document 004 §3.2, §4.2 (跨模态学习)",
    builder="keras_arch.models.two_tower:two_tower",
    task="keras_arch.tasks.crossmodal:CrossModalTask",
    data="keras_arch.data.captions:load", datasets=("digits", "mnist"),
    epochs=5, batch_size=128, learning_rate=3e-3, lr_schedule="warmup-cosine", warmup_epochs=0.3,
    # digits: batch 32 (40 steps an epoch) so a fifth of the run learns the space
    # (6 epochs at batch 64: image->text R@1 0.55; at batch 32: 0.95)
    by_data={"digits": {"epochs": 30, "batch_size": 32, "warmup_epochs": 1}},
    serving_input="image", serving_output="probabilities",
))

KG = "keras_arch.data.kg:load"
_KG_TRAINING = dict(
    data=KG, datasets=("family",), task="keras_arch.tasks.kg:KGTask",
    serving_input="head", serving_output="scores", loss="categorical_crossentropy",
    epochs=150, batch_size=128, learning_rate=3e-3,
    by_data={"family": {"epochs": 30, "learning_rate": 1e-2}},  # keeps `run kg` on the embedded graph under 90 s
)

register(Recipe(
    name="kg",
    summary="knowledge-graph triple scorer f = MLP(E(h) ⊕ E(t) ⊕ E(r)) (--combine concat|sum), 1-N or --negatives K",
    source="document 004 §3.3, §4.3 (结构化知识迁移)",
    builder="keras_arch.models.kg:kg_model",
    builder_kwargs={"scorer": "mlp", "dim": 100, "hidden": 200, "dropout": 0.2, "hidden_dropout": 0.3},
    small_builder_kwargs={"dim": 8, "hidden": 8},
    # the embedded family graph: without dropout (test MRR 0.946 at 30 epochs against 0.900
    # with it; 15 epochs 0.895 against 0.713) and 60 epochs, so a fifth of the run (12: 0.835)
    # is past the slow start (6 epochs 0.66, 10 epochs 0.80, 20 epochs 0.94)
    **{**_KG_TRAINING, "by_data": {"family": {"epochs": 60, "learning_rate": 1e-2, "builder_kwargs": {
        "hidden": 100, "dropout": 0.0, "hidden_dropout": 0.0}}}},
))

register(Recipe(
    name="kg-distmult",
    summary="DistMult baseline for the kg scorer, same trainer and ranking",
    source="document 004 §3.3 (baseline: Yang et al. 2015)",
    builder="keras_arch.models.kg:kg_model",
    builder_kwargs={"scorer": "distmult", "dim": 200, "dropout": 0.2},
    small_builder_kwargs={"dim": 8},
    **_KG_TRAINING,
))

register(Recipe(
    name="kg-transe",
    summary="TransE baseline for the kg scorer, same trainer and ranking",
    source="document 004 §3.3 (baseline: Bordes et al. 2013)",
    builder="keras_arch.models.kg:kg_model",
    builder_kwargs={"scorer": "transe", "dim": 200, "dropout": 0.0},
    small_builder_kwargs={"dim": 8},
    **_KG_TRAINING,
))
