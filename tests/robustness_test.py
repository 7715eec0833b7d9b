"""Bad input and faults (issue 29): nothing a user points at is lost or
replaced, no code from a user's file runs, memory stays bounded by what the
model reads, every result is finite, and everything that cannot work is one
line and exit 2 before any training. One test per case the issue lists, and
one per class of fault that would catch its siblings."""
import base64
import json
import os

import numpy as np
import pytest

from keras_arch import io, paths, registry, run
from keras_arch.config import RunConfig
from keras_arch.errors import UsageError
from keras_arch.serving import rest
from keras_arch.training import checkpoints, train_lib
from tests.conftest import REACHED, ROOT, run_cli
from tests.data.idx_test import make_mnist_dir, write_idx

PROG = run.PROG


def _refused(result, needle):
    code, err = result
    assert code == 2 and "\n" not in err and REACHED not in err and needle in err, err


# --- outputs: nothing replaced, every path checked before training -------------------------------

def test_tflite_and_metrics_json_on_one_file_is_refused(main, tmp_path):
    target = tmp_path / "m.tflite"
    _refused(main("cnn", "--tflite", target, "--metrics-json", target), "the same file as --tflite's")
    _refused(main("cnn", "--tflite", target, "--metrics-json", tmp_path / "m-float.tflite"),
             "the same file as --tflite's")


def test_metrics_json_through_a_link_writes_the_file_it_points_to(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    (tmp_path / "link.json").symlink_to(target)
    paths.file("--metrics-json", str(tmp_path / "link.json"))
    io.write_atomic(str(tmp_path / "link.json"), "new")
    assert (tmp_path / "link.json").is_symlink() and target.read_text() == "new"


@pytest.mark.parametrize("device", ["/dev/stdout", "/dev/null"])
def test_a_device_as_an_output_file_is_refused(main, device):
    _refused(main("cnn", "--metrics-json", device), "not a regular file")


def test_an_export_base_whose_arch_entry_is_a_dangling_link_is_refused(main, tmp_path):
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "cnn").symlink_to(tmp_path / "nowhere")
    _refused(main("cnn", "--export", tmp_path / "base"), "is a link to nothing")


def test_a_directory_where_the_plot_png_goes_is_refused(main, tmp_path):
    (tmp_path / "p" / "training.png").mkdir(parents=True)
    _refused(main("cnn", "--plot", tmp_path / "p"), "training.png is a directory")


@pytest.mark.parametrize("flag", ["--export", "--plot", "--logdir", "--checkpoint-dir", "--metrics-json",
                                  "--tflite"])
@pytest.mark.parametrize("kind", ["dangling link to a missing directory", "a file in a missing directory"])
def test_class_every_output_flag_refuses_what_it_cannot_write_before_training(main, tmp_path, flag, kind):
    """The class: each output flag, pointed at something it cannot write,
    answers one line before training starts and creates nothing."""
    if kind.startswith("dangling"):
        (tmp_path / "out").symlink_to(tmp_path / "missing" / "dir")
        target = tmp_path / "out"
    else:
        target = tmp_path / "missing" / "x"
    before = sorted(os.listdir(tmp_path))
    code, err = main("cnn", flag, target)
    assert code == 2 and REACHED not in err and "\n" not in err, err
    assert sorted(os.listdir(tmp_path)) == before


# --- data: one line before training ----------------------------------------------------------------

@pytest.mark.parametrize("n, shape, needle", [(0, (28, 28), "holds no images"),
                                              (3, (28, 28), "too few to hold out a stratified 10%"),
                                              (40, (10, 10), "images are 10x10; the image archs take 28x28")])
def test_idx_files_that_cannot_train_are_one_line(main, tmp_path, n, shape, needle):
    rng = np.random.default_rng(0)
    write_idx(str(tmp_path / "train-images-idx3-ubyte.gz"), rng.integers(0, 256, (n, *shape)))
    write_idx(str(tmp_path / "train-labels-idx1-ubyte.gz"), np.arange(n) % 10)
    out = run_cli("cnn", "--data-dir", tmp_path, "--epochs", "1")
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and needle in out.stderr, out.stderr


