import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from keras_arch.tasks.base import for_arch
from keras_arch import registry
from keras_arch.errors import UsageError
from keras_arch.models.cnn import doc001_cnn
from keras_arch.serving import signatures
from keras_arch.serving.export import export_servable, load_servable, versions
from tests.conftest import ROOT, SERVING_FAST, arch_params

ARCHS = arch_params(registry.names())  # one arch per serving path fast, every arch in CI


@pytest.fixture(scope="module")
def model():
    return doc001_cnn()


def _export(model, base):
    return export_servable(model, base, "cnn", signatures.single_input(model, "image", "probabilities"))


@pytest.mark.parametrize("arch", ARCHS)
def test_every_arch_has_the_tf_serving_layout(exported, arch):
    base, archs = exported
    path = archs[arch][3]
    assert path == os.path.join(base, arch, "1")
    assert {"saved_model.pb", "variables", "assets", "assets.extra"} <= set(os.listdir(path))
    assert os.path.isfile(os.path.join(path, "assets.extra", "tf_serving_warmup_requests"))


def test_versions_increment_and_never_overwrite(model, tmp_path):
    first = _export(model, str(tmp_path))
    stamp = os.stat(os.path.join(first, "saved_model.pb")).st_mtime_ns
    second = _export(model, str(tmp_path))
    assert (first, second) == (str(tmp_path / "cnn" / "1"), str(tmp_path / "cnn" / "2"))
    assert os.stat(os.path.join(first, "saved_model.pb")).st_mtime_ns == stamp
    assert sorted(os.listdir(tmp_path / "cnn")) == ["1", "2"]  # no temporary left behind
    assert versions(str(tmp_path / "cnn")) == [1, 2]


def test_concurrent_exports_get_different_versions(model, tmp_path):
    paths = []
    threads = [threading.Thread(target=lambda: paths.append(_export(model, str(tmp_path)))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(os.path.basename(p) for p in paths) == ["1", "2"]


@pytest.mark.slow  # two fresh processes exporting at once (about 7 s); CI runs it
def test_two_export_processes_at_once_get_different_versions(tmp_path):
    code = ("import sys, keras_arch\n"
            "from keras_arch.models.cnn import doc001_cnn\n"
            "from keras_arch.serving import signatures\n"
            "from keras_arch.serving.export import export_servable\n"
            "m = doc001_cnn()\n"
            "print(export_servable(m, sys.argv[1], 'cnn', signatures.single_input(m, 'image', 'p')))\n")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, cwd=ROOT) for _ in range(2)]
    outs = [p.communicate(timeout=300)[0].strip().splitlines()[-1] for p in procs]
    assert sorted(os.path.basename(o) for o in outs) == ["1", "2"]


# One fresh process per group, not per arch: the serving paths of SERVING_FAST in
# the fast suite, every other arch in CI (a TensorFlow start-up costs 5-10 s).
GROUPS = [pytest.param(list(SERVING_FAST), id="fast-archs"),
          pytest.param([a for a in registry.names() if a not in SERVING_FAST], id="other-archs",
                       marks=pytest.mark.slow)]

RELOAD = """
import sys, json, numpy as np, tensorflow as tf
import tensorflow_text  # text-in exports use TF-Text ops, as the server must have
result = {}
for arg in sys.argv[1:]:
    arch, path, data_path = arg.split("=")
    m = tf.saved_model.load(path)
    data, feeds = np.load(data_path, allow_pickle=True), {}  # text samples are object arrays
    for key in data.files:
        sig, name = key.split('/')
        feeds.setdefault(sig, {})[name] = tf.constant(data[key])
    result[arch] = {sig: {k: v.numpy().tolist() for k, v in m.signatures[sig](**kw).items()} for sig, kw in feeds.items()}
print(json.dumps(result))
"""


