"""``run bert`` and loading its export import neither torch nor transformers.

The BERT encoder is keras_arch's own functional model, reading the weights
with safetensors / h5py; transformers (whose TensorFlow classes are gone in
v5, and whose import drags in torch, whose triton import segfaults next to
TensorFlow) is only the independent reference of a test. Here stand-in
``torch`` and ``transformers`` packages, with the dist-info an installed one
has, sit first on the path and abort the process the moment anything imports
them; the real BERT code path (the packaged encoder's safetensors loader,
fine-tuning, text-in export, reload, serving helpers, a notebook kernel)
runs beside them. USE_TF and USE_TORCH are removed from the children's
environment.
"""
import json
import os
import shutil
import signal
import subprocess
import sys

import pytest

from tests.conftest import ROOT

STANDIN = '''"""Stand-in package (tests/no_torch_test.py): importing it is the failure."""
import os
import traceback
with open(os.environ["KERAS_ARCH_TORCH_MARKER"], "w") as f:
    traceback.print_stack(file=f)
os.abort()
'''

NEG = ["a dull, tedious film", "the plot is boring and the acting weak", "awful dialogue, clumsy pacing",
       "i found it terrible", "a weak script and a dull cast", "boring scenes with tedious dialogue",
       "the ending is awful", "clumsy direction and bad acting", "tedious and dull throughout",
       "a terrible, boring story", "weak visuals, bad score", "frankly awful"]
POS = ["a moving, brilliant film", "the acting is superb and the plot great", "funny dialogue, wonderful pacing",
       "i found it excellent", "a great script and a brilliant cast", "moving scenes with funny dialogue",
       "the ending is superb", "wonderful direction and great acting", "excellent and moving throughout",
       "a brilliant, funny story", "superb visuals, great score", "honestly wonderful"]


@pytest.fixture
def world(tmp_path):
    """(env for child processes, marker path, tiny data dir, tiny pretrained dir)."""
    site = tmp_path / "site"
    for name, version in (("torch", "2.5.0"), ("transformers", "4.57.6")):
        (site / name).mkdir(parents=True)
        (site / name / "__init__.py").write_text(STANDIN)
        dist = site / f"{name}-{version}.dist-info"  # what an installed package has (is_torch_available looks)
        dist.mkdir()
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    marker = tmp_path / "torch-or-transformers-was-imported.txt"
    env = {k: v for k, v in os.environ.items() if k not in ("USE_TF", "USE_TORCH")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), ROOT] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    env["KERAS_ARCH_TORCH_MARKER"] = str(marker)

    data = tmp_path / "data"
    data.mkdir()
    (data / "neg.txt").write_text("\n".join(NEG * 2) + "\n")
    (data / "pos.txt").write_text("\n".join(POS * 2) + "\n")
    return env, marker, str(data), _one_layer_minilm(tmp_path / "minilm-1")


def _one_layer_minilm(directory):
    """The packaged all-MiniLM-L6-v2 cut to its first layer: same files, same
    loader (model.safetensors -> safetensors.numpy) as the default `run bert`,
    a fraction of the compute."""
    from safetensors.numpy import load_file, save_file
    from keras_arch.models.bert_config import default_pretrained_dir
    src = default_pretrained_dir()
    directory.mkdir()
    with open(os.path.join(src, "config.json")) as f:
        config = json.load(f)
    config["num_hidden_layers"] = 1
    (directory / "config.json").write_text(json.dumps(config))
    shutil.copy(os.path.join(src, "vocab.txt"), directory)
    weights = load_file(os.path.join(src, "model.safetensors"))
    save_file({k: v for k, v in weights.items() if ".layer." not in k or ".layer.0." in k},
              str(directory / "model.safetensors"))
    return str(directory)


def _child(env, *args, timeout=300):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=timeout)


def _torch_not_imported(out, marker):
    assert not marker.exists(), f"torch or transformers was imported from:\n{marker.read_text()}"
    assert out.returncode == 0, out.stderr[-3000:]


@pytest.mark.parametrize("name", ["torch", "transformers"])
def test_the_stand_ins_abort_an_import(world, name):
    """Control: importing either stand-in aborts the process: the other tests are not vacuous."""
    env, marker, _, _ = world
    out = _child(env, "-c", f"import {name}")
    assert out.returncode == -signal.SIGABRT, (out.returncode, out.stderr[-2000:])
    assert marker.exists()


