import numpy as np
import pytest

from keras_arch.errors import UsageError
from keras_arch.models import bert_classifier as bc
from keras_arch.models import bert_config as bcfg

TINY100 = bcfg.BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                          intermediate_size=64)


@pytest.fixture(scope="module")
def tiny():
    return bc.bert_classifier(num_classes=3, pretrained=None, config=TINY100)


def ids(batch=2, length=7):
    rng = np.random.default_rng(0)
    x = {"input_ids": rng.integers(1, 100, (batch, length)).astype(np.int32),
         "attention_mask": np.ones((batch, length), np.int32),
         "token_type_ids": np.zeros((batch, length), np.int32)}
    x["attention_mask"][0, 4:] = 0
    return x


def test_builder_shapes_and_head(tiny):
    out = tiny(ids()).numpy()
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-5)
    assert sorted(i.name for i in tiny.inputs) == sorted(bc.INPUTS)
    assert tiny.get_layer("probabilities").kernel.shape == (32, 3)


def test_padding_beyond_the_mask_does_not_change_the_output(tiny):
    x = ids()
    short = {k: v[:1, :4] for k, v in x.items()}
    np.testing.assert_allclose(tiny(short).numpy(), tiny({k: v[:1] for k, v in x.items()}).numpy(), atol=1e-5)


def test_weights_round_trip(tiny, tmp_path):
    path = str(tmp_path / "w.h5")
    tiny.save_weights(path)
    other = bc.bert_classifier(num_classes=3, pretrained=None, config=TINY100)
    other.load_weights(path)
    np.testing.assert_allclose(other(ids()).numpy(), tiny(ids()).numpy(), atol=1e-6)


def test_freeze_encoder_trains_only_the_head():
    model = bc.bert_classifier(num_classes=2, pretrained=None, config=TINY100, freeze_encoder=True)
    assert [w.name for w in model.trainable_weights] == ["probabilities/kernel:0", "probabilities/bias:0"]


def test_bad_pretrained_dirs_are_one_line(tmp_path):
    with pytest.raises(UsageError, match="no such directory"):
        bcfg.check_dir(str(tmp_path / "nope"))
    with pytest.raises(UsageError, match="no config.json"):
        bcfg.check_dir(str(tmp_path))
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "vocab.txt").write_text("[PAD]\n")
    with pytest.raises(UsageError, match="neither model.safetensors nor tf_model.h5"):
        bcfg.check_dir(str(tmp_path))
    (tmp_path / "model.safetensors").write_bytes(b"not safetensors")
    (tmp_path / "config.json").write_text("[1]")
    with pytest.raises(UsageError, match="not a JSON object"):
        bcfg.check_dir(str(tmp_path))
    (tmp_path / "config.json").write_text("{}")
    from keras_arch.models import bert_backbone as bb
    with pytest.raises(UsageError, match="not a readable safetensors file"):
        bb.read_tensors(str(tmp_path))


def test_packaged_encoder_is_really_pretrained():
    """all-MiniLM-L6-v2 from safetensors, no torch and no transformers:
    mean-pooled embeddings of paraphrases are closer than those of unrelated
    sentences (the tokenizer: keras_arch's in-graph one)."""
    import tensorflow as tf
    from keras_arch.models import bert_backbone as bb
    from keras_arch.tasks.bert import tokenizer_for
    config = bcfg.check_dir("minilm")
    encoder = bb.bert_backbone(config)
    assert bb.load_weights(encoder, config, bcfg.default_pretrained_dir())["missing"] == []
    assert (config.hidden_size, config.num_hidden_layers) == (384, 6)
    sentences = ["A man is eating food.", "A man is eating a piece of bread.",
                 "The stock market fell sharply today.", "Shares dropped steeply on the exchange today."]
    enc = {k: v.numpy() for k, v in tokenizer_for("minilm", 128)(tf.constant(sentences)).items()}
    h = encoder(enc).numpy()
    m = enc["attention_mask"][..., None]
    e = (h * m).sum(1) / m.sum(1)
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    sim = e @ e.T
    assert sim[0, 1] > 0.6 and sim[2, 3] > 0.6
    assert max(sim[0, 2], sim[0, 3], sim[1, 2], sim[1, 3]) < 0.2


@pytest.mark.slow  # a fresh process or a whole export: runs in CI, not in the fast suite
def test_text_in_export_equals_the_python_path(tmp_path):
    """Hugging Face tokenizer + model in Python == the reloaded SavedModel fed raw text."""
    import tensorflow as tf
    from transformers import BertTokenizer
    from keras_arch.serving.export import export_servable, load_servable
    from keras_arch.tasks import bert
    model = bc.bert_classifier(num_classes=2, pretrained=None)  # tiny, real vocabulary size
    sentences = ["A moving, wonderful film.", "Not good. Naïve plot…", "東京 😀", ""]
    path = export_servable(model, str(tmp_path), "bert", bert.signatures(model, bert.tokenizer_for("minilm", 128)))
    served = load_servable(path).signatures["serving_default"](text=tf.constant(sentences))["probabilities"]
    enc = BertTokenizer.from_pretrained(bcfg.default_pretrained_dir())(sentences, padding=True, return_tensors="np")
    python = model({k: enc[k].astype(np.int32) for k in bc.INPUTS}, training=False)
    np.testing.assert_allclose(served.numpy(), python.numpy(), rtol=1e-5, atol=1e-6)


def test_every_trainable_weight_gets_a_gradient(caplog):
    """Every weight of the flat classifier takes part in its output, so fit
    does not warn "Gradients do not exist" at every step."""
    import tensorflow as tf
    import tf_keras as keras
    model = bc.bert_classifier(num_classes=2, pretrained=None, config=TINY100)
    x = ids()
    with tf.GradientTape() as tape:
        loss = keras.losses.sparse_categorical_crossentropy(np.array([0, 1]), model(x, training=True))
    grads = tape.gradient(loss, model.trainable_weights)
    assert [w.name for w, g in zip(model.trainable_weights, grads) if g is None] == []
    assert not any(isinstance(layer, keras.Model) for layer in model.layers)  # flat: TFMOT wraps every layer
    model.compile("adam", "sparse_categorical_crossentropy")
    with caplog.at_level("WARNING"):
        model.fit(x, np.array([0, 1]), epochs=1, verbose=0)
    assert "Gradients do not exist" not in caplog.text


