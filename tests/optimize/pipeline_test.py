import json
import os

import pytest

from tests.conftest import run_cli


@pytest.mark.slow  # an end-to-end run of 15-70 s here (issue 18: the fast suite)
def test_prune_then_pqat_then_int8_tflite_from_the_cli(tmp_path):
    metrics_path, tfl = str(tmp_path / "m.json"), str(tmp_path / "model.tflite")
    out = run_cli("cnn", "--epochs", "3", "--quiet", "--prune", "0.6", "--qat", "--tflite", tfl,
                  "--compress-epochs", "2", "--metrics-json", metrics_path)
    assert out.returncode == 0, out.stderr
    stages = json.load(open(metrics_path))["stages"]
    assert list(stages) == ["baseline", "pruned", "qat", "tflite"]
    assert (stages["pruned"]["epochs"], stages["qat"]["epochs"]) == (2, 1)  # QAT: half of --compress-epochs
    assert abs(stages["pruned"]["sparsity"] - 0.6) < 0.01
    assert stages["pruned"]["gzip_bytes"] < stages["baseline"]["gzip_bytes"]
    assert stages["qat"]["preserve_sparsity"] and stages["qat"]["sparsity"] > 0.59
    assert stages["tflite"]["int8_bytes"] == os.path.getsize(tfl)
    assert stages["tflite"]["float_bytes"] == os.path.getsize(str(tmp_path / "model-float.tflite"))
    assert stages["tflite"]["size_ratio"] < 0.3
    # The reported accuracies, recomputed: each written flatbuffer run by the
    # LiteRT interpreter on the 360 test digits, int8 input quantized and
    # output dequantized here with the tensors' own scale and zero point.
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter
    from keras_arch.data.images import load_digits
    _, x, y = load_digits().eval_split()
    assert len(y) == 360

    def tflite_accuracy(path, int8):
        interpreter = Interpreter(model_path=path)
        inp, outp = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
        assert (inp["dtype"] == np.int8) == int8 and (outp["dtype"] == np.int8) == int8
        interpreter.resize_tensor_input(inp["index"], [len(x), 28, 28, 1])
        interpreter.allocate_tensors()
        feed = x
        if int8:
            scale, zero = inp["quantization"]
            feed = np.clip(np.round(x / scale + zero), -128, 127).astype(np.int8)
        interpreter.set_tensor(inp["index"], feed)
        interpreter.invoke()
        probs = interpreter.get_tensor(outp["index"]).astype(np.float32)
        if int8:
            out_scale, out_zero = outp["quantization"]
            probs = (probs - out_zero) * out_scale
        return float(np.mean(probs.argmax(1) == y))

    int8_accuracy = tflite_accuracy(tfl, int8=True)
    float_accuracy = tflite_accuracy(str(tmp_path / "model-float.tflite"), int8=False)
    assert stages["tflite"]["int8_accuracy"] == int8_accuracy
    assert stages["tflite"]["float_accuracy"] == float_accuracy
    # The float flatbuffer is the unpruned baseline, the int8 one the pruned QAT
    # model: each scores what its Keras model scored (within one test image for
    # the float one, a few for int8 rounding). Measured after this short run:
    # baseline 0.736, pruned 0.486, QAT 0.375, int8 0.378.
    assert abs(float_accuracy - stages["baseline"]["accuracy"]) <= 1 / 360 + 1e-6
    assert abs(int8_accuracy - stages["qat"]["accuracy"]) <= 0.03
    assert stages["baseline"]["accuracy"] > 0.5 and int8_accuracy > 0.2  # chance is 0.1
    assert "pruned accuracy" in out.stdout and "tflite int8 / float" in out.stdout


def test_bad_compression_flags_exit_2(tmp_path):
    for argv, needle in ((["--prune", "1.5"], 'expected a sparsity in (0, 1) or an M:N pattern such as "2:4", got 1.5'),
                         (["--prune", "x"], "expected a sparsity"),
                         (["--prune", "4:2"], "got 4:2"), (["--prune", "2:x"], "got '2:x'"),
                         (["--tflite", str(tmp_path)], "is a directory"),
                         (["--tflite", str(tmp_path / "no" / "m.tflite")], "does not exist")):
        out = run_cli("cnn", *argv)
        assert out.returncode == 2 and needle in out.stderr and "Traceback" not in out.stderr


@pytest.mark.slow  # trains seq2seq for an epoch, fine-tunes with QAT and converts its unrolled graph twice (~1 min)
def test_seq2seq_tflite_scores_the_tokens_keras_scores(tmp_path):
    """seq2seq's targets are padded after END; Keras's accuracy skips the
    positions its decoder masks, and so must the TFLite models' scores."""
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    from keras_arch.data.sequences import reversal
    metrics_path, tfl = str(tmp_path / "m.json"), str(tmp_path / "s2s.tflite")
    out = run_cli("seq2seq", "--epochs", "1", "--quiet", "--qat", "--tflite", tfl, "--metrics-json", metrics_path)
    assert out.returncode == 0, out.stderr
    stages = json.load(open(metrics_path))["stages"]
    assert stages["qat"]["epochs"] == 2  # seq2seq's QAT takes all of --compress-epochs
    assert stages["tflite"]["int8_kernels"] in ("XNNPACK", "built-in")
    _, x, y = reversal().eval_split()
    real = x["target_in"] != 0
    assert 0.6 < real.mean() < 0.99  # the check below would not see a counted pad otherwise

    def token_accuracy(path):
        interpreter = Interpreter(model_path=path,  # its own kernels: what XNNPACK may not prepare
                                  experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        runner = interpreter.get_signature_runner("serving_default")
        probs = np.concatenate([next(iter(runner(source=x["source"][i:i + 50],
                                                 target_in=x["target_in"][i:i + 50]).values()))
                                for i in range(0, len(y), 50)]).astype(np.float32)
        return float(np.sum((probs.argmax(-1) == y) & real) / real.sum())

    float_accuracy = token_accuracy(str(tmp_path / "s2s-float.tflite"))
    assert stages["tflite"]["float_accuracy"] == pytest.approx(float_accuracy, abs=1e-9)
    # the float flatbuffer is the trained model: Keras's masked accuracy, to rounding
    assert abs(float_accuracy - stages["baseline"]["accuracy"]) < 1e-3
    assert stages["baseline"]["accuracy"] > 0.5  # one epoch learns most of the reversal
    # int8 output (probabilities scaled to 1/256): argmax ties may differ, so only a bound
    assert stages["tflite"]["int8_accuracy"] > 0.5
