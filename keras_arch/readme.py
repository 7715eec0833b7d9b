"""Generated blocks of the READMEs (README.md and README.zh-CN.md).

A table that both READMEs show (the errata, the support matrix) comes from one
source and is written between a pair of HTML-comment markers in each file. The
rows and cells are the same in both languages; only the header row is
translated, chosen by the file's name (``README.zh-CN.md`` is Chinese).
"""
import os

LANGS = ("en", "zh")


def lang_of(path):
    """"zh" for README.zh-CN.md (any name with a ``.zh`` part), else "en"."""
    parts = os.path.basename(path).lower().split(".")
    return "zh" if any(p == "zh" or p.startswith("zh-") for p in parts[1:]) else "en"


def block(text, begin, end):
    """The stripped text between the markers ``begin`` and ``end``."""
    start, stop = text.index(begin) + len(begin), text.index(end)
    return text[start:stop].strip()


def rewrite(path, begin, end, table):
    """Replace what lies between the markers in the file at ``path`` with ``table``
    (atomically: a reader never sees half a README)."""
    from keras_arch.io import write_atomic
    with open(path, encoding="utf-8") as f:
        text = f.read()
    start, stop = text.index(begin) + len(begin), text.index(end)
    write_atomic(path, text[:start] + "\n" + table + "\n" + text[stop:])


def header(columns, separator=True):
    """A Markdown header row (and its separator row) for ``columns``."""
    rows = ["| " + " | ".join(columns) + " |"]
    if separator:
        rows.append("|---" * len(columns) + "|")
    return rows


def cell(text):
    """A table cell: a ``|`` (even inside backticks) would split it on GitHub."""
    return text.replace("|", "\\|")
