"""The errata table: every row's test exists, and the document examples that
had no as-written test yet, reproduced (tests/generated_test.py checks that
docs/errata.md holds the current table)."""
import ast
import os
import re

import numpy as np
import pytest

from keras_arch import errata
from keras_arch.backend import keras
from tests.conftest import ROOT


def test_a_pipe_in_a_cell_is_escaped_so_github_keeps_the_row_whole():
    """GitHub splits table cells at every unescaped |, inside backticks too."""
    for row in errata.render().splitlines()[2:]:
        assert len(re.findall(r"(?<!\\)\|", row)) == 7, row
    assert "`--strategy mirrored\\|multi-worker`" in errata.render()


def test_every_code_example_has_a_row_and_every_row_a_real_test():
    assert len(errata.ROWS) == 14  # 3 + 3 + 4 + 1 + 3 code blocks in documents 000-004
    assert {r[0] for r in errata.ROWS} == {"000", "001", "002", "003", "004"}
    for *_, test in errata.ROWS:
        path, name = test.split("::")
        tree = ast.parse(open(os.path.join(ROOT, path)).read())
        assert name in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}, test


def test_doc001_rnn_as_written_fails():
    """outputs= is the Dense layer, never applied to the LSTM's output."""
    input_layer = keras.layers.Input(shape=(None, 8))
    keras.layers.LSTM(64)(input_layer)
    output_layer = keras.layers.Dense(3, activation="softmax")
    with pytest.raises((TypeError, ValueError, AttributeError)):
        keras.Model(inputs=input_layer, outputs=output_layer)


def test_doc003_attention_weights_are_all_one():
    """With hidden_size != attention_size, V fails on its input width; equal,
    W, tanh, V, a see the hidden state alone, then exp / sum over axis 1 of a
    (batch, 1) tensor: every weight is exactly 1 and encoder_outputs never count."""
    rng = np.random.default_rng(0)
    hidden_size = attention_size = 6  # equal, or V(hidden) fails on its input width
    W, V = rng.normal(size=(hidden_size, attention_size)), rng.normal(size=(hidden_size, attention_size))
    a = rng.normal(size=(attention_size, 1))
    hidden = rng.normal(size=(4, hidden_size))
    scores = np.exp((np.tanh(hidden @ W) @ V) @ a)  # (batch, 1)
    weights = scores / scores.sum(1, keepdims=True)
    np.testing.assert_array_equal(weights, 1.0)
    with pytest.raises(ValueError):
        np.tanh(hidden @ W) @ rng.normal(size=(hidden_size + 2, attention_size))  # sizes differ: V breaks


def test_doc004_self_attention_unbinds_the_wrong_axis():
    """qkv.view(B, N, 3, H, d).permute(0, 2, 1, 3, 4) is (B, 3, N, H, d);
    unbind(dim=2) splits N, so q, k, v = ... fails unless N == 3, and then
    q is (B, 3, H, d): q kᵀ compares heads with heads, not positions."""
    B, N, H, d = 2, 5, 2, 4
    qkv = np.zeros((B, N, 3 * H * d)).reshape(B, N, 3, H, d).transpose(0, 2, 1, 3, 4)
    with pytest.raises(ValueError, match="too many values to unpack"):
        q, k, v = [qkv[:, :, i] for i in range(qkv.shape[2])]
    n3 = np.arange(B * 3 * 3 * H * d).reshape(B, 3, 3, H, d).transpose(0, 2, 1, 3, 4)  # N = 3
    q3 = n3[:, :, 0]  # what unbind(dim=2) hands back as q: (B, 3 [q/k/v], H, d)
    assert (q3 @ np.swapaxes(q3, -1, -2)).shape == (B, 3, H, H)  # H x H: attention across heads
    # With N == 3 it runs, but without a softmax the "attention" rows do not sum to 1.
    q = k = np.random.default_rng(1).normal(size=(1, 3, 4))
    attn = q @ k.transpose(0, 2, 1) / np.sqrt(4)
    assert not np.allclose(attn.sum(-1), 1.0)


def test_doc004_kg_scorer_ignores_the_tail():
    """forward(entities, relations): Linear(E(e) ⊕ E(r)) has no e_j, so every
    candidate tail gets the same output."""
    rng = np.random.default_rng(2)
    E, R, W = rng.normal(size=(10, 4)), rng.normal(size=(3, 4)), rng.normal(size=(8, 4))
    forward = lambda e, r: np.concatenate([E[e], R[r]], -1) @ W  # noqa: E731  (the document's forward)
    outs = [forward(np.array([1]), np.array([2])) for _tail in range(10)]  # nowhere to pass a tail
    assert all(np.array_equal(outs[0], o) for o in outs)


def test_list_shows_the_errata():
    from keras_arch.run import list_text
    text = list_text()
    assert "Errata" in text and "004 §4.3" in text
