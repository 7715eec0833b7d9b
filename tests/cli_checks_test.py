"""Issue 14's command-line checks: every (arch, option) pair honoured or
refused before any work, output paths checked first, no abbreviations, no
empty values, a checked --seed, and checkpoint directories of other runs
refused. Nothing here trains: ``train_lib.run`` is replaced by a sentinel."""
import json
import os
import subprocess
import sys
import time

import pytest

from keras_arch import options, readme, registry, run
from keras_arch.errors import UsageError
from keras_arch.optimize import support
from keras_arch.tasks.base import task_class
from keras_arch.training import checkpoints
from tests.conftest import REACHED, ROOT

PROG = run.PROG


def _one_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _value(flag, tmp_path):
    """A valid value for ``flag`` on an arch that honours it."""
    return {"--data-dir": [tmp_path], "--test-dir": [tmp_path], "--optimizer": ["adam"],
            "--lr-schedule": ["cosine"], "--pretrained": ["minilm"], "--max-length": [64],
            "--combine": ["sum"], "--negatives": [4], "--labels-per-class": [5], "--prune": ["2:4"],
            "--tflite": [tmp_path / "m.tflite"], "--compress-epochs": [3], "--checkpoint-dir": [tmp_path / "ck"],
            "--plot": [tmp_path / "plots"], "--logdir": [tmp_path / "tb"], "--export": [tmp_path / "servables"],
            "--metrics-json": [tmp_path / "m.json"], "--dataset": None, "--epochs": [1], "--batch-size": [8],
            "--learning-rate": [0.01], "--seed": [3], "--strategy": ["one-device"], "--logical-devices": [2],
            "--precision": ["auto"]}.get(flag, [])


# --- the declaration ------------------------------------------------------------------------------

def test_the_declaration_covers_every_arch_and_every_option():
    flags = [a.option_strings[0] for a in options.build_parser()._actions
             if a.option_strings and a.dest not in ("help", "list")]
    assert sorted(flags) == sorted(options.ALL_OPTIONS)
    for arch in registry.names():
        reasons = options.refused(arch)
        assert set(reasons) <= set(options.ALL_OPTIONS), arch
        assert all(r.strip() for r in reasons.values()), arch


def test_the_options_table_has_no_silent_cell():
    table = options.render().split("\n\n")[0]
    cells = [c.strip() for row in table.splitlines()[2:] for c in row.strip("|").split("|")[1:]]
    assert cells and all(c == "yes" or c.startswith("refused: ") for c in cells)


def test_compression_refusals_agree_with_readme_support_matrix():
    """A "no" in the support matrix (docs/compression.md) is refused, with the matrix's reason
    or the task's own (crossmodal's several outputs come before its converter error); a
    "yes" is honoured unless the task declares why its compression stage
    cannot apply (several outputs, a five-class transfer head, ranking metrics)."""
    text = open(os.path.join(ROOT, "docs", "compression.md"), encoding="utf-8").read()
    matrix = support.parse(readme.block(text, "support-matrix"))
    assert set(matrix) == set(registry.names())
    needs = {"--qat": ("QAT",), "--prune": ("pruning",), "--tflite": ("TFLite float", "TFLite int8")}
    for arch, cells in matrix.items():
        refused = options.refused(arch)
        for flag, columns in needs.items():
            no = any(cells[c].startswith("no") for c in columns)
            task = task_class(registry.get(arch))
            if no:  # refused: with the matrix's reason, or the task's own where it comes first
                assert ("(support matrix)" in refused.get(flag, "")
                        or refused.get(flag) == task.no_compression.get(flag) is not None), \
                    (arch, flag, [cells[c] for c in columns])
            elif flag in refused:
                assert "(support matrix)" not in refused[flag], (arch, flag)
                assert refused[flag] == task.no_compression.get(flag), (arch, flag)


