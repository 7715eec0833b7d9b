import json

import numpy as np
import pytest

from keras_arch.tasks.base import for_arch
from keras_arch import registry
from keras_arch.errors import UsageError
from keras_arch.export import example_request
from keras_arch.serving import rest
from keras_arch.serving import signatures
from tests.conftest import SERVING_FAST


def _signature_cases():
    cases = []
    for arch in registry.names():
        sigs = ["serving_default"] + (["next_token_probabilities"] if arch == "seq2seq" else [])
        cases += [(arch, sig) if arch in SERVING_FAST else pytest.param(arch, sig, marks=pytest.mark.slow)
                  for sig in sigs]
    return cases


@pytest.mark.parametrize("fmt", ["instances", "inputs"])
@pytest.mark.parametrize("arch, signature", _signature_cases())
def test_readme_request_bodies_map_onto_the_signature(exported, loaded, arch, signature, fmt):
    model, recipe, splits, path = exported[1][arch]
    inputs = {k: np.asarray(v)[:2] for k, v in for_arch(recipe.name).serving_samples(splits, 2)[signature].items()}
    # The body `python -m keras_arch.export --example-request` prints, through real JSON.
    body = json.loads(json.dumps(rest.example_body(inputs, fmt, signature)))
    answer = rest.predict(loaded(arch), body)
    if any(v.dtype.kind == "f" for v in inputs.values()):
        inputs = {k: np.round(v, 4) if v.dtype.kind == "f" else v for k, v in inputs.items()}
    expected = {k: v.numpy() for k, v in signatures.call(for_arch(recipe.name).signatures(model)[signature], inputs).items()}
    key = "predictions" if fmt == "instances" else "outputs"
    assert list(answer) == [key]
    if len(expected) == 1:  # TF Serving drops the output names
        (name, value), = expected.items()
        got = np.asarray(answer[key])
        assert got.shape == value.shape  # rows (row format) or the batched value (columnar)
        np.testing.assert_allclose(got, value, rtol=1e-5, atol=1e-6)
        return
    for name, value in expected.items():  # several outputs: named, per row or per column
        got = (np.asarray([row[name] for row in answer[key]]) if fmt == "instances"
               else np.asarray(answer[key][name]))
        assert got.shape == value.shape
        np.testing.assert_allclose(got, value, rtol=1e-5, atol=1e-6)


def test_example_request_cli_prints_the_same_body(exported):
    _, recipe, splits, _ = exported[1]["cnn"]
    inputs = for_arch(recipe.name).serving_samples(splits, 2)["serving_default"]
    assert example_request("cnn", "inputs", "serving_default") == rest.example_body(inputs, "inputs")


def test_row_format_with_named_objects_and_several_outputs():
    import tensorflow as tf
    specs = {"a": tf.TensorSpec([None, 2], tf.float32), "b": tf.TensorSpec([None], tf.string)}
    inputs, fmt = rest.parse({"instances": [{"a": [1, 2], "b": {"b64": "aGk="}},
                                            {"a": [3, 4], "b": "yo"}]}, specs)
    assert fmt == "row" and inputs["a"].shape == (2, 2) and list(inputs["b"]) == [b"hi", "yo"]
    answer = rest.format_response({"p": np.array([[0.1], [0.2]]), "q": np.array([1, 2])}, "row")
    assert answer == {"predictions": [{"p": [0.1], "q": 1}, {"p": [0.2], "q": 2}]}
    answer = rest.format_response({"p": np.array([[0.1], [0.2]]), "q": np.array([1, 2])}, "columnar")
    assert answer == {"outputs": {"p": [[0.1], [0.2]], "q": [1, 2]}}


@pytest.mark.parametrize("body, message", [
    ({}, "exactly one of"),
    ({"instances": [], "inputs": []}, "exactly one of"),
    ({"instances": []}, "non-empty list"),
    ({"inputs": {"wrong": 1}}, "must be an object with keys"),
])
def test_bad_bodies_are_rejected_clearly(body, message):
    import tensorflow as tf
    with pytest.raises(UsageError, match=message):
        rest.parse(body, {"a": tf.TensorSpec([None], tf.float32), "b": tf.TensorSpec([None], tf.float32)}
                   if "wrong" in str(body) else {"a": tf.TensorSpec([None], tf.float32)})
