import os

import pytest

from keras_arch.optimize import support
from tests.conftest import ROOT


READMES = {"README.md": "en", "README.zh-CN.md": "zh"}
FIX = "fix: python -m keras_arch.optimize.support --readme README.md README.zh-CN.md"


def _block(name):
    return support.readme_block(open(os.path.join(ROOT, name), encoding="utf-8").read())


@pytest.mark.slow  # every operation on every arch: about 460 s here
def test_readme_support_matrix_matches_what_the_code_does():
    """Regenerates the matrix by doing every operation on every arch; fails when
    either README's table is stale."""
    table = support.matrix()
    for name, lang in READMES.items():
        assert _block(name) == support.render(table, lang), (name, FIX)


def test_chinese_readme_matrix_has_the_english_rows_under_a_chinese_header():
    """The fast half of the check above: README.zh-CN.md's matrix is README.md's,
    cell for cell, so the two cannot drift apart between slow runs."""
    en = _block("README.md")
    assert support.render(support.parse(en)) == en  # parse is render's inverse
    assert _block("README.zh-CN.md") == support.render(support.parse(en), "zh"), FIX


def test_readme_option_rewrites_several_files_each_in_its_language(tmp_path, monkeypatch, capsys):
    table = {"cnn": {c: "yes" for c in support.COLUMNS}}
    monkeypatch.setattr(support, "matrix", lambda: table)
    paths = []
    for name in READMES:
        (tmp_path / name).write_text(f"a\n{support.BEGIN}\nold\n{support.END}\nb\n", encoding="utf-8")
        paths.append(str(tmp_path / name))
    assert support.main(["--readme", *paths]) == 0
    assert capsys.readouterr().out.strip() == support.render(table)
    for path, lang in zip(paths, READMES.values()):
        assert open(path, encoding="utf-8").read() == f"a\n{support.BEGIN}\n{support.render(table, lang)}\n{support.END}\nb\n"


def test_cells_record_failures_instead_of_raising(monkeypatch):
    from keras_arch.optimize import tflite

    def broken(*args, **kwargs):
        raise ValueError("converter exploded\nsecond line")

    monkeypatch.setattr(tflite, "convert", broken)
    cells = support.check_arch("cnn-doc001")
    assert cells["TFLite float"] == "no: ValueError: converter exploded"
    assert cells["QAT"] == "yes" and cells["SavedModel"] == "yes"