def test_every_refused_pair_is_refused_by_main_before_training(main, tmp_path):
    pairs = [(a, f, r) for a in registry.names() for f, r in options.refused(a).items()]
    assert len(pairs) > 100
    for arch, flag, reason in pairs:
        code, err = main(arch, flag, *_value(flag, tmp_path))
        assert code == 2, (arch, flag, err)
        assert _one_line(err) == f"{PROG}: error: {flag} is not supported for {arch}: {reason}"
    assert not os.listdir(tmp_path)  # nothing was created


def test_every_honoured_pair_reaches_training(main, tmp_path):
    companions = {"--per-channel": ["--qat"], "--compress-epochs": ["--qat"]}
    for arch in registry.names():
        refused = options.refused(arch)
        for flag in options.ALL_OPTIONS:
            if flag in refused:
                continue
            value = _value(flag, tmp_path) or []
            if flag == "--dataset":
                value = [registry.get(arch).datasets[-1]]
            argv = [arch, flag, *value, *companions.get(flag, [])]
            code, err = main(*argv)
            assert code == 2 and REACHED in err, (argv, err)
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize("argv, needle", [
    (["cnn", "--per-channel"], "--per-channel only changes --qat or --tflite"),
    (["cnn", "--compress-epochs", "3", "--tflite", "m.tflite"], "--compress-epochs only changes --prune or --qat"),
    (["cnn", "--full-batch", "--batch-size", "8"], "--full-batch and --batch-size contradict"),
])
def test_options_that_mean_nothing_alone_are_refused(main, argv, needle):
    code, err = main(*argv)
    assert code == 2 and needle in _one_line(err)


# --- parser strictness --------------------------------------------------------------------------

@pytest.mark.parametrize("flag", ["--dataset", "--data-dir", "--test-dir", "--pretrained", "--tflite", "--export",
                                  "--checkpoint-dir", "--plot", "--logdir", "--metrics-json"])
@pytest.mark.parametrize("value", ["", "  "])
def test_empty_values_are_refused_naming_the_flag(main, flag, value):
    code, err = main("cnn", flag, value)
    assert code == 2
    assert _one_line(err) == f"{PROG}: error: argument {flag}: expected a non-empty value, got {value!r}"


@pytest.mark.parametrize("seed, ok", [(0, True), (2 ** 32 - 1, True), (-1, False), (2 ** 32, False)])
def test_seed_range(main, seed, ok):
    code, err = main("cnn", "--seed", seed)
    assert code == 2
    line = _one_line(err)
    assert (REACHED in line) if ok else line.endswith(f"argument --seed: expected a seed in 0 .. 2**32-1, got {seed}")


def test_no_abbreviations_in_any_parser(main, capsys):
    code, err = main("cnn", "--epoch", "1")
    assert code == 2 and "unrecognized arguments: --epoch 1" in _one_line(err)
    with pytest.raises(SystemExit) as e:
        readme.main(["--che"])
    assert e.value.code == 2
    from keras_arch import export
    assert export.build_parser().allow_abbrev is False


# --- output paths -------------------------------------------------------------------------------

DIR_FLAGS = ("--export", "--plot", "--logdir", "--checkpoint-dir")


@pytest.mark.parametrize("flag", DIR_FLAGS)
def test_a_file_where_a_directory_is_needed(main, tmp_path, flag):
    (tmp_path / "f").write_text("x")
    code, err = main("cnn", flag, tmp_path / "f")
    assert code == 2 and _one_line(err) == f"{PROG}: error: {flag} {tmp_path / 'f'}: is a file, not a directory"


@pytest.mark.parametrize("flag", ("--metrics-json", "--tflite"))
def test_a_directory_where_a_file_is_needed(main, tmp_path, flag):
    code, err = main("cnn", flag, tmp_path)
    assert code == 2 and _one_line(err) == f"{PROG}: error: {flag} {tmp_path}: is a directory, not a file"


