import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from keras_arch.errors import UsageError
from keras_arch.models.cnn import doc001_cnn
from keras_arch.serving.export import export_servable, versions
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def model():
    return doc001_cnn()


def test_layout_versions_and_no_overwrite(model, tmp_path):
    base = str(tmp_path)
    first = export_servable(model, base, "cnn", "image", "probabilities")
    assert first == os.path.join(base, "cnn", "1")
    stamp = os.stat(os.path.join(first, "saved_model.pb")).st_mtime_ns
    second = export_servable(model, base, "cnn", "image", "probabilities")
    assert second == os.path.join(base, "cnn", "2")
    assert os.stat(os.path.join(first, "saved_model.pb")).st_mtime_ns == stamp
    assert versions(os.path.join(base, "cnn")) == [1, 2]
    # Nothing half-written is left beside the versions.
    assert sorted(os.listdir(os.path.join(base, "cnn"))) == ["1", "2"]
    assert {"saved_model.pb", "variables"} <= set(os.listdir(first))


def test_concurrent_exports_get_different_versions(model, tmp_path):
    paths = []
    threads = [threading.Thread(target=lambda: paths.append(
        export_servable(model, str(tmp_path), "cnn", "image", "probabilities"))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(os.path.basename(p) for p in paths) == ["1", "2"]


def test_reload_in_fresh_process_gives_same_outputs(model, tmp_path):
    path = export_servable(model, str(tmp_path), "cnn", "image", "probabilities")
    x = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    code = ("import sys, json, numpy as np, tensorflow as tf\n"
            "m = tf.saved_model.load(sys.argv[1])\n"
            "f = m.signatures['serving_default']\n"
            "out = f(image=tf.constant(np.load(sys.argv[2])))\n"
            "print(json.dumps({k: v.numpy().tolist() for k, v in out.items()}))\n")
    out = subprocess.run([sys.executable, "-c", code, path, str(tmp_path / "x.npy")],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    served = json.loads(out.stdout.strip().splitlines()[-1])
    assert list(served) == ["probabilities"]
    np.testing.assert_allclose(served["probabilities"], model(x, training=False).numpy(), rtol=1e-5, atol=1e-6)


def test_saved_model_cli_shows_named_typed_signature(model, tmp_path):
    path = export_servable(model, str(tmp_path), "cnn", "image", "probabilities")
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    out = subprocess.run([cli, "show", "--dir", path, "--tag_set", "serve",
                          "--signature_def", "serving_default"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "inputs['image'] tensor_info:" in text and "outputs['probabilities'] tensor_info:" in text
    assert text.count("dtype: DT_FLOAT") == 2
    assert "shape: (-1, 28, 28, 1)" in text and "shape: (-1, 10)" in text


def test_export_into_a_file_is_a_usage_error(model, tmp_path):
    target = tmp_path / "file"
    target.write_text("keep me")
    with pytest.raises(UsageError, match="not a directory"):
        export_servable(model, str(target), "cnn")
    assert target.read_text() == "keep me"
