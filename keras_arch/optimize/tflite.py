"""TFLite export (float and full-integer int8) and evaluation with the LiteRT
interpreter from ai-edge-litert (tf.lite.Interpreter is deprecated)."""
import numpy as np
import tensorflow as tf


def convert(model, int8=False, representative=None, batch_size=None, per_channel=False):
    """TFLite flatbuffer bytes. ``int8``: full-integer quantization with int8
    inputs and outputs, calibrated on ``representative`` (not needed for a QAT
    model, whose ranges were learned). ``batch_size`` fixes the batch dimension
    for layers that need it (LSTM)."""
    if batch_size:
        spec = [tf.TensorSpec([batch_size, *i.shape[1:]], i.dtype) for i in model.inputs]
        fn = tf.function(lambda *xs: model(list(xs) if len(xs) > 1 else xs[0], training=False))
        converter = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function(*spec)], model)
    else:
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if representative is not None:
            def gen():
                for i in range(min(len(representative), 200)):
                    yield [representative[i:i + 1].astype(np.float32)]
            converter.representative_dataset = gen
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
        # Post-training calibration follows the same per-tensor default as QAT.
        converter._experimental_disable_per_channel = not per_channel
    return converter.convert()


class TFLiteModel:
    """Run a .tflite flatbuffer on batches, quantizing int8 inputs and
    dequantizing int8 outputs with the tensors' own scale and zero point."""

    def __init__(self, content, num_threads=None):
        from ai_edge_litert.interpreter import Interpreter
        self.interpreter = Interpreter(model_content=content, num_threads=num_threads)
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.batch = None

    def _resize(self, batch):
        if self.batch != batch:
            self.interpreter.resize_tensor_input(self.input["index"], [batch, *self.input["shape"][1:]])
            self.interpreter.allocate_tensors()
            self.batch = batch

    def __call__(self, x):
        self._resize(len(x))
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