@pytest.mark.parametrize("flag", DIR_FLAGS + ("--metrics-json", "--tflite"))
def test_a_missing_parent(main, tmp_path, flag):
    path = tmp_path / "missing" / "out"
    code, err = main("cnn", flag, path)
    assert code == 2
    assert _one_line(err) == f"{PROG}: error: {flag} {path}: directory {tmp_path / 'missing'} does not exist"
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("flag", DIR_FLAGS + ("--metrics-json", "--tflite"))
def test_an_unwritable_parent(main, tmp_path, flag, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() == 0:  # root ignores modes: pretend the directory is read-only
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, m, **kw: False if os.fspath(p) == str(locked) else real(p, m, **kw))
    else:
        locked.chmod(0o500)
    try:
        code, err = main("cnn", flag, locked / "out")
    finally:
        locked.chmod(0o700)
    assert code == 2
    assert _one_line(err) == f"{PROG}: error: {flag} {locked / 'out'}: directory {locked} is not writable"
    assert not os.listdir(locked)


def test_existing_writable_and_new_directories_are_fine(main, tmp_path):
    (tmp_path / "plots").mkdir()
    code, err = main("cnn", "--plot", tmp_path / "plots", "--logdir", tmp_path / "new",
                     "--export", tmp_path / "servables", "--metrics-json", tmp_path / "m.json")
    assert code == 2 and REACHED in err
    assert sorted(os.listdir(tmp_path)) == ["plots"]  # validation creates nothing


def test_tflite_float_sibling_is_checked(main, tmp_path):
    (tmp_path / "m-float.tflite").mkdir()
    code, err = main("cnn", "--tflite", tmp_path / "m.tflite")
    assert code == 2 and "the float model's path" in _one_line(err) and "is a directory" in err
    from keras_arch.paths import tflite_float_path
    assert tflite_float_path("a/m.tflite") == "a/m-float.tflite" and tflite_float_path("a/m") == "a/m-float.tflite"


def test_export_onto_a_file_named_like_the_arch(main, tmp_path):
    (tmp_path / "cnn").write_text("x")
    code, err = main("cnn", "--export", tmp_path)
    assert code == 2 and f"{tmp_path / 'cnn'} is a file, not a directory" in _one_line(err)


# --- checkpoint directories of other runs --------------------------------------------------------

def _finished_run(directory, arch, **config):
    directory.mkdir()
    (directory / "backup").mkdir()  # BackupAndRestore leaves it empty after a finished fit
    (directory / "run.json").write_text(json.dumps({"arch": arch, "config": {"batch_size": 32, **config}}))
    (directory / "history.csv").write_text("epoch,loss\n0,1.0\n")


def test_checkpoint_dir_of_another_finished_arch_is_refused_before_data(main, tmp_path):
    _finished_run(tmp_path / "ck", "kg")
    before = {p: open(tmp_path / "ck" / p).read() for p in ("run.json", "history.csv")}
    code, err = main("cnn", "--checkpoint-dir", tmp_path / "ck")
    assert code == 2
    assert _one_line(err) == (f"{PROG}: error: --checkpoint-dir {tmp_path / 'ck'}: holds a different run "
                              "(arch 'kg' -> 'cnn') that finished; remove it or choose another --checkpoint-dir")
    assert {p: open(tmp_path / "ck" / p).read() for p in before} == before


def test_checkpoint_dir_of_the_same_arch_reaches_training(main, tmp_path):
    _finished_run(tmp_path / "ck", "cnn")
    code, err = main("cnn", "--checkpoint-dir", tmp_path / "ck")
    assert code == 2 and REACHED in err


def test_finished_run_with_another_config_is_refused_and_the_same_config_passes(tmp_path):
    _finished_run(tmp_path / "ck", "cnn", seed=0)
    info = {"arch": "cnn", "config": {"batch_size": 32, "seed": 0}}
    checkpoints.check_same_run(str(tmp_path / "ck"), info)  # the same run: trains again
    with pytest.raises(UsageError, match=r"holds a different run \(seed 0 -> 1\) that finished; remove it"):
        checkpoints.check_same_run(str(tmp_path / "ck"), {"arch": "cnn", "config": {"batch_size": 32, "seed": 1}})


