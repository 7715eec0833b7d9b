"""README.md and README.zh-CN.md point at each other, the Chinese README lists
every notebook, copies the English README's commands exactly, and its links
into README.md and docs/ land on headings that exist; README.md stays an entry
point (at most 300 lines), and every relative link of the READMEs and docs/
points at a file of the repository. (The generated tables are checked in
generated_test.py.)"""
import glob
import os
import re

import pytest

from tests.conftest import ROOT

ZH = "README.zh-CN.md"
DOCS = sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))
README_MAX_LINES = 300


def _read(name):
    return open(os.path.join(ROOT, name), encoding="utf-8").read()


def _slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_readmes_link_each_other_near_the_top():
    en, zh = _read("README.md"), _read(ZH)
    assert f"]({ZH})" in "\n".join(en.splitlines()[:5]), "README.md links README.zh-CN.md near its title"
    assert "](README.md)" in "\n".join(zh.splitlines()[:5]), "README.zh-CN.md links back to README.md"


def test_every_notebook_is_listed():
    zh = _read(ZH)
    notebooks = sorted(f for f in os.listdir(os.path.join(ROOT, "notebooks")) if f.endswith(".ipynb"))
    assert notebooks
    for name in notebooks:
        assert f"(notebooks/{name})" in zh, f"{ZH} does not link notebooks/{name}"
    listed = set(re.findall(r"\(notebooks/([^)]+\.ipynb)\)", zh))
    assert listed == set(notebooks), "a listed notebook no longer exists"


def test_install_and_first_commands_are_the_english_readmes():
    en, zh = _read("README.md"), _read(ZH)

    def bash_blocks(text, section):
        body = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
        return re.findall(r"```bash\n(.*?)```", body, re.S)

    install = bash_blocks(en, "Install")
    assert install and all(block in zh for block in install), "copy README.md's Install command exactly"
    first = bash_blocks(en, "First thing to try")[0]
    assert first in zh
    expected = re.search(r"```text\n(.*?)```", en.split("## First thing to try", 1)[1], re.S).group(1)
    assert expected in zh, "the expected output of the first command, as in README.md"
    python = re.search(r"```python\n(.*?)```", en.split("## From Python", 1)[1], re.S).group(1)
    assert python in zh, "the From Python example, as in README.md"


def _anchors(name):
    """The anchors of the headings of the Markdown file ``name``."""
    prose = re.sub(r"```.*?```", "", _read(name), flags=re.S)  # a "# comment" in a code block is no heading
    return {_slug(line.lstrip("#")) for line in prose.splitlines() if re.match(r"#{1,6} ", line)}


def _links(name):
    """The link targets of the Markdown file ``name`` outside code blocks."""
    prose = re.sub(r"```.*?```", "", _read(name), flags=re.S)
    return re.findall(r"\]\(([^)\s]+)\)", prose)


def test_links_into_the_english_readme_and_docs_land_on_their_headings():
    zh = _read(ZH)
    links = re.findall(r"\]\(((?:README\.md|docs/[^)#\s]+\.md)(?:#[^)\s]*)?)\)", zh)
    assert links, f"{ZH} links the English README or docs/"
    for link in links:
        page, _, anchor = link.partition("#")
        assert os.path.exists(os.path.join(ROOT, page)), f"{ZH} links {link}: no such page"
        assert not anchor or anchor in _anchors(page), f"{ZH} links {link}: no such heading"


def test_the_readme_is_an_entry_point():
    lines = len(_read("README.md").splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move the detail into docs/"


@pytest.mark.parametrize("name", ["README.md", ZH] + DOCS)
def test_every_relative_link_points_at_a_file_of_the_repository(name):
    assert DOCS, "docs/*.md"
    here = os.path.dirname(os.path.join(ROOT, name))
    missing = []
    for target in _links(name):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
            continue
        path = target.split("#", 1)[0]
        if path and not os.path.exists(os.path.normpath(os.path.join(here, path))):
            missing.append(target)
    assert not missing, f"{name} links files that do not exist: {missing}"
