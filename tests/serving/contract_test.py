"""The serving input contract, checked the way TF Serving runs a request: the
export loaded into a TF1 session, tensors fed by name with nothing compared
before the graph (keras_arch.serving.session). For every arch and signature:
good requests, warmup requests and the README's REST bodies give what the
Keras model gives; bad requests fail with the contract's messages; a batch of
0 gives empty outputs of the right shape."""
import json
import os
import re

import numpy as np
import pytest
import tensorflow as tf

from keras_arch.tasks.base import for_arch
from keras_arch import registry
from keras_arch.errors import UsageError
from keras_arch.serving import rest, signatures, warmup
from tests.conftest import arch_params

ARCHS = arch_params(registry.names())  # one arch per serving path fast, every arch in CI


def _keras(exported, arch, signature, inputs):
    """What the in-memory model gives (the raw, unguarded signature)."""
    model, recipe, _, _ = exported[1][arch]
    fn = for_arch(recipe.name).signatures(model)[signature]
    return {k: v.numpy() for k, v in signatures.call(fn, inputs).items()}


def _declared(exported, arch, signature):
    model, recipe, _, _ = exported[1][arch]
    return {s.name: s for s in for_arch(recipe.name).signatures(model)[signature].input_signature}


def _assert_close(got, expected):
    assert sorted(got) == sorted(expected)
    for key, value in expected.items():
        if value.dtype == object:
            np.testing.assert_array_equal(got[key], value)
        else:
            np.testing.assert_allclose(got[key], value, rtol=1e-5, atol=1e-6)


def _refused(served, signature, inputs, pattern):
    with pytest.raises(tf.errors.InvalidArgumentError) as caught:
        served.run(signature, inputs)
    assert re.search(pattern, caught.value.message), caught.value.message
    return caught.value.message.splitlines()[0]


def _shape_text(shape):
    return "\\[" + ",".join("\\?" if d is None else str(d) for d in shape) + "\\]"


def _bad_shapes(value, spec):
    """Wrong shapes for one input: a fixed dim one short, and a wrong rank."""
    shape = list(value.shape)
    out = []
    fixed = [i for i, d in enumerate(spec.shape.as_list()) if d is not None and i > 0]
    if fixed:
        i = fixed[0]
        out.append(np.resize(value, shape[:i] + [shape[i] - 1] + shape[i + 1:]))
    out.append(value[..., :1].reshape(shape[:-1]) if len(shape) > 2 else value[..., None])
    return out


@pytest.mark.parametrize("arch", ARCHS)
def test_good_warmup_and_batch0_requests_match_the_keras_model(exported, served, arch):
    _, recipe, splits, path = exported[1][arch]
    servable = served(arch)
    samples = for_arch(recipe.name).serving_samples(splits, 3)
    assert sorted(samples) == servable.signature_names
    for signature, inputs in samples.items():
        got = servable.run(signature, inputs)
        expected = _keras(exported, arch, signature, inputs)
        _assert_close(got, expected)
        empty = servable.run(signature, {k: v[:0] for k, v in inputs.items()})
        assert {k: v.shape for k, v in empty.items()} == {k: (0,) + v.shape[1:] for k, v in expected.items()}
    for _, signature, inputs in warmup.read(os.path.join(path, "assets.extra", warmup.WARMUP_FILE)):
        _assert_close(servable.run(signature, inputs), _keras(exported, arch, signature, inputs))


@pytest.mark.parametrize("arch", ARCHS)
def test_bad_requests_are_refused_with_the_contracts_messages(exported, served, arch):
    _, recipe, splits, _ = exported[1][arch]
    servable = served(arch)
    for signature, inputs in for_arch(recipe.name).serving_samples(splits, 2).items():
        declared = _declared(exported, arch, signature)
        for name, value in inputs.items():
            spec = declared[name]
            for bad in _bad_shapes(value, spec):
                # Both whole shapes, as the server reports them.
                _refused(servable, signature, {**inputs, name: bad},
                         rf"Shape of tensor \S*{name}\S* {_shape_text(bad.shape)} is not compatible with "
                         rf"expected shape {_shape_text(spec.shape.as_list())}")
            if value.dtype.kind == "f":
                for poison, word in ((np.nan, "NaN"), (np.inf, "Inf"), (-np.inf, "Inf")):
                    bad = value.copy()
                    bad.flat[len(bad.flat) // 2] = poison
                    _refused(servable, signature, {**inputs, name: bad},
                             rf"^input {name} holds NaN or Inf values; every value must be finite : "
                             rf"Tensor had {word} values")
            if name == "image":
                for bad in (value * 255.0, np.where(value == 0, -0.01, value).astype(np.float32)):
                    _refused(servable, signature, {**inputs, name: bad},
                             r"^input image holds pixel values outside \[0, 1\]; scale 0-255 pixels by "
                             r"dividing them by 255")
                edges = np.where(value > 0.5, 1.0, 0.0).astype(np.float32)  # 0 and 1 exactly are valid
                _assert_close(servable.run(signature, {**inputs, name: edges}),
                              _keras(exported, arch, signature, {**inputs, name: edges}))
        if len(inputs) > 1:
            first = next(iter(declared))
            names = ", ".join(declared)
            sizes = " ".join("1" if n == first else "2" for n in declared)
            _refused(servable, signature, {**inputs, first: inputs[first][:1]},
                     rf"inputs {names} must have the same batch size, got\] \[{sizes}\]")


@pytest.mark.parametrize("fmt", ["instances", "inputs"])
@pytest.mark.parametrize("arch", ARCHS)
def test_readme_rest_bodies_good_and_bad_through_the_server_path(exported, served, arch, fmt):
    _, recipe, splits, _ = exported[1][arch]
    servable = served(arch)
    for signature, inputs in for_arch(recipe.name).serving_samples(splits, 2).items():
        body = json.loads(json.dumps(rest.example_body(inputs, fmt, signature)))
        rounded = {k: np.round(v, 4) if v.dtype.kind == "f" else v for k, v in inputs.items()}
        answer = rest.predict(servable, body)
        expected = _keras(exported, arch, signature, rounded)
        key = "predictions" if fmt == "instances" else "outputs"
        if len(expected) == 1:
            np.testing.assert_allclose(np.asarray(answer[key]), next(iter(expected.values())), rtol=1e-5, atol=1e-6)
        else:
            for name, value in expected.items():
                got = ([row[name] for row in answer[key]] if fmt == "instances" else answer[key][name])
                np.testing.assert_allclose(np.asarray(got), value, rtol=1e-5, atol=1e-6)
        for name, value in inputs.items():
            # a wrong rank is TF Serving's 400 before the model runs; a wrong size, the model's refusal
            bads = [(_bad_shapes(value, _declared(exported, arch, signature)[name])[-1], "dimensions, got")]
            if value.dtype.kind == "f":
                nan = value.copy()
                nan.flat[0] = np.nan
                bads.append((nan, "holds NaN or Inf values"))
            if name == "image":
                bads.append((value * 255.0, "scale 0-255 pixels by dividing them by 255"))
            for bad, text in bads:
                body = json.loads(json.dumps(rest.example_body({**inputs, name: bad}, fmt, signature)))
                error = UsageError if text == "dimensions, got" else tf.errors.InvalidArgumentError
                with pytest.raises(error, match=re.escape(text)):
                    rest.predict(servable, body)
