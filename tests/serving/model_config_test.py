import os
import shutil
import subprocess
import sys

import pytest
from google.protobuf import text_format

from keras_arch.errors import UsageError
from keras_arch.serving import model_config
from tests.conftest import ROOT


def test_models_config_parses_as_tf_serving_config_and_lists_every_model(exported, tmp_path):
    from tensorflow_serving.config import model_server_config_pb2
    base, archs = exported
    out = subprocess.run([sys.executable, "-m", "keras_arch.export", "--model-config", base],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    config = text_format.Parse(open(os.path.join(base, "models.config")).read(),
                               model_server_config_pb2.ModelServerConfig())
    entries = {c.name: c for c in config.model_config_list.config}
    assert sorted(entries) == sorted(archs)
    for name, entry in entries.items():
        assert entry.base_path == f"/models/{name}" and entry.model_platform == "tensorflow"


def test_empty_base_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no exported models"):
        model_config.write(str(tmp_path))
    with pytest.raises(UsageError, match="no such directory"):
        model_config.write(str(tmp_path / "absent"))


@pytest.mark.skipif(shutil.which("docker") is None or subprocess.run(
    ["docker", "info"], capture_output=True).returncode != 0,
    reason="no Docker engine runs here: the tensorflow/serving container cannot start")
def test_real_tensorflow_serving_container(exported):  # pragma: no cover - needs Docker
    import json
    import time
    import urllib.request
    from keras_arch.export import example_request
    base, archs = exported
    model_config.write(base)
    cid = subprocess.run(["docker", "run", "-d", "--rm", "-p", "127.0.0.1:8501:8501", "-v", f"{base}:/models",
                          "tensorflow/serving", "--model_config_file=/models/models.config"],
                         capture_output=True, text=True, check=True).stdout.strip()
    try:
        for _ in range(60):
            try:
                urllib.request.urlopen("http://127.0.0.1:8501/v1/models/cnn", timeout=2)
                break
            except OSError:
                time.sleep(1)
        for arch in archs:
            body = json.dumps(example_request(arch, "instances", "serving_default")).encode()
            req = urllib.request.Request(f"http://127.0.0.1:8501/v1/models/{arch}:predict", data=body)
            answer = json.load(urllib.request.urlopen(req, timeout=30))
            assert len(answer["predictions"]) == 2
    finally:
        subprocess.run(["docker", "stop", cid], capture_output=True, timeout=60)
