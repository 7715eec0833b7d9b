"""Every generated table (``python -m keras_arch.readme``) is current in each
of its files, and the one command rewrites exactly the stale blocks."""
import os

import pytest

from keras_arch import readme
from keras_arch.optimize import support
from tests.conftest import ROOT

FAST = [name for name, spec in readme.BLOCKS.items() if not spec.slow]


@pytest.mark.parametrize("name", FAST)
def test_fast_blocks_are_current(name):
    assert readme.stale([name]) == [], f"regenerate: python -m keras_arch.readme {name}"


@pytest.mark.slow  # every compression operation on every arch: minutes
def test_the_support_matrix_matches_what_the_code_does():
    text = open(os.path.join(ROOT, "docs", "compression.md"), encoding="utf-8").read()
    committed = support.parse(readme.block(text, "support-matrix"))
    now = support.matrix()
    # cell by cell, so that a failure says which operation on which arch changed
    differ = [f"{arch} / {column}: committed {committed.get(arch, {}).get(column)!r}, now {cells[column]!r}"
              for arch, cells in now.items() for column in support.COLUMNS
              if committed.get(arch, {}).get(column) != cells[column].replace("|", "/").strip()]
    differ += [f"{arch}: committed, no longer registered" for arch in set(committed) - set(now)]
    assert not differ, "regenerate: python -m keras_arch.readme support-matrix\n" + "\n".join(differ)


def test_the_committed_support_matrix_parses_back_to_itself():
    """The fast half of the check above: the committed table is well formed
    (a row per arch, a cell per column) and renders back unchanged."""
    text = open(os.path.join(ROOT, "docs", "compression.md"), encoding="utf-8").read()
    committed = readme.block(text, "support-matrix")
    table = support.parse(committed)
    assert set(table) == set(readme.registry.names())
    assert support.render(table) == committed


def test_the_command_rewrites_only_stale_blocks_each_in_its_files_language(tmp_path, monkeypatch, capsys):
    (tmp_path / "docs").mkdir()
    begin, end = readme.markers("archs")
    for name in ("README.md", "README.zh-CN.md"):
        (tmp_path / name).write_text(f"# top\n\n{begin}\nstale\n{end}\n\ntail\n", encoding="utf-8")
    monkeypatch.setattr(readme, "ROOT", str(tmp_path))
    monkeypatch.setattr(readme, "BLOCKS", {"archs": readme.BLOCKS["archs"]})
    assert readme.main(["--check"]) == 1
    assert "README.md: archs is stale" in capsys.readouterr().out
    assert readme.main([]) == 0
    for name, lang in (("README.md", "en"), ("README.zh-CN.md", "zh")):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert text == f"# top\n\n{begin}\n{readme.archs_table(lang)}\n{end}\n\ntail\n"
    assert readme.main(["--check"]) == 0


def test_the_languages_differ_only_in_the_header_row():
    for render in (readme.archs_table, readme.errata.render):
        en, zh = render("en").splitlines(), render("zh").splitlines()
        assert en[0] != zh[0] and en[1:] == zh[1:] and en[0].count("|") == zh[0].count("|")
