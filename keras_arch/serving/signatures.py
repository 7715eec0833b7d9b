"""Serving signatures: explicit TensorSpecs plus cheap in-graph checks.

TF Serving feeds request tensors to the graph by name from C++, where nothing
compares them with the placeholder's declared shape; a wrong-width request
would fail deep inside a conv with an unreadable error. The checks here fail
first, naming the input and the shape it must have.
"""
import tensorflow as tf


def describe(shape):
    return "[" + ", ".join("batch" if d is None else str(d) for d in shape) + "]"


def check_shape(x, shape, name):
    """Assert at run time that ``x`` has the rank and fixed dims of ``shape``."""
    rank = len(shape)
    fixed = [i for i, d in enumerate(shape) if d is not None]
    actual = tf.shape(x)
    # Padding keeps the gather in range when the rank is wrong, so one Assert
    # covers both and reports the shape it got.
    ok = tf.equal(tf.rank(x), rank)
    if fixed:
        dims = tf.gather(tf.pad(actual, [[0, rank]]), tf.constant(fixed, tf.int32))
        ok = tf.logical_and(ok, tf.reduce_all(tf.equal(dims, [shape[i] for i in fixed])))
    check = tf.debugging.Assert(ok, [f"input {name} must have shape {describe(shape)}, got", actual])
    with tf.control_dependencies([check]):
        return tf.identity(x)


def single_input(model, input_name, output_name):
    """serving_default for a one-input model: ``input_name`` -> ``output_name``."""
    shape = [None, *model.input_shape[1:]]
    spec = tf.TensorSpec(shape, model.inputs[0].dtype, name=input_name)

    @tf.function(input_signature=[spec])
    def serve(inputs):
        return {output_name: model(check_shape(inputs, shape, input_name), training=False)}

    return {"serving_default": serve}


def single_input_outputs(model, input_name, outputs):
    """serving_default for a one-input model with several outputs: the model's
    output dict renamed by ``outputs`` {signature output: model output}."""
    shape = [None, *model.input_shape[1:]]
    spec = tf.TensorSpec(shape, model.inputs[0].dtype, name=input_name)

    @tf.function(input_signature=[spec])
    def serve(inputs):
        out = model(check_shape(inputs, shape, input_name), training=False)
        return {name: out[key] for name, key in outputs.items()}

    return {"serving_default": serve}


def for_recipe(model, recipe):
    """The signatures an arch exports: its own builder if it names one."""
    if recipe.signatures:
        from keras_arch.registry import resolve
        return resolve(recipe.signatures)(model, recipe)
    return single_input(model, recipe.serving_input, recipe.serving_output)


def call(fn, inputs):
    """Call an in-memory signature with inputs keyed by TensorSpec name, as a
    loaded SavedModel's signatures are called."""
    return fn(*[inputs[spec.name] for spec in fn.input_signature])
