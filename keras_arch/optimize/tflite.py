"""TFLite export (float and full-integer int8) and evaluation with the LiteRT
interpreter from ai-edge-litert (tf.lite.Interpreter is deprecated).

Models with several inputs (BERT's input_ids, attention_mask and
token_type_ids) convert and run like one-input models: the TFLite model's
``serving_default`` signature takes the Keras model's inputs by name, the
representative data are dicts of arrays, and :class:`TFLiteModel` is fed a
dict (or, for one input, an array).
"""
import argparse
import os
import pickle
import re
import subprocess
import sys
import tempfile

import numpy as np
import tensorflow as tf

from keras_arch.quiet import native_stderr


class ConversionError(RuntimeError):
    """The TFLite converter failed or crashed."""


def input_names(model):
    """The Keras model's input names (the TFLite signature's, in that order)."""
    return [i.name.split(":")[0] for i in model.inputs]


def _as_dict(model, x):
    """{input name: array} for a model's inputs given as a dict or (one input) an array."""
    names = input_names(model)
    return dict(x) if isinstance(x, dict) else {names[0]: x}


def convert(model, int8=False, representative=None, batch_size=None, per_channel=False, float_fallback=False,
            lengths=None, float_ops=()):
    """TFLite flatbuffer bytes.

    Args:
        model: a tf_keras model (one input, or several named inputs).
        int8: full-integer quantization with int8 outputs (and int8 inputs
            for float inputs; integer inputs such as token ids stay int32),
            calibrated on ``representative`` (a QAT model's fake-quant ranges
            are used where it has them).
        representative: calibration inputs: an array of examples (one
            input), or a list of {input name: array} batches.
        batch_size: fixes the batch dimension for layers that need it (LSTM);
            other dimensions stay as the model has them (a sequence length
            may vary).
        per_channel: quantize conv kernels per channel.
        float_fallback: let ops without an int8 kernel stay float (default:
            every op int8, or the conversion fails).
        lengths: {input name: length} fixing the second dimension of those
            inputs (BERT's token ids: TFLite's int8 calibration keeps the
            shapes of the first sample it sees, so every sample needs one length).
        float_ops: TFLite op names (e.g. ``("MEAN", "SQUARED_DIFFERENCE",
            "RSQRT")``, LayerNorm's statistics) that stay float in the int8
            model: TensorFlow Lite's selective quantization
            (``tf.lite.experimental.QuantizationDebugger`` with
            ``denylisted_ops``), which puts QUANTIZE/DEQUANTIZE around them.

    The converter runs in a child process: on some graphs (Embedding + LSTM +
    Attention, full int8) TF 2.21's quantizer segfaults, which must not take
    down a training run; a crash becomes a ConversionError naming the signal.
    """
    names = input_names(model)
    lengths = lengths or {}
    if lengths:
        model = unrolled(model, lengths)
    specs = [tf.TensorSpec([batch_size, *([lengths[n]] if n in lengths else i.shape[1:2]), *i.shape[2:]], i.dtype, name=n)
             for i, n in zip(model.inputs, names)]
    nested = isinstance(model._nested_inputs, dict)  # called with a dict, like the Keras model

    @tf.function
    def serve(*xs):
        inputs = dict(zip(names, xs)) if nested else (list(xs) if len(xs) > 1 else xs[0])
        return model(inputs, training=False)

    with tempfile.TemporaryDirectory() as d:
        tf.saved_model.save(model, os.path.join(d, "model"),
                            signatures={"serving_default": serve.get_concrete_function(*specs)})
        args = [sys.executable, "-m", "keras_arch.optimize.tflite", d]
        if int8:
            args.append("--int8")
            if per_channel:
                args.append("--per-channel")
            if float_fallback:
                args.append("--float-fallback")
            if float_ops:
                args += ["--float-ops", ",".join(float_ops)]
            if representative is not None:
                samples = (list(representative) if isinstance(representative, list)
                           else [{names[0]: np.asarray(representative[i:i + (batch_size or 1)])}
                                 for i in range(0, min(len(representative), 200), batch_size or 1)])
                with open(os.path.join(d, "representative.pkl"), "wb") as f:
                    pickle.dump([{k: np.asarray(v) for k, v in s.items()} for s in samples], f)
        proc = subprocess.run(args, capture_output=True, text=True)
        if proc.returncode < 0:
            raise ConversionError(f"the TFLite converter crashed (signal {-proc.returncode})")
        if proc.returncode != 0:
            # MLIR's "loc(...): error: WHY" lines say why; the last line is often the tail of a graph dump
            why = list(dict.fromkeys(re.findall(r"^loc\(.*\): error: (.+)$", proc.stderr, re.M)))
            lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
            raise ConversionError("; ".join(why) if why else lines[-1] if lines
                                  else f"the TFLite converter exited {proc.returncode}")
        with open(os.path.join(d, "model.tflite"), "rb") as f:
            return f.read()


