"""TFLite export (float and full-integer int8) and evaluation with the LiteRT
interpreter from ai-edge-litert (tf.lite.Interpreter is deprecated)."""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import tensorflow as tf

from keras_arch.quiet import native_stderr


class ConversionError(RuntimeError):
    """The TFLite converter failed or crashed."""


def convert(model, int8=False, representative=None, batch_size=None, per_channel=False):
    """TFLite flatbuffer bytes. ``int8``: full-integer quantization with int8
    outputs (and int8 inputs for float inputs), calibrated on ``representative``
    (a QAT model's ranges were learned). ``batch_size`` fixes the batch
    dimension for layers that need it (LSTM).

    The converter runs in a child process: on some graphs (Embedding + LSTM +
    Attention, full int8) TF 2.21's quantizer segfaults, which must not take
    down a training run; a crash becomes a ConversionError naming the signal.
    """
    specs = [tf.TensorSpec([batch_size, *i.shape[1:]], i.dtype, name=i.name.split(":")[0]) for i in model.inputs]
    fn = tf.function(lambda *xs: model(list(xs) if len(xs) > 1 else xs[0], training=False))
    with tempfile.TemporaryDirectory() as d:
        tf.saved_model.save(model, os.path.join(d, "model"),
                            signatures={"serving_default": fn.get_concrete_function(*specs)})
        args = [sys.executable, "-m", "keras_arch.optimize.tflite", d]
        if int8:
            args.append("--int8")
            if per_channel:
                args.append("--per-channel")
            if representative is not None:
                np.save(os.path.join(d, "representative.npy"), np.asarray(representative[:200]))
                args += ["--batch", str(batch_size or 1)]
        proc = subprocess.run(args, capture_output=True, text=True)
        if proc.returncode < 0:
            raise ConversionError(f"the TFLite converter crashed (signal {-proc.returncode})")
        if proc.returncode != 0:
            lines = [l for l in proc.stderr.strip().splitlines() if l.strip()]
            raise ConversionError(lines[-1] if lines else f"the TFLite converter exited {proc.returncode}")
        with open(os.path.join(d, "model.tflite"), "rb") as f:
            return f.read()


def _convert_main(argv=None):
    """Child process: python -m keras_arch.optimize.tflite DIR [--int8 [--per-channel] [--batch N]]."""
    p = argparse.ArgumentParser(allow_abbrev=False)
    p.add_argument("dir")
    p.add_argument("--int8", action="store_true")
    p.add_argument("--per-channel", action="store_true")
    p.add_argument("--batch", type=int, default=1)
    args = p.parse_args(argv)
    converter = tf.lite.TFLiteConverter.from_saved_model(os.path.join(args.dir, "model"))
    if args.int8:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        rep_path = os.path.join(args.dir, "representative.npy")
        if os.path.exists(rep_path):
            rep = np.load(rep_path)
            converter.representative_dataset = lambda: ([rep[i:i + args.batch]] for i in range(0, len(rep), args.batch))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        loaded = tf.saved_model.load(os.path.join(args.dir, "model"))
        spec = list(loaded.signatures["serving_default"].structured_input_signature[1].values())[0]
        if spec.dtype.is_floating:  # token ids stay integers
            converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
        # Post-training calibration follows the same per-tensor default as QAT.
        converter._experimental_disable_per_channel = not args.per_channel
    content = converter.convert()
    with open(os.path.join(args.dir, "model.tflite"), "wb") as f:
        f.write(content)


class TFLiteModel:
    """Run a .tflite flatbuffer on batches, quantizing int8 inputs and
    dequantizing int8 outputs with the tensors' own scale and zero point."""

    def __init__(self, content, num_threads=None):
        from ai_edge_litert.interpreter import Interpreter
        with native_stderr():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
            self.interpreter = Interpreter(model_content=content, num_threads=num_threads)
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.batch = None

    def _resize(self, shape):
        if self.batch != shape:  # batch and any variable (sequence) dimension
            self.interpreter.resize_tensor_input(self.input["index"], list(shape))
            with native_stderr():  # the XNNPACK line, where the delegate is applied at allocation
                self.interpreter.allocate_tensors()
            self.batch = shape

    def __call__(self, x):
        self._resize(tuple(x.shape))
        if self.input["dtype"] == np.int8:
            scale, zero = self.input["quantization"]
            x = np.clip(np.round(x / scale + zero), -128, 127).astype(np.int8)
        self.interpreter.set_tensor(self.input["index"], x.astype(self.input["dtype"]))
        self.interpreter.invoke()
        y = self.interpreter.get_tensor(self.output["index"])
        if self.output["dtype"] == np.int8:
            scale, zero = self.output["quantization"]
            y = (y.astype(np.float32) - zero) * scale
        return y

    def predict(self, x, batch_size=256):
        return np.concatenate([self(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def accuracy(content, x, y, batch_size=256):
    return float(np.mean(np.argmax(TFLiteModel(content).predict(x, batch_size), -1) == y))



if __name__ == "__main__":
    import keras_arch  # noqa: F401  (Keras 2 before the SavedModel's Keras objects load)
    _convert_main()