def test_a_test_dir_of_other_sized_images_is_refused_before_training(tmp_path):
    make_mnist_dir(str(tmp_path / "train"), n=200)
    (tmp_path / "test").mkdir()
    write_idx(str(tmp_path / "test" / "t10k-images-idx3-ubyte"), np.zeros((5, 10, 10)))
    write_idx(str(tmp_path / "test" / "t10k-labels-idx1-ubyte"), np.arange(5))
    from keras_arch.data import images
    with pytest.raises(UsageError, match=r"--test-dir .*: images are 10x10"):
        images.load(data_dir=str(tmp_path / "train"), test_dir=str(tmp_path / "test"))


def test_a_10_mb_line_is_cut_to_what_the_model_reads(tmp_path):
    """One 10 MB line: the loader keeps the words the model reads (50 for the
    text classifiers), never the 10 MB, so memory stays that of a normal set."""
    from keras_arch.data import text
    huge = " ".join(["word"] * 2_000_000) + "\n"  # 10 MB
    (tmp_path / "neg.txt").write_text("a dull film\n" * 20 + huge)
    (tmp_path / "pos.txt").write_text("a moving film\n" * 21)
    texts, labels, _ = text.read_class_dir(str(tmp_path), max_words=50)
    assert max(len(t) for t in texts) <= 50 * 100 and max(len(t.split()) for t in texts) == 50
    assert text.cut("short text", 50) == "short text"
    assert text.cut("x" * 10_000_000, 5) == "x" * 500  # one giant word: at most 100 characters a word
    splits = text.load(data_dir=str(tmp_path))
    assert splits.x_train.shape[1] == text.MAX_LENGTH


@pytest.mark.parametrize("length, ok", [(1, False), (2, False), (3, True), (512, True), (513, False), (1000, False)])
def test_bert_max_length_must_fit_the_encoder(main, length, ok):
    code, err = main("bert", "--max-length", length)
    if ok:
        assert REACHED in err
    else:
        _refused((code, err), f"--max-length {length}: the encoder takes 3 .. 512 tokens")


# --- results are finite ----------------------------------------------------------------------------

TEXT_ARCHS = ["attention", "transformer", "moe"]


@pytest.mark.parametrize("arch", TEXT_ARCHS)
def test_class_a_text_with_no_token_gives_finite_probabilities(arch):
    """Punctuation only, or an all-padding request: every text classifier
    answers finite probabilities (a masked mean over no token divided 0 by 0)."""
    recipe = registry.get(arch)
    splits = registry.resolve(recipe.data)(dataset=recipe.datasets[0])
    model = registry.build(arch, **splits.model_args(), **recipe.small_builder_kwargs)
    ids = np.zeros((2, 50), np.int32)
    ids[1, :3] = [4, 5, 6]
    probs = model(ids, training=False).numpy()
    assert np.all(np.isfinite(probs)) and np.allclose(probs.sum(1), 1, atol=1e-5)


def test_a_caption_with_no_word_embeds_finitely():
    from keras_arch.models.two_tower import text_tower
    tower = text_tower(["seven", "digit"], caption_length=5)
    pooled, embedding = tower(np.array(["!!!", "digit seven"], dtype=object))
    assert np.all(np.isfinite(pooled.numpy())) and np.all(np.isfinite(embedding.numpy()))


def test_a_resume_with_nothing_left_reports_no_speed():
    class Trainer:
        seconds, phases = 0.02, [("train", 0)]
    from keras_arch.config import resolve_settings
    from keras_arch.data.images import load_digits
    from keras_arch.models.cnn import doc001_cnn
    splits = load_digits()
    settings = resolve_settings(RunConfig(epochs=3), registry.get("cnn-doc001"), "digits")
    m = train_lib.report("cnn-doc001", doc001_cnn(), splits, settings, Trainer(), {}, start_epoch=3)
    assert m["epochs_this_run"] == 0 and "samples_per_second" not in m


# --- checkpoints: the best stays the best, another run is refused, faults are one line ------------

def test_after_a_resume_best_weights_are_replaced_only_by_a_better_epoch(tmp_path):
    (tmp_path / checkpoints.HISTORY).write_text("epoch,loss,val_loss\n0,0.9,0.4706\n1,0.6,0.4428\n")
    best = [c for c in checkpoints.callbacks(str(tmp_path), {"arch": "cnn"}, resumed=True)
            if type(c).__name__ == "ModelCheckpoint"][0]
    assert best.best == pytest.approx(0.4428)
    fresh = [c for c in checkpoints.callbacks(str(tmp_path / "new"), {"arch": "cnn"})
             if type(c).__name__ == "ModelCheckpoint"][0]
    assert fresh.best == np.inf