@pytest.mark.slow  # an end-to-end run of 15-70 s here (issue 18: the fast suite)
def test_run_bert_export_and_reload_never_import_torch(world, tmp_path):
    env, marker, data, pretrained = world
    base = str(tmp_path / "servables")
    out = _child(env, "-m", "keras_arch.run", "bert", "--pretrained", pretrained, "--data-dir", data,
                 "--epochs", "1", "--max-length", "16", "--export", base, "--quiet")
    _torch_not_imported(out, marker)
    assert "test accuracy" in out.stdout and os.path.join(base, "bert", "1") in out.stdout

    code = ("import sys\n"
            "import numpy as np, tensorflow as tf\n"
            "import keras_arch.export, keras_arch.serving.rest, keras_arch.serving.warmup\n"
            "from keras_arch.serving.export import load_servable\n"
            f"served = load_servable({base!r} + '/bert')\n"
            "p = served.signatures['serving_default'](text=tf.constant(['a moving film', 'dull']))['probabilities']\n"
            "assert p.shape == (2, 2) and np.allclose(p.numpy().sum(1), 1, atol=1e-5), p\n"
            "print('torch' in sys.modules, 'transformers' in sys.modules)\n")
    out = _child(env, "-c", code)
    _torch_not_imported(out, marker)
    assert out.stdout.split() == ["False", "False"]
    out = _child(env, "-m", "keras_arch.export", "--show", os.path.join(base, "bert"))
    _torch_not_imported(out, marker)
    assert "signature_def['serving_default']" in out.stdout


def test_the_builder_and_a_run_refusal_import_neither(world, tmp_path):
    """In process: the classifier builds on the packaged weights, and a bad
    --max-length is refused in one line, with USE_TORCH=1 and USE_TF=0 set
    (they concern transformers, which nothing here imports)."""
    env, marker, _, pretrained = world
    code = ("import sys, keras_arch\n"
            "from keras_arch.models import bert_classifier as bc\n"
            f"model = bc.bert_classifier(num_classes=2, pretrained={pretrained!r})\n"
            "print(model.count_params() > 0, 'torch' in sys.modules, 'transformers' in sys.modules)\n")
    out = _child({**env, "USE_TORCH": "1", "USE_TF": "0"}, "-c", code)
    _torch_not_imported(out, marker)
    assert out.stdout.split()[-3:] == ["True", "False", "False"]
    out = _child(env, "-m", "keras_arch.run", "bert", "--pretrained", pretrained, "--max-length", "600")
    assert out.returncode == 2 and out.stderr.strip().endswith(
        "--max-length 600: the encoder takes 3 .. 512 tokens, [CLS] and [SEP] included"), out.stderr
    assert not marker.exists()


@pytest.mark.slow
def test_notebook_kernel_trains_bert_without_torch(world, monkeypatch):
    """A notebook kernel started from a process that never imported keras_arch
    (the environment has no USE_TF): neither torch nor transformers is imported."""
    import importlib.util
    import nbformat
    from nbclient import NotebookClient
    spec = importlib.util.spec_from_file_location("notebooks_build", os.path.join(ROOT, "notebooks", "build.py"))
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    notebook = build.build(build.sources()["001_cnn_rnn_bert.ipynb"])
    setup = next(c.source for c in notebook.cells if c.cell_type == "code")  # the cell every notebook starts with
    env, marker, data, pretrained = world
    for key in ("USE_TF", "USE_TORCH"):
        monkeypatch.delenv(key, raising=False)
    for key in ("PYTHONPATH", "KERAS_ARCH_TORCH_MARKER"):
        monkeypatch.setenv(key, env[key])
    train = (f"model, m = train('bert', epochs=1, max_length=16, pretrained={pretrained!r}, "
             f"data_dir={data!r}, quiet=True)\n"
             "print('torch' in sys.modules, 'transformers' in sys.modules, m['test_accuracy'] >= 0)")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(setup), nbformat.v4.new_code_cell(train)])
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": os.path.join(ROOT, "notebooks")}}).execute()
    assert not marker.exists(), marker.read_text()
    text = "".join(o.get("text", "") for o in nb.cells[1].outputs if o.output_type == "stream")
    assert text.split()[-3:] == ["False", "False", "True"], nb.cells[1].outputs