RECURRENT = ("LSTM", "GRU", "SimpleRNN")


def unrolled(model, lengths):
    """``model`` with its recurrent layers unrolled over the fixed ``lengths``
    of its inputs (the same weights), or ``model`` itself when it has none.

    TF 2.21's int8 quantizer crashes (SIGSEGV) on the fused LSTM op it makes
    of a Keras LSTM fed by an Embedding, masked or not; over a fixed length
    an unrolled LSTM is plain FULLY_CONNECTED, LOGISTIC, TANH and MUL ops,
    which it quantizes (the attention classifier's path to int8)."""
    config = model.get_config()

    def visit(node):
        if isinstance(node, dict):
            if node.get("class_name") in RECURRENT and isinstance(node.get("config"), dict):
                node["config"]["unroll"] = True
                return True
            return any([visit(v) for v in node.values()])
        if isinstance(node, list):
            return any([visit(v) for v in node])
        return False

    if not visit(config):
        return model
    for layer in config["layers"]:
        if layer["class_name"] == "InputLayer" and layer["config"]["name"] in lengths:
            shape = layer["config"]["batch_input_shape"]
            layer["config"]["batch_input_shape"] = [shape[0], lengths[layer["config"]["name"]], *shape[2:]]
    from keras_arch import custom_objects  # every keras_arch layer registered
    from keras_arch.backend import keras
    from keras_arch.optimize import qat
    with qat.scope():
        clone = keras.Model.from_config(config, custom_objects=custom_objects.registered_objects())
    clone.set_weights(model.get_weights())
    return clone


def _convert_main(argv=None):
    """Child process: python -m keras_arch.optimize.tflite DIR [--int8 [--per-channel] [--float-fallback]
    [--float-ops OP,OP]]."""
    p = argparse.ArgumentParser(allow_abbrev=False)
    p.add_argument("dir")
    p.add_argument("--int8", action="store_true")
    p.add_argument("--per-channel", action="store_true")
    p.add_argument("--float-fallback", action="store_true")
    p.add_argument("--float-ops", default="")
    args = p.parse_args(argv)
    saved = os.path.join(args.dir, "model")
    converter = tf.lite.TFLiteConverter.from_saved_model(saved)
    if args.int8:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        rep_path = os.path.join(args.dir, "representative.pkl")
        if os.path.exists(rep_path):
            with open(rep_path, "rb") as f:
                samples = pickle.load(f)
            converter.representative_dataset = lambda: iter(samples)
        ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        float_allowed = args.float_fallback or args.float_ops
        converter.target_spec.supported_ops = ops + ([tf.lite.OpsSet.TFLITE_BUILTINS] if float_allowed else [])
        loaded = tf.saved_model.load(saved)
        specs = list(loaded.signatures["serving_default"].structured_input_signature[1].values())
        if all(s.dtype.is_floating for s in specs):  # token ids stay integers
            converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
        # Post-training calibration follows the same per-tensor default as QAT.
        converter._experimental_disable_per_channel = not args.per_channel
    if args.int8 and args.float_ops:
        # Selective quantization: calibrate, then quantize every op but these
        # (https://www.tensorflow.org/lite/performance/quantization_debugger).
        options = tf.lite.experimental.QuantizationDebugOptions(denylisted_ops=args.float_ops.split(","),
                                                                fully_quantize=True)
        content = tf.lite.experimental.QuantizationDebugger(
            converter=converter, debug_dataset=converter.representative_dataset,
            debug_options=options).get_nondebug_quantized_model()
    else:
        content = converter.convert()
    with open(os.path.join(args.dir, "model.tflite"), "wb") as f:
        f.write(content)


