"""Serving signatures: explicit TensorSpecs plus the serving input contract.

TF Serving feeds request tensors to the graph by name from C++, where nothing
compares them with the placeholder's declared shape or looks at their values.
:func:`guard` wraps every exported signature (``export_servable`` applies it)
so that, in the graph itself:

- a tensor of the wrong rank or size fails first, with the whole shape it got
  and the whole shape it must have (``Shape of tensor
  _arg_serving_default_image_0_0 [2,27,28,1] is not compatible with expected
  shape [?,28,28,1].``);
- inputs of one request must agree on the batch size;
- float inputs holding NaN or Inf are refused (``input image holds NaN or
  Inf values; every value must be finite : Tensor had NaN values``);
- ``image`` inputs outside [0, 1] are refused with a message that says to
  divide 0-255 pixels by 255 (``input image holds pixel values outside
  [0, 1]; scale 0-255 pixels by dividing them by 255 [range test: ...] :
  Tensor had NaN values``).

Every refusal is an InvalidArgumentError (gRPC INVALID_ARGUMENT, REST 400).
A batch of 0 runs the model on one blank example (zeros, empty strings) and
answers its outputs cut to 0 rows: empty outputs of the right shape and
dtype, whatever the kernels do with an empty batch (oneDNN's convolution
fails on one: "input depth must be evenly divisible by filter depth").

Cost: the shape check is one op (EnsureShape) in front of the model. The
value checks (one CheckNumerics; three elementwise ops and another for the
pixel range) run beside the model, and the call waits for them (stateful ops
are a tf.function's control outputs), so on an idle core they are off the
critical path; a NaN/Inf or 0-255 image cannot make the
model itself fail. The range test reads the finite check's output, so NaN is
always reported as NaN. benchmarks/serving_contract.py measures the cost on
the ``cnn``'s batch-1 latency.
"""
import tensorflow as tf

IMAGE_INPUTS = ("image",)  # float inputs that hold pixels scaled to [0, 1]
_SUMMARIZE = 64  # Assert prints this many entries: the whole shape of any real tensor


def describe(shape):
    """[None, 28, 28, 1] -> "[batch, 28, 28, 1]"; unknown later dims are "any"."""
    return "[" + ", ".join(("batch" if i == 0 else "any") if d is None else str(d)
                           for i, d in enumerate(shape)) + "]"


def check_shape(x, shape, name):
    """Assert at run time that ``x`` has the rank and fixed dims of ``shape``.

    Args:
        x: the tensor fed to the signature.
        shape: the declared shape, None for a free dimension.
        name: the input's name, for the message.

    Returns:
        ``x``, to be used only after the check has passed.
    """
    rank = len(shape)
    fixed = [i for i, d in enumerate(shape) if d is not None]
    actual = tf.shape(x)
    # Padding keeps the gather in range when the rank is wrong, so one Assert
    # covers both and reports the shape it got.
    ok = tf.equal(tf.rank(x), rank)
    if fixed:
        dims = tf.gather(tf.pad(actual, [[0, rank]]), tf.constant(fixed, tf.int32))
        ok = tf.logical_and(ok, tf.reduce_all(tf.equal(dims, [shape[i] for i in fixed])))
    check = tf.debugging.Assert(ok, [f"input {name} must have shape {describe(shape)}, got", actual],
                                summarize=_SUMMARIZE)
    with tf.control_dependencies([check]):
        return tf.identity(x)