@pytest.mark.parametrize("archs", GROUPS)
def test_reload_in_fresh_process_gives_same_outputs(exported, archs, tmp_path):
    args, cases = [], {}
    for arch in archs:
        model, recipe, splits, path = exported[1][arch]
        samples = for_arch(recipe.name).serving_samples(splits, 3)
        data = tmp_path / f"{arch}.npz"
        np.savez(data, **{f"{sig}/{k}": v for sig, inputs in samples.items() for k, v in inputs.items()})
        args.append(f"{arch}={path}={data}")
        cases[arch] = (model, recipe, samples)
    out = subprocess.run([sys.executable, "-c", RELOAD, *args], capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    served_all = json.loads(out.stdout.strip().splitlines()[-1])
    for arch, (model, recipe, samples) in cases.items():
        served = served_all[arch]
        in_memory = for_arch(recipe.name).signatures(model)
        assert set(served) == set(samples), arch
        for sig, inputs in samples.items():
            expected = signatures.call(in_memory[sig], inputs)
            assert set(served[sig]) == set(expected), (arch, sig)
            for key, value in expected.items():
                np.testing.assert_allclose(served[sig][key], value.numpy(), rtol=1e-5, atol=1e-6, err_msg=arch)
        assert recipe.serving_output in served["serving_default"], arch


SHOW = """
import contextlib, io, sys
from tensorflow.python.tools import saved_model_cli
for path in sys.argv[1:]:
    sys.argv = ["saved_model_cli", "show", "--dir", path, "--all"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            saved_model_cli.main()
        except SystemExit:  # it ends like the command it is
            pass
    print("=== " + path)
    print(out.getvalue())
"""


@pytest.mark.parametrize("archs", [pytest.param(["cnn"], id="cnn"), pytest.param(
    [a for a in registry.names() if a != "cnn"], id="other-archs", marks=pytest.mark.slow)])
def test_saved_model_cli_show_all_and_named_typed_signature(exported, archs):
    """saved_model_cli's own `show --all`, one fresh process for a group of exports."""
    paths = {arch: exported[1][arch][3] for arch in archs}
    out = subprocess.run([sys.executable, "-c", SHOW, *paths.values()], capture_output=True, text=True,
                         cwd=ROOT, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    shown = {block.split("\n", 1)[0]: block for block in out.stdout.split("=== ")[1:]}
    dtype = {"float32": "DT_FLOAT", "int32": "DT_INT32", "object": "DT_STRING"}
    for arch, path in paths.items():
        _, recipe, splits, _ = exported[1][arch]
        default = shown[path].split("signature_def['serving_default']:")[1].split("signature_def[")[0]
        for name, value in for_arch(recipe.name).serving_samples(splits, 1)["serving_default"].items():
            assert f"inputs['{name}'] tensor_info:" in default, arch
            assert f"dtype: {dtype[str(value.dtype)]}" in default, arch
        assert f"outputs['{recipe.serving_output}'] tensor_info:" in default, arch
        if arch.startswith("cnn"):
            assert "shape: (-1, 28, 28, 1)" in default and "shape: (-1, 10)" in default


def test_show_wrapper_prints_every_signature(exported):
    path = exported[1]["cnn"][3]
    out = subprocess.run([sys.executable, "-m", "keras_arch.export", "--show", path],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "signature_def['serving_default']" in out.stdout and "inputs['image']" in out.stdout


def _feed_like_tf_serving(version_dir, input_name, value):
    """Run serving_default the way TF Serving's C++ session does: feed the
    placeholder by name, with no client-side shape check."""
    import tensorflow as tf
    graph = tf.Graph()
    with tf.compat.v1.Session(graph=graph) as sess:
        meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], version_dir)
        sig = meta.signature_def["serving_default"]
        feed = graph.get_tensor_by_name(sig.inputs[input_name].name)
        fetch = graph.get_tensor_by_name(next(iter(sig.outputs.values())).name)
        return sess._call_tf_sessionrun(None, {feed._as_tf_output(): value}, [fetch._as_tf_output()], [], None)[0]


@pytest.mark.parametrize("bad_shape", [(2, 27, 28, 1), (2, 28, 28), (2, 28, 28, 3)])
def test_in_graph_check_names_the_expected_shape(exported, bad_shape):
    import tensorflow as tf
    path = exported[1]["cnn"][3]
    assert _feed_like_tf_serving(path, "image", np.zeros((2, 28, 28, 1), np.float32)).shape == (2, 10)
    got = r"\[" + ",".join(map(str, bad_shape)) + r"\]"  # the whole shape, not "[2 27 28...]"
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=rf"Shape of tensor \S*image\S* {got} is not compatible with expected shape \[\?,28,28,1\]"):
        _feed_like_tf_serving(path, "image", np.zeros(bad_shape, np.float32))


def test_missing_and_corrupt_versions_give_clear_errors(model, tmp_path):
    with pytest.raises(UsageError, match="no such export directory"):
        load_servable(str(tmp_path / "absent"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="numbered versions"):
        load_servable(str(tmp_path / "empty"))
    path = _export(model, str(tmp_path))
    with open(os.path.join(path, "saved_model.pb"), "wb") as f:
        f.write(b"\x00garbage")
    with pytest.raises(UsageError, match="cannot load SavedModel"):
        load_servable(str(tmp_path / "cnn"))


def test_export_into_a_file_is_a_usage_error(model, tmp_path):
    target = tmp_path / "file"
    target.write_text("keep me")
    with pytest.raises(UsageError, match="not a directory"):
        _export(model, str(target))
    assert target.read_text() == "keep me"


@pytest.mark.slow  # two CLI processes, one of them training (about 16 s)
def test_export_cli_from_checkpoint_dir(tmp_path):
    ck, base = str(tmp_path / "ck"), str(tmp_path / "sv")
    run = subprocess.run([sys.executable, "-m", "keras_arch.run", "cnn-doc001", "--epochs", "1", "--quiet",
                          "--checkpoint-dir", ck], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    out = subprocess.run([sys.executable, "-m", "keras_arch.export", "--checkpoint-dir", ck, "--base", base],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == os.path.join(base, "cnn-doc001", "1")
    bad = subprocess.run([sys.executable, "-m", "keras_arch.export", "--checkpoint-dir", base, "--base", base],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert bad.returncode == 2 and "not a keras_arch checkpoint directory" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
