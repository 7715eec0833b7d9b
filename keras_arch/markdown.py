"""Markdown table pieces shared by the generated tables (:mod:`keras_arch.readme`)."""


def header(columns, separator=True):
    """A Markdown header row (and its separator row) for ``columns``."""
    rows = ["| " + " | ".join(columns) + " |"]
    if separator:
        rows.append("|---" * len(columns) + "|")
    return rows


def cell(text):
    """A table cell: a ``|`` (even inside backticks) would split it on GitHub."""
    return text.replace("|", "\\|")