def test_corrupt_run_json_is_one_line(main, tmp_path):
    (tmp_path / "ck").mkdir()
    (tmp_path / "ck" / "run.json").write_text("[1, 2]")
    code, err = main("cnn", "--checkpoint-dir", tmp_path / "ck")
    assert code == 2 and "corrupt run.json" in _one_line(err) and "choose another --checkpoint-dir" in err


# --- the issue's cases, as a user runs them ------------------------------------------------------

def issue_cases(tmp):
    f = os.path.join(tmp, "file")
    return [
        (["cnn", "--epoch", "1"], "unrecognized arguments: --epoch 1"),
        (["cnn", "--data-dir", ""], "argument --data-dir: expected a non-empty value"),
        (["cnn", "--seed", "-1"], "argument --seed: expected a seed in 0 .. 2**32-1, got -1"),
        (["kg", "--tflite", os.path.join(tmp, "x.tflite")], "--tflite is not supported for kg: ranking metrics"),
        (["early-exit", "--qat"], "--qat is not supported for early-exit: tfmot finds no layer"),
        (["transfer", "--prune", "0.5"], "--prune is not supported for transfer: the compression stages fine-tune on all ten digits"),
        (["cnn", "--export", f], f"--export {f}: is a file, not a directory"),
        (["cnn", "--tflite", os.path.join(tmp, "missing", "x.tflite")], "does not exist"),
        (["cnn", "--plot", f], f"--plot {f}: is a file, not a directory"),
        (["cnn", "--logdir", f], f"--logdir {f}: is a file, not a directory"),
        (["cnn", "--checkpoint-dir", f], f"--checkpoint-dir {f}: is a file, not a directory"),
        (["cnn", "--checkpoint-dir", os.path.join(tmp, "ck")], "holds a different run (arch 'kg' -> 'cnn') that finished"),
    ]


def _issue_setup(tmp_path):
    (tmp_path / "file").write_text("x")
    _finished_run(tmp_path / "ck", "kg")
    return str(tmp_path)


@pytest.mark.parametrize("case", range(12))
def test_issue_case_exits_2_with_one_line_within_10_s(tmp_path, case):
    argv, needle = issue_cases(_issue_setup(tmp_path))[case]
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "keras_arch.run", *argv], capture_output=True, text=True,
                         cwd=ROOT, timeout=60)
    seconds = time.perf_counter() - start
    assert out.returncode == 2, out.stderr
    line = _one_line(out.stderr)
    assert line.startswith(f"{PROG}: error: ") and needle in line, line
    assert seconds < 10, seconds


def test_issue_cases_do_not_import_tensorflow(tmp_path):
    tmp = _issue_setup(tmp_path)
    code = ("import contextlib, io, json, sys\n"
            "from keras_arch import run\n"
            "codes = []\n"
            "for argv in json.loads(sys.argv[1]):\n"
            "    with contextlib.redirect_stderr(io.StringIO()):\n"
            "        codes.append(run.main(argv))\n"
            "print(codes, 'tensorflow' in sys.modules)\n")
    argvs = json.dumps([argv for argv, _ in issue_cases(tmp)])
    out = subprocess.run([sys.executable, "-c", code, argvs], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.stdout.strip() == f"{[2] * 12} False", out.stdout + out.stderr


def test_mixed_policies_reach_training_or_are_refused_by_float32_only_archs(main, tmp_path):
    for arch in registry.names():
        code, err = main(arch, "--precision", "mixed_bfloat16")
        why = task_class(registry.get(arch)).float32_only
        if why:
            assert code == 2 and _one_line(err) == (f"{PROG}: error: --precision mixed_bfloat16 is not "
                                                    f"supported for {arch}: {why}"), (arch, err)
        else:
            assert code == 2 and REACHED in err, (arch, err)
    assert not os.listdir(tmp_path)
