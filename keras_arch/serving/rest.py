"""TF Serving's REST predict API (POST /v1/models/NAME:predict), without a server.

Maps a JSON body onto a SavedModel signature the way TF Serving does, in both
formats, and shapes the answer the same way:

- row format ``{"instances": [...]}``: one entry per example; for a signature
  with one input an entry is the value itself, otherwise an object keyed by
  input name. Answer: ``{"predictions": [...]}``, one entry per example (the
  value for one output, an object keyed by output name for several).
- columnar format ``{"inputs": ...}``: the batched value for one input, or an
  object of batched values. Answer: ``{"outputs": value}`` for one output, or
  ``{"outputs": {name: value}}``.

Binary strings travel as ``{"b64": "..."}``.
"""
import base64

import numpy as np

from keras_arch.errors import UsageError
from keras_arch.serving.session import SessionServable


def _decode(value, name):
    if isinstance(value, dict) and set(value) == {"b64"}:
        try:
            return base64.b64decode(value["b64"], validate=True)
        except (ValueError, TypeError):
            raise UsageError(f"input {name}: invalid base64 in {{\"b64\": ...}}") from None
    if isinstance(value, list):
        return [_decode(v, name) for v in value]
    if not isinstance(value, str):
        raise UsageError(f"input {name}: expected strings, got {type(value).__name__} {value!r:.40}")
    return value


def _array(value, spec, name):
    """``value`` (decoded JSON) as an array of ``spec``'s dtype, refused with
    one line where TF Serving answers 400: ragged rows, a string or null
    where a number goes, a fraction for an integer, a value out of range."""
    if spec.dtype.name == "string":
        out = np.array(_decode(value, name), dtype=object)
    else:
        try:
            raw = np.array(value)
        except ValueError:  # rows of different lengths
            raise UsageError(f"input {name}: rows of different lengths (a tensor must be rectangular)") from None
        if raw.dtype == object or raw.dtype.kind in "US":
            raise UsageError(f"input {name}: expected numbers{'' if raw.dtype.kind in 'US' else ' in rectangular rows'}"
                             f", got {value!r:.60}")
        if raw.dtype.kind == "b":
            raise UsageError(f"input {name}: expected numbers, got booleans")
        dtype = np.dtype(spec.dtype.as_numpy_dtype)
        if dtype.kind in "iu":
            if raw.dtype.kind == "f" and not np.all(np.floor(raw) == raw):
                raise UsageError(f"input {name}: expected integers ({dtype.name}), got fractions")
            info = np.iinfo(dtype)
            if raw.size and (raw.min() < info.min or raw.max() > info.max):
                raise UsageError(f"input {name}: values outside {dtype.name}'s range {info.min} .. {info.max}")
        out = raw.astype(dtype)
    if out.ndim != len(spec.shape) and spec.shape.rank is not None:
        raise UsageError(f"input {name}: expected {len(spec.shape)} dimensions, got {out.ndim}")
    return out


def parse(body, input_specs):
    """(inputs {name: array}, format) from a request body, for {name: TensorSpec}."""
    if not isinstance(body, dict):
        raise UsageError(f"request body must be a JSON object, got {type(body).__name__}")
    names = sorted(input_specs)
    if ("instances" in body) == ("inputs" in body):
        raise UsageError('request must have exactly one of "instances" or "inputs"')
    if "instances" in body:
        rows = body["instances"]
        if not isinstance(rows, list) or not rows:
            raise UsageError('"instances" must be a non-empty list')
        if len(names) == 1 and not (isinstance(rows[0], dict) and set(rows[0]) == set(names)):
            columns = {names[0]: rows}
        else:
            if not all(isinstance(r, dict) and set(r) == set(names) for r in rows):
                raise UsageError(f"each instance must be an object with keys {names}")
            columns = {n: [r[n] for r in rows] for n in names}
        fmt = "row"
    else:
        given = body["inputs"]
        columns = given if isinstance(given, dict) and set(given) == set(names) else (
            {names[0]: given} if len(names) == 1 else None)
        if columns is None:
            raise UsageError(f'"inputs" must be an object with keys {names}')
        fmt = "columnar"
    return {n: _array(columns[n], input_specs[n], n) for n in names}, fmt


def _tolist(value):
    value = np.asarray(value)
    if value.dtype == object:
        return [_tolist(v) for v in value] if value.ndim else value.item().decode("utf-8", "replace")
    return value.tolist()


def format_response(outputs, fmt):
    names = sorted(outputs)
    if fmt == "columnar":
        if len(names) == 1:
            return {"outputs": _tolist(outputs[names[0]])}
        return {"outputs": {n: _tolist(outputs[n]) for n in names}}
    batch = len(np.asarray(outputs[names[0]]))
    if len(names) == 1:
        return {"predictions": _tolist(outputs[names[0]])}
    return {"predictions": [{n: _tolist(np.asarray(outputs[n])[i]) for n in names} for i in range(batch)]}


def predict(loaded, body):
    """Answer a REST predict body as TF Serving would.

    Args:
        loaded: a SavedModel loaded with ``tf.saved_model.load``, or a
            :class:`keras_arch.serving.session.SessionServable` (TF Serving's
            own path: tensors fed by name, nothing checked before the graph).
        body: the request, decoded from JSON.

    Returns:
        The response body ({"predictions": ...} or {"outputs": ...}).
    """
    import tensorflow as tf
    if not isinstance(body, dict):
        raise UsageError(f"request body must be a JSON object, got {type(body).__name__}")
    signature_name = body.get("signature_name", "serving_default")
    if isinstance(loaded, SessionServable):
        if signature_name not in loaded.signature_defs:
            raise UsageError(f"signature {signature_name!r} not found; have {loaded.signature_names}")
        inputs, fmt = parse(body, loaded.input_specs(signature_name))
        return format_response(loaded.run(signature_name, inputs), fmt)
    if signature_name not in loaded.signatures:
        raise UsageError(f"signature {signature_name!r} not found; have {sorted(loaded.signatures)}")
    fn = loaded.signatures[signature_name]
    specs = fn.structured_input_signature[1]
    inputs, fmt = parse(body, specs)
    outputs = fn(**{k: tf.constant(v, dtype=specs[k].dtype) for k, v in inputs.items()})
    return format_response({k: v.numpy() for k, v in outputs.items()}, fmt)


def example_body(inputs, fmt="instances", signature_name="serving_default"):
    """A request body for {input_name: batched array} in either format."""
    def jsonable(v):
        v = np.asarray(v)
        if v.dtype == object or v.dtype.kind in "SU":
            return [jsonable(x) for x in v] if v.ndim else (v.item().decode() if isinstance(v.item(), bytes) else v.item())
        return np.round(v, 4).tolist() if v.dtype.kind == "f" else v.tolist()
    body = {} if signature_name == "serving_default" else {"signature_name": signature_name}
    names = sorted(inputs)
    if fmt == "inputs":
        body["inputs"] = jsonable(inputs[names[0]]) if len(names) == 1 else {n: jsonable(inputs[n]) for n in names}
    else:
        n_rows = len(next(iter(inputs.values())))
        body["instances"] = [jsonable(inputs[names[0]][i]) for i in range(n_rows)] if len(names) == 1 else [
            {n: jsonable(inputs[n][i]) for n in names} for i in range(n_rows)]
    return body
