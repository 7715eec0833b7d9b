"""README.md and README.zh-CN.md point at each other, the Chinese README lists
every notebook, copies the English README's commands exactly, and its links
into README.md land on headings that exist. (Its generated tables are checked
in errata_test.py and optimize/support_test.py.)"""
import os
import re

from tests.conftest import ROOT

ZH = "README.zh-CN.md"


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


def test_links_into_the_english_readme_land_on_its_headings():
    en, zh = _read("README.md"), _read(ZH)
    prose = re.sub(r"```.*?```", "", en, flags=re.S)  # a "# comment" in a code block is no heading
    anchors = {_slug(line.lstrip("#")) for line in prose.splitlines() if re.match(r"#{1,6} ", line)}
    links = re.findall(r"\]\(README\.md#([^)]+)\)", zh)
    assert links
    assert not [a for a in links if a not in anchors]