@pytest.mark.parametrize("change", [{"data_dir": "/other/data"}, {"builder_kwargs": {"embed_dim": 128}},
                                    {"model_args": {"vocab_size": 9000}}, {"test_dir": "/t"}])
def test_resuming_on_other_data_or_another_model_is_refused(tmp_path, change):
    recorded = {"arch": "transformer", "model_args": {"vocab_size": 5000},
                "config": {"data_dir": "/data", "batch_size": 32, "builder_kwargs": {"embed_dim": 64}, "seed": 0}}
    (tmp_path / checkpoints.RUN).write_text(json.dumps(recorded))
    (tmp_path / checkpoints.BACKUP / "chief").mkdir(parents=True)
    (tmp_path / checkpoints.BACKUP / "chief" / "x").write_text("")
    new = json.loads(json.dumps(recorded))
    if "model_args" in change:
        new["model_args"] = change["model_args"]
    else:
        new["config"].update(change)
    checkpoints.check_same_run(str(tmp_path), recorded)  # the same run resumes
    key = next(iter(change))
    with pytest.raises(UsageError, match=rf"holds a different run \({key} .* that was interrupted"):
        checkpoints.check_same_run(str(tmp_path), new)
    assert json.loads((tmp_path / checkpoints.RUN).read_text()) == recorded  # nothing rewritten


@pytest.mark.parametrize("damage", ["truncated", "zeroed"])
def test_a_damaged_backup_is_one_line_before_training(tmp_path, damage):
    import tensorflow as tf
    backup = tmp_path / checkpoints.BACKUP / "chief"
    ckpt = tf.train.Checkpoint(w=tf.Variable(np.arange(1000, dtype=np.float32)))
    ckpt.write(str(backup / "ckpt-1"))
    (backup / "checkpoint").write_text('model_checkpoint_path: "ckpt-1"\n')
    data = next(p for p in backup.iterdir() if ".data-" in p.name)
    content = data.read_bytes()
    data.write_bytes(content[: len(content) // 2] if damage == "truncated" else b"\0" * len(content))
    with pytest.raises(UsageError, match="the backup in .* is corrupt .*; move it away to start over"):
        checkpoints.check_backup(str(tmp_path))


def test_an_unwritable_checkpoint_file_is_one_line_before_training(tmp_path, monkeypatch):
    (tmp_path / checkpoints.HISTORY).write_text("epoch,loss\n")
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p).endswith(checkpoints.HISTORY) else real(p, mode))
    with pytest.raises(UsageError, match="history.csv is not writable; the run rewrites it every epoch"):
        checkpoints.check_writable(str(tmp_path))


# --- serving: TF Serving's 400s, and no staging directory left behind -------------------------------

def _specs():
    import tensorflow as tf
    return {"token_ids": tf.TensorSpec([None, None], tf.int32, name="token_ids"),
            "text": tf.TensorSpec([None], tf.string, name="text")}


@pytest.mark.parametrize("body, needle", [
    ([1, 2], "request body must be a JSON object, got list"),
    ("instances", "request body must be a JSON object, got str"),
    ({"inputs": {"token_ids": [[1, 2], [3]], "text": ["a", "b"]}}, "rows of different lengths"),
    ({"inputs": {"token_ids": [[2 ** 40]], "text": ["a"]}}, "values outside int32's range"),
    ({"inputs": {"token_ids": [["a"]], "text": ["a"]}}, "expected numbers"),
    ({"inputs": {"token_ids": [[None]], "text": ["a"]}}, "expected numbers"),
    ({"inputs": {"token_ids": [[5.9]], "text": ["a"]}}, "expected integers (int32), got fractions"),
    ({"inputs": {"token_ids": [[True]], "text": ["a"]}}, "expected numbers, got booleans"),
    ({"inputs": {"token_ids": [[1]], "text": [{"b64": "not base64!"}]}}, "invalid base64"),
    ({"inputs": {"token_ids": [[1]], "text": [3]}}, "expected strings, got int"),
    ({"inputs": {"token_ids": [1, 2], "text": ["a", "b"]}}, "expected 2 dimensions, got 1"),
])
def test_class_a_malformed_rest_body_is_one_line(body, needle):
    with pytest.raises(UsageError) as e:
        rest.parse(body, _specs())
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_good_rest_values_still_parse():
    inputs, fmt = rest.parse({"inputs": {"token_ids": [[1.0, 2]], "text": [{"b64": base64.b64encode(b"hi").decode()}]}},
                             _specs())
    assert inputs["token_ids"].dtype == np.int32 and inputs["token_ids"].tolist() == [[1, 2]]
    assert inputs["text"].tolist() == [b"hi"] and fmt == "columnar"


