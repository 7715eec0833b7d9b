import json
import os

from tests.conftest import run_cli


def test_prune_then_pqat_then_int8_tflite_from_the_cli(tmp_path):
    metrics_path, tfl = str(tmp_path / "m.json"), str(tmp_path / "model.tflite")
    out = run_cli("cnn", "--epochs", "3", "--quiet", "--prune", "0.6", "--qat", "--tflite", tfl,
                  "--compress-epochs", "2", "--metrics-json", metrics_path)
    assert out.returncode == 0, out.stderr
    stages = json.load(open(metrics_path))["stages"]
    assert list(stages) == ["baseline", "pruned", "qat", "tflite"]
    assert abs(stages["pruned"]["sparsity"] - 0.6) < 0.01
    assert stages["pruned"]["gzip_bytes"] < stages["baseline"]["gzip_bytes"]
    assert stages["qat"]["preserve_sparsity"] and stages["qat"]["sparsity"] > 0.59
    assert stages["tflite"]["int8_bytes"] == os.path.getsize(tfl)
    assert stages["tflite"]["float_bytes"] == os.path.getsize(str(tmp_path / "model-float.tflite"))
    assert stages["tflite"]["size_ratio"] < 0.3
    assert 0 <= stages["tflite"]["int8_accuracy"] <= 1
    assert "pruned accuracy" in out.stdout and "tflite int8 / float" in out.stdout


def test_bad_compression_flags_exit_2(tmp_path):
    for argv, needle in ((["--prune", "1.5"], "expected a sparsity in (0, 1), got 1.5"),
                         (["--prune", "x"], "expected a sparsity"),
                         (["--tflite", str(tmp_path)], "is a directory"),
                         (["--tflite", str(tmp_path / "no" / "m.tflite")], "does not exist")):
        out = run_cli("cnn", *argv)
        assert out.returncode == 2 and needle in out.stderr and "Traceback" not in out.stderr