def check_input(x, spec):
    """The contract for one input.

    Args:
        x: the tensor fed to the signature.
        spec: its declared, named TensorSpec.

    Returns:
        (``x`` behind the shape check, for the model to read; the value
        checks, ops that fail on NaN/Inf and, for images, on pixels outside
        [0, 1], for the outputs to wait on).
    """
    x = tf.ensure_shape(x, spec.shape)  # one op; its message has both whole shapes
    if not x.dtype.is_floating:
        return x, []
    finite = tf.debugging.check_numerics(x, f"input {spec.name} holds NaN or Inf values; every value must be finite")
    if spec.name not in IMAGE_INPUTS:
        return x, [finite]
    # sqrt(x(1 - x)) is NaN exactly where a finite x is outside [0, 1]; it
    # reads the finite check's output, so NaN is reported as NaN.
    in_range = tf.debugging.check_numerics(
        tf.sqrt(finite * (1.0 - finite)),
        f"input {spec.name} holds pixel values outside [0, 1]; scale 0-255 pixels by dividing them by 255 "
        "[range test: sqrt(x(1 - x)) is NaN outside [0, 1]]")
    return x, [in_range]


def guard(fn):
    """The serving input contract around a signature.

    Args:
        fn: a ``tf.function`` with an ``input_signature`` of named TensorSpecs,
            batch first.

    Returns:
        A ``tf.function`` with the same input signature and outputs that
        checks its inputs (see the module docstring). Guarding twice is a
        no-op.
    """
    if getattr(fn, "_keras_arch_guarded", False):
        return fn
    specs = list(fn.input_signature)
    inner = fn.python_function

    @tf.function(input_signature=specs)
    def serve(*inputs):
        checked = [check_input(x, spec) for x, spec in zip(inputs, specs)]
        inputs = [x for x, _ in checked]
        value_checks = [c for _, checks in checked for c in checks]
        if len(inputs) > 1:
            batches = tf.stack([tf.shape(x)[0] for x in inputs])
            same = tf.debugging.Assert(
                tf.reduce_all(tf.equal(batches, batches[0])),
                [f"inputs {', '.join(s.name for s in specs)} must have the same batch size, got", batches],
                summarize=_SUMMARIZE)
            with tf.control_dependencies([same]):
                inputs = [tf.identity(x) for x in inputs]
        # The value checks run beside the model (the shape check alone gates
        # it: a wrong shape would fail inside it). They need no edge to the
        # outputs: CheckNumerics is stateful, and tf.function makes every
        # stateful op a control output that the call waits for.
        del value_checks
        rows = tf.shape(inputs[0])[0]
        inputs = [tf.cond(rows > 0, lambda x=x: x, lambda x=x: _blank_row(x)) for x in inputs]
        return tf.nest.map_structure(lambda t: t[:rows], inner(*inputs))

    serve._keras_arch_guarded = True
    return serve


def _blank_row(x):
    """One example of ``x``'s shape and dtype: zeros (padding, black pixels) or empty strings."""
    shape = tf.concat([[1], tf.shape(x)[1:]], 0)
    return tf.fill(shape, tf.constant("" if x.dtype == tf.string else 0, x.dtype))


def guard_all(signatures):
    """:func:`guard` applied to every signature of {name: tf.function}.

    Args:
        signatures: {signature name: tf.function with a named input_signature}.
    """
    return {name: guard(fn) for name, fn in signatures.items()}


def single_input(model, input_name, output_name):
    """serving_default for a one-input model: ``input_name`` -> ``output_name``."""
    shape = [None, *model.input_shape[1:]]
    spec = tf.TensorSpec(shape, model.inputs[0].dtype, name=input_name)

    @tf.function(input_signature=[spec])
    def serve(inputs):
        return {output_name: model(inputs, training=False)}

    return {"serving_default": serve}


def single_input_outputs(model, input_name, outputs):
    """serving_default for a one-input model with several outputs: the model's
    output dict renamed by ``outputs`` {signature output: model output}."""
    shape = [None, *model.input_shape[1:]]
    spec = tf.TensorSpec(shape, model.inputs[0].dtype, name=input_name)

    @tf.function(input_signature=[spec])
    def serve(inputs):
        out = model(inputs, training=False)
        return {name: out[key] for name, key in outputs.items()}

    return {"serving_default": serve}


def call(fn, inputs):
    """Call an in-memory signature with inputs keyed by TensorSpec name, as a
    loaded SavedModel's signatures are called."""
    return fn(*[inputs[spec.name] for spec in fn.input_signature])