def float_op_names(content):
    """Sorted names of the ops of a .tflite flatbuffer that compute in float32
    (DEQUANTIZE, which only leaves int8, aside): empty for a full-integer model."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    with native_stderr():
        interpreter = Interpreter(model_content=content,  # no delegate: XNNPACK would hide the ops
                                  experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    dtypes = {d["index"]: d["dtype"] for d in interpreter.get_tensor_details()}
    return sorted({op["op_name"] for op in interpreter._get_ops_details()
                   if op["op_name"] != "DEQUANTIZE" and any(dtypes[i] == np.float32 for i in op["outputs"])})


class TFLiteModel:
    """Run a .tflite flatbuffer on batches through its ``serving_default``
    signature, quantizing int8 inputs and dequantizing int8 outputs with the
    tensors' own scale and zero point.

    LiteRT hands what it can to its default XNNPACK delegate. Where XNNPACK
    cannot prepare the graph ("failed to create XNNPACK runtime": seen on an
    untrained seq2seq's unrolled int8 encoder-decoder), the model runs
    on LiteRT's built-in kernels instead, which compute the same ops;
    ``kernels`` says which ran.

    Args:
        content: the flatbuffer bytes.
        num_threads: LiteRT's threads (default: its own choice).
    """

    def __init__(self, content, num_threads=None):
        self.content, self.num_threads = content, num_threads
        self._load(delegate=True)
        details = self.runner.get_input_details()
        self.inputs = {name: details[name] for name in details}
        self.output = next(iter(self.runner.get_output_details().values()))
        self.input = next(iter(self.inputs.values()))  # one-input models: the input's details

    def _load(self, delegate):
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
        resolver = {} if delegate else {
            "experimental_op_resolver_type": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}
        with native_stderr():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
            self.interpreter = Interpreter(model_content=self.content, num_threads=self.num_threads, **resolver)
        self.runner = self.interpreter.get_signature_runner("serving_default")
        self.kernels = "XNNPACK" if delegate else "built-in"

    def _run(self, feed):
        with native_stderr():  # the XNNPACK line, where the delegate is applied at allocation
            return next(iter(self.runner(**feed).values()))

    def __call__(self, x):
        feed = {}
        for name, value in (x.items() if isinstance(x, dict) else [(next(iter(self.inputs)), x)]):
            detail = self.inputs[name]
            value = np.asarray(value)
            if detail["dtype"] == np.int8:
                scale, zero = detail["quantization"]
                value = np.clip(np.round(value / scale + zero), -128, 127)
            feed[name] = value.astype(detail["dtype"])
        try:
            y = self._run(feed)
        except RuntimeError as e:
            if self.kernels != "XNNPACK" or "XNNPACK" not in str(e):
                raise
            self._load(delegate=False)
            y = self._run(feed)
        if self.output["dtype"] == np.int8:
            scale, zero = self.output["quantization"]
            y = (y.astype(np.float32) - zero) * scale
        return y

    def predict(self, x, batch_size=256):
        n = len(next(iter(x.values()))) if isinstance(x, dict) else len(x)
        cut = (lambda s: {k: v[s] for k, v in x.items()}) if isinstance(x, dict) else (lambda s: x[s])
        return np.concatenate([self(cut(slice(i, i + batch_size))) for i in range(0, n, batch_size)])


def accuracy(content, batches, scored=None):
    """Accuracy of a .tflite classifier over ``batches`` of (inputs, labels)
    (numpy; inputs an array or a dict of arrays): the share of labels its
    argmax hits, a label per example or per position (seq2seq's tokens).

    Args:
        content: the flatbuffer bytes, or a :class:`TFLiteModel` of them.
        batches: an iterable of (inputs, labels).
        scored: ``scored(x, y)`` -> a boolean array shaped like ``y``: the
            labels that count (a task's :meth:`~keras_arch.tasks.base.Task.scored`);
            None counts every label.
    """
    model = content if isinstance(content, TFLiteModel) else TFLiteModel(content)
    hits, total = 0, 0
    for x, y in batches:
        y = np.asarray(y)
        mask = None if scored is None else scored(x, y)
        mask = np.ones(y.shape, bool) if mask is None else np.asarray(mask, bool)
        hits += int(np.sum((np.argmax(model(x), -1) == y) & mask))
        total += int(np.sum(mask))
    return hits / max(total, 1)


if __name__ == "__main__":
    import keras_arch  # noqa: F401  (Keras 2 before the SavedModel's Keras objects load)
    _convert_main()