def test_a_killed_exports_staging_directory_is_removed_by_the_next_export(tmp_path):
    from keras_arch.serving.export import STAGING, remove_abandoned_staging
    dead = 2 ** 22 + 12345  # above Linux's default pid_max: no such process
    (tmp_path / f"{STAGING}{dead}-abc" / "variables").mkdir(parents=True)
    (tmp_path / f"{STAGING}{os.getpid()}-def").mkdir()  # an export running now (this process)
    (tmp_path / "1").mkdir()
    remove_abandoned_staging(str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == sorted(["1", f"{STAGING}{os.getpid()}-def"])


# --- no code from a user's file runs -----------------------------------------------------------------

LAMBDA = "lambda x: (open({marker!r}, 'w').write('ran'), x)[1]"


@pytest.mark.parametrize("fmt", ["h5", "savedmodel", "keras"])
def test_export_of_a_user_model_runs_none_of_its_code(tmp_path, fmt):
    """A Lambda layer whose function writes a marker file: exporting the saved
    model reads only weights into the arch's own model (here they do not fit:
    one line, exit 2), and the marker is never written."""
    import subprocess
    import sys
    marker = tmp_path / "marker"
    path = tmp_path / {"h5": "m.h5", "savedmodel": "sm", "keras": "m.keras"}[fmt]
    code = ("import keras_arch, tf_keras as keras\n"
            "inputs = keras.Input((28, 28, 1))\n"
            f"x = keras.layers.Lambda({LAMBDA.format(marker=str(marker))})(inputs)\n"
            "x = keras.layers.Dense(10, activation='softmax')(keras.layers.Flatten()(x))\n"
            f"keras.Model(inputs, x).save({str(path)!r})\n"
            f"import os; os.remove({str(marker)!r})\n")
    made = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert made.returncode == 0 and not marker.exists(), made.stderr[-2000:]
    out = subprocess.run([sys.executable, "-m", "keras_arch.export", "cnn", "--model", str(path), "--base",
                          str(tmp_path / "servables")], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr[-2000:]
    assert "does not fit cnn's model" in out.stderr
    assert not marker.exists(), "code from the model file ran"
    assert not (tmp_path / "servables" / "cnn").exists() or not os.listdir(tmp_path / "servables" / "cnn")


@pytest.mark.slow  # three exports (about 10 s)
def test_export_of_a_saved_arch_model_in_every_format_serves_its_weights(tmp_path, monkeypatch):
    """What --model reads, it reads whole: the served outputs are the saved model's."""
    import tensorflow as tf
    from keras_arch import export
    from keras_arch.serving.export import load_servable
    from keras_arch.tasks.base import for_arch
    monkeypatch.setattr(export.quiet, "enable", lambda: None)
    task = for_arch("cnn")
    splits = task.load_data()
    model = task.build_model(splits, task.settings(splits))
    for w in model.trainable_weights:  # not the builder's initial values
        w.assign(w + 0.01)
    x = splits.x_test[:4]
    expected = model(x, training=False).numpy()
    for name in ("m.keras", "m.h5", "saved"):
        model.save(str(tmp_path / name))
        base = tmp_path / f"servables-{name}"
        assert export.main(["cnn", "--model", str(tmp_path / name), "--base", str(base)]) == 0
        served = load_servable(str(base / "cnn")).signatures["serving_default"](image=tf.constant(x))
        np.testing.assert_allclose(served["probabilities"].numpy(), expected, rtol=1e-5, atol=1e-6)
