import json

import numpy as np
import pytest

from keras_arch import registry
from keras_arch.errors import UsageError
from keras_arch.export import example_request
from keras_arch.serving import rest
from keras_arch.serving.export import load_servable


@pytest.mark.parametrize("fmt", ["instances", "inputs"])
@pytest.mark.parametrize("arch", registry.names())
def test_readme_request_bodies_map_onto_the_signature(exported, arch, fmt):
    model, recipe, splits, path = exported[1][arch]
    body = json.loads(json.dumps(example_request(arch, fmt, "serving_default")))  # through real JSON
    answer = rest.predict(load_servable(path), body)
    x = splits.eval_split()[1][:2]
    expected = model(np.round(x, 4), training=False).numpy()
    key = "predictions" if fmt == "instances" else "outputs"
    assert list(answer) == [key]
    got = np.asarray(answer[key])
    assert got.shape == (2, 10)  # one output: a list of rows (row) or the batched value (columnar)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


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
