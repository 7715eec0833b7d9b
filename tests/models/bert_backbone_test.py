"""The functional BERT encoder (keras_arch/models/bert_backbone.py): the NumPy
formula on a random tiny encoder, transformers' TFBertModel as the
independent reference on the packaged all-MiniLM-L6-v2 and on a tf_model.h5,
and one line for a directory whose tensors do not fit its config."""
import json
import os
import shutil

import numpy as np
import pytest

from keras_arch.errors import UsageError
from keras_arch.layers.scaled_dot_product_attention import ScaledDotProductAttention
from keras_arch.models import bert_backbone as bb
from keras_arch.models import bert_config as bcfg
from keras_arch import reference
from tests.helpers import run_layer_test

SMALL = bcfg.BertConfig(vocab_size=50, hidden_size=12, num_hidden_layers=2, num_attention_heads=3,
                        intermediate_size=20, max_position_embeddings=16, type_vocab_size=2)


def padded_batch(vocab, batch=3, time=9, seed=0):
    """Token ids with a different amount of padding per row, and segments."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, vocab, (batch, time)).astype(np.int32)
    mask = np.ones_like(ids)
    mask[1, 6:] = 0
    mask[2, 3:] = 0
    ids[mask == 0] = 0
    segments = (np.arange(time)[None, :] >= 4).astype(np.int32).repeat(batch, 0) * mask
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": segments}


def hf_tensors(config, seed=0):
    """Random weights under Hugging Face's names and PyTorch layouts (biases and
    LayerNorm parameters random too, so no term hides behind a zero or a one)."""
    rng = np.random.default_rng(seed)
    h, f = config.hidden_size, config.intermediate_size
    r = lambda *shape: rng.normal(0, 0.3, shape).astype(np.float32)  # noqa: E731
    t = {"embeddings.word_embeddings.weight": r(config.vocab_size, h),
         "embeddings.position_embeddings.weight": r(config.max_position_embeddings, h),
         "embeddings.token_type_embeddings.weight": r(config.type_vocab_size, h),
         "embeddings.LayerNorm.weight": 1 + r(h), "embeddings.LayerNorm.bias": r(h),
         "embeddings.position_ids": np.arange(config.max_position_embeddings)[None].astype(np.int64),
         "pooler.dense.weight": r(h, h), "pooler.dense.bias": r(h)}
    for i in range(config.num_hidden_layers):
        p = f"encoder.layer.{i}."
        for name, shape in (("attention.self.query", (h, h)), ("attention.self.key", (h, h)),
                            ("attention.self.value", (h, h)), ("attention.output.dense", (h, h)),
                            ("intermediate.dense", (f, h)), ("output.dense", (h, f))):
            t[p + name + ".weight"], t[p + name + ".bias"] = r(*shape), r(shape[0])
        for name in ("attention.output.LayerNorm", "output.LayerNorm"):
            t[p + name + ".weight"], t[p + name + ".bias"] = 1 + r(h), r(h)
    return t


def hf_directory(path, config, tensors):
    """A Hugging Face BERT directory: config.json, vocab.txt, model.safetensors."""
    from safetensors.numpy import save_file
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump({"model_type": "bert", "hidden_act": "gelu", **{k: getattr(config, k) for k in
                   ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                    "max_position_embeddings", "type_vocab_size", "layer_norm_eps")}}, f)
    with open(os.path.join(path, "vocab.txt"), "w") as f:
        f.write("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]"] + [f"w{i}" for i in range(config.vocab_size - 4)]))
    save_file(tensors, os.path.join(path, "model.safetensors"))
    return str(path)


def test_the_encoder_computes_the_bert_formula_on_a_padded_batch(tmp_path):
    """Embedding sum + LN, then per layer: heads over the real keys only,
    output projection, residual + LN, GELU feed-forward, residual + LN,
    against a NumPy loop over examples and heads: a dropped residual, a
    transposed kernel, a counted pad or a swapped LayerNorm changes it."""
    tensors = hf_tensors(SMALL)
    directory = hf_directory(tmp_path / "small", SMALL, tensors)
    model = bb.bert_backbone(SMALL)
    info = bb.load_weights(model, SMALL, directory)
    assert info == {"missing": [], "unused": ["embeddings.position_ids", "pooler.dense.bias", "pooler.dense.weight"]}
    x = padded_batch(SMALL.vocab_size)
    expected = reference.bert_encoder(tensors, **x, num_heads=SMALL.num_attention_heads, eps=SMALL.layer_norm_eps)
    got = model(x).numpy()
    np.testing.assert_allclose(got, expected, atol=2e-4, rtol=0)  # every position, pads included
    # The padding of a row does not reach its real tokens: cut it off and nothing changes.
    short = {k: v[2:3, :3] for k, v in x.items()}
    np.testing.assert_allclose(model(short).numpy()[0], got[2, :3], atol=1e-5)


def test_attention_core_is_a_layer_and_padded_keys_get_no_weight(tmp_path):
    """run_layer_test (config, .keras and SavedModel, mixed_bfloat16), and the
    weights a padded key gets are below 1e-6 even when its score is the
    largest; a row of padding only is finite."""
    import tensorflow as tf
    rng = np.random.default_rng(1)
    q, k, v = (rng.normal(0, 1, (2, 5, 6)).astype(np.float32) for _ in range(3))
    layer = ScaledDotProductAttention(num_heads=2)
    run_layer_test(layer, [q, k, v], tmp_path)
    mask = np.array([[1, 1, 1, 0, 0], [0, 0, 0, 0, 0]], np.int32)
    k[:, 3:] *= 50  # the padded keys would dominate if counted
    out = layer([q, k, v], attention_mask=tf.constant(mask)).numpy()
    d = 3
    for head in range(2):
        cols = slice(head * d, (head + 1) * d)
        w = reference.softmax(q[0, :, cols] @ k[0, :3, cols].T / np.sqrt(d))
        np.testing.assert_allclose(out[0, :, cols], w @ v[0, :3, cols], atol=1e-5)
    assert np.all(np.isfinite(out[1]))


def test_a_directory_whose_tensors_do_not_fit_its_config_is_one_line(tmp_path):
    tensors = hf_tensors(SMALL)
    tensors["encoder.layer.1.intermediate.dense.weight"] = tensors["encoder.layer.1.intermediate.dense.weight"][:, :8]
    directory = hf_directory(tmp_path / "bad", SMALL, tensors)
    with pytest.raises(UsageError) as e:
        bb.load_weights(bb.bert_backbone(SMALL), SMALL, directory)
    assert str(e.value) == (f"--pretrained {directory}: tensor encoder.layer.1.intermediate.dense.weight has "
                            "shape (20, 8), the config expects (20, 12)")
    fewer = {k: v for k, v in hf_tensors(SMALL).items() if k != "encoder.layer.0.attention.self.key.bias"}
    directory = hf_directory(tmp_path / "missing", SMALL, fewer)
    with pytest.raises(UsageError, match=r"no tensor encoder\.layer\.0\.attention\.self\.key\.bias$"):
        bb.load_weights(bb.bert_backbone(SMALL), SMALL, directory)


@pytest.mark.parametrize("change, message", [
    ({"hidden_act": "relu"}, "hidden_act 'relu' is not supported"),
    ({"hidden_size": 13}, "hidden_size 13 is not a multiple of num_attention_heads 3"),
    ({"position_embedding_type": "relative_key"}, "position_embedding_type 'relative_key' is not supported"),
])
def test_configs_it_cannot_build_are_one_line(tmp_path, change, message):
    directory = hf_directory(tmp_path / "d", SMALL, hf_tensors(SMALL))
    path = os.path.join(directory, "config.json")
    config = json.load(open(path))
    config.update(change)
    json.dump(config, open(path, "w"))
    with pytest.raises(UsageError, match=message):
        bcfg.check_dir(directory)


@pytest.mark.slow  # imports transformers (about 5 s) and runs two 22M-parameter encoders
def test_the_packaged_minilm_matches_transformers_tfbertmodel():
    """all-MiniLM-L6-v2 from model.safetensors, read by keras_arch and by
    transformers' TFBertModel (the independent reference): the last hidden
    state of a padded batch agrees within 1e-4 at every position."""
    directory = bcfg.default_pretrained_dir()
    config = bcfg.check_dir("minilm")
    ours = bb.bert_backbone(config)
    bb.load_weights(ours, config, directory)
    x = padded_batch(config.vocab_size, batch=4, time=24)
    x["input_ids"][:, 0] = 101  # [CLS]
    theirs = _transformers_encoder(directory, config)
    diff = np.abs(ours(x).numpy() - theirs(x).last_hidden_state.numpy())
    assert diff.max() <= 1e-4, diff.max()


@pytest.mark.slow  # imports transformers
def test_a_transformers_tf_model_h5_loads_like_its_safetensors(tmp_path):
    """transformers' own TF checkpoint (tf_model.h5, written by save_pretrained)
    is read with h5py and gives what transformers computes."""
    import transformers
    config = SMALL
    hf = transformers.TFBertModel(transformers.BertConfig(
        vocab_size=config.vocab_size, hidden_size=config.hidden_size, num_hidden_layers=config.num_hidden_layers,
        num_attention_heads=config.num_attention_heads, intermediate_size=config.intermediate_size,
        max_position_embeddings=config.max_position_embeddings), name="bert")
    hf(hf.dummy_inputs)
    hf.save_pretrained(str(tmp_path / "h5"))
    shutil.copy(os.path.join(bcfg.default_pretrained_dir(), "vocab.txt"), tmp_path / "h5")
    assert sorted(os.listdir(tmp_path / "h5")) == ["config.json", "tf_model.h5", "vocab.txt"]
    ours = bb.bert_backbone(bcfg.check_dir(str(tmp_path / "h5")))
    bb.load_weights(ours, config, str(tmp_path / "h5"))
    x = padded_batch(config.vocab_size)
    np.testing.assert_allclose(ours(x).numpy(), hf(x).last_hidden_state.numpy(), atol=1e-4)


def _transformers_encoder(directory, config):
    import transformers
    from safetensors.numpy import load_file
    from transformers.modeling_tf_pytorch_utils import load_pytorch_state_dict_in_tf2_model
    transformers.logging.set_verbosity_error()
    model = transformers.TFBertModel(transformers.BertConfig.from_pretrained(directory), name="bert")
    model(model.dummy_inputs)
    load_pytorch_state_dict_in_tf2_model(model, load_file(os.path.join(directory, "model.safetensors")),
                                         allow_missing_keys=True)
    return model
