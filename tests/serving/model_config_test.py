import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from google.protobuf import text_format

from keras_arch.errors import UsageError
from keras_arch.serving import model_config
from tests.conftest import ROOT


def _export_cli(*args):
    return subprocess.run([sys.executable, "-m", "keras_arch.export", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def _parse_config(base):
    from tensorflow_serving.config import model_server_config_pb2
    return text_format.Parse(open(os.path.join(base, "models.config")).read(),
                             model_server_config_pb2.ModelServerConfig())


@pytest.mark.slow  # exports every arch (about a minute)
def test_models_config_parses_as_tf_serving_config_and_lists_every_model(exported, tmp_path):
    base, archs = exported
    for arch in archs:
        archs[arch]  # export every one of them into base
    out = _export_cli("--model-config", base)
    assert out.returncode == 0, out.stderr
    entries = {c.name: c for c in _parse_config(base).model_config_list.config}
    assert sorted(entries) == sorted(archs)
    for name, entry in entries.items():
        assert entry.base_path == f"/models/{name}" and entry.model_platform == "tensorflow"
        # Default: serve the newest version only (TF Serving's own default, now written down).
        assert entry.model_version_policy.WhichOneof("policy_choice") == "latest"
        assert entry.model_version_policy.latest.num_versions == 1
    assert out.stdout.splitlines()[-1].endswith("--batching_parameters_file=/models/batching_parameters.txt")


def _fake_base(tmp_path, versions=(1, 2, 3)):
    """A BASE with two models and the given versions (only names matter to the config)."""
    for name in ("a", "b"):
        for v in versions:
            os.makedirs(tmp_path / name / str(v))
    return str(tmp_path)


@pytest.mark.parametrize("policy, choice, check", [
    ("latest:3", "latest", lambda p: p.latest.num_versions == 3),
    ("all", "all", lambda p: True),
    ("specific:3,1", "specific", lambda p: list(p.specific.versions) == [1, 3]),
])
def test_version_policies(tmp_path, policy, choice, check):
    base = _fake_base(tmp_path)
    out = _export_cli("--model-config", base, "--version-policy", policy)
    assert out.returncode == 0, out.stderr
    entries = _parse_config(base).model_config_list.config
    assert [e.name for e in entries] == ["a", "b"]
    for entry in entries:
        assert entry.model_version_policy.WhichOneof("policy_choice") == choice
        assert check(entry.model_version_policy)


@pytest.mark.parametrize("args, message", [
    (["--version-policy", "newest"], "expected latest"),
    (["--version-policy", "latest:0"], "expected latest"),
    (["--version-policy", "specific:"], "expected latest"),
    (["--version-policy", "specific:1,x"], "expected latest"),
    (["--version-policy", "specific:4"], "model a has no version 4 (has 1, 2, 3)"),
    (["--batch-threads", "0"], "expected a positive integer"),
])
def test_bad_policies_are_one_line_and_exit_2(tmp_path, args, message):
    base = _fake_base(tmp_path)
    out = _export_cli("--model-config", base, *args)
    assert out.returncode == 2 and message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert not os.path.exists(os.path.join(base, "models.config"))


def test_policy_without_model_config_is_refused():
    out = _export_cli("--show", "x", "--version-policy", "all")
    assert out.returncode == 2 and "go with --model-config" in out.stderr


def _batching_parameters_class():
    """TF Serving's BatchingParameters (session_bundle_config.proto), built here
    from its field list: tensorflow-serving-api does not ship that proto."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    from google.protobuf import wrappers_pb2  # noqa: F401  (registers wrappers.proto in the pool)
    f = descriptor_pb2.FileDescriptorProto(name="keras_arch_test_batching.proto", package="tensorflow.serving",
                                           syntax="proto3", dependency=["google/protobuf/wrappers.proto"])
    m = f.message_type.add(name="BatchingParameters")
    T = descriptor_pb2.FieldDescriptorProto
    for number, name in ((1, "max_batch_size"), (2, "batch_timeout_micros"), (3, "max_enqueued_batches"),
                         (4, "num_batch_threads")):
        m.field.add(name=name, number=number, type=T.TYPE_MESSAGE, label=T.LABEL_OPTIONAL,
                    type_name=".google.protobuf.Int64Value")
    m.field.add(name="thread_pool_name", number=5, type=T.TYPE_MESSAGE, label=T.LABEL_OPTIONAL,
                type_name=".google.protobuf.StringValue")
    m.field.add(name="allowed_batch_sizes", number=6, type=T.TYPE_INT64, label=T.LABEL_REPEATED)
    m.field.add(name="pad_variable_length_inputs", number=7, type=T.TYPE_BOOL, label=T.LABEL_OPTIONAL)
    pool = descriptor_pool.Default()
    try:
        pool.Add(f)
    except TypeError:  # already added by an earlier test in this process
        pass
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("tensorflow.serving.BatchingParameters"))


@pytest.mark.parametrize("threads", [None, 8])
def test_batching_parameters_parse_as_tf_serving_reads_them(tmp_path, threads):
    base = _fake_base(tmp_path)
    out = _export_cli("--model-config", base, *(["--batch-threads", str(threads)] if threads else []))
    assert out.returncode == 0, out.stderr
    params = text_format.Parse(open(os.path.join(base, "batching_parameters.txt")).read(),
                               _batching_parameters_class()())
    assert params.max_batch_size.value == model_config.BATCHING["max_batch_size"]
    assert params.batch_timeout_micros.value == model_config.BATCHING["batch_timeout_micros"]
    assert params.num_batch_threads.value == (threads or model_config.BATCHING["num_batch_threads"])
    assert params.max_enqueued_batches.value == params.num_batch_threads.value
    # Padding with each tensor's first element would change token ids: left off.
    assert not params.pad_variable_length_inputs
    assert 1 <= params.max_batch_size.value <= 1024 and 0 <= params.batch_timeout_micros.value <= 10_000


def test_empty_base_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no exported models"):
        model_config.write(str(tmp_path))
    with pytest.raises(UsageError, match="no such directory"):
        model_config.write(str(tmp_path / "absent"))


@pytest.mark.skipif(shutil.which("docker") is None or subprocess.run(
    ["docker", "info"], capture_output=True).returncode != 0,
    reason="no Docker engine runs here: the tensorflow/serving container cannot start")
def test_real_tensorflow_serving_container(exported):  # pragma: no cover - needs Docker
    """The generated configs, batching on, in the official image run as a
    non-root user (exports must be world-readable); good bodies answer, bad
    ones get the contract's messages with HTTP 400."""
    import json
    import time
    import urllib.error
    import urllib.request
    from keras_arch.export import example_request
    base, archs = exported
    model_config.write(base)  # models.config and batching_parameters.txt
    cid = subprocess.run(["docker", "run", "-d", "--rm", "--user", "65534:65534", "-p", "127.0.0.1:8501:8501",
                          "-v", f"{base}:/models:ro", "tensorflow/serving",
                          "--model_config_file=/models/models.config", "--enable_batching",
                          "--batching_parameters_file=/models/batching_parameters.txt"],
                         capture_output=True, text=True, check=True).stdout.strip()

    def post(arch, body):
        req = urllib.request.Request(f"http://127.0.0.1:8501/v1/models/{arch}:predict", data=json.dumps(body).encode())
        try:
            return 200, json.load(urllib.request.urlopen(req, timeout=30))
        except urllib.error.HTTPError as e:
            return e.code, json.load(e)

    try:
        for _ in range(60):
            try:
                urllib.request.urlopen("http://127.0.0.1:8501/v1/models/cnn", timeout=2)
                break
            except OSError:
                time.sleep(1)
        for arch in archs:
            if arch == "bert":  # the stock image has no TF-Text ops (README: BERT)
                continue
            code, answer = post(arch, example_request(arch, "instances", "serving_default"))
            assert code == 200 and len(answer["predictions"]) == 2, answer
        body = example_request("cnn", "instances", "serving_default")
        code, answer = post("cnn", {"instances": (np.asarray(body["instances"]) * 255).tolist()})
        assert code == 400 and "dividing them by 255" in answer["error"]
    finally:
        subprocess.run(["docker", "stop", cid], capture_output=True, timeout=60)
