"""Every generated table of the READMEs and ``docs/``, and the one command that
regenerates them:

    python -m keras_arch.readme                  rewrite every block (the support matrix takes minutes)
    python -m keras_arch.readme options errata   only these blocks
    python -m keras_arch.readme --check          exit 1 if a block is stale (nothing written)

A block lies between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` in
each of its files. A table both READMEs show has the same rows and cells in
both; only its header row follows the file's language (``README.zh-CN.md`` is
Chinese). Tests compare each block with what this renders now.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from typing import Callable, Tuple

from keras_arch import errata, options, registry
from keras_arch.io import write_atomic
from keras_arch.markdown import cell, header
from keras_arch.optimize import support

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LANGS = ("en", "zh")


def lang_of(path):
    """"zh" for README.zh-CN.md (any name with a ``.zh`` part), else "en"."""
    parts = os.path.basename(path).lower().split(".")
    return "zh" if any(p == "zh" or p.startswith("zh-") for p in parts[1:]) else "en"


def markers(name):
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def block(text, name):
    """The stripped text between block ``name``'s markers in ``text``."""
    begin, end = markers(name)
    start, stop = text.index(begin) + len(begin), text.index(end)
    return text[start:stop].strip()


def replaced(text, name, table):
    """``text`` with block ``name`` holding ``table``."""
    begin, end = markers(name)
    start, stop = text.index(begin) + len(begin), text.index(end)
    return text[:start] + "\n" + table + "\n" + text[stop:]


# --- the blocks ----------------------------------------------------------------------------------

ARCH_HEADERS = {"en": ("doc", "arch", "what", "reproduces"),
                "zh": ("文档", "arch", "内容 (what)", "对应章节 (reproduces)")}


def archs_table(lang="en"):
    """Every registered arch by document: what ``run --list`` says, as a table."""
    rows = sorted((registry.get(n).source.split()[1], n) for n in registry.names())
    lines = header(ARCH_HEADERS[lang])
    for doc, name in rows:
        r = registry.get(name)
        lines.append(f"| {doc} | `{name}` | {cell(r.summary)} | {cell(r.source)} |")
    return "\n".join(lines)


def _options(lang):
    return options.render()


def _support(lang):
    return support.render(support.matrix(), lang)


@dataclasses.dataclass(frozen=True)
class Block:
    """A generated table: the files it stands in and how to render it.

    Args:
        files: paths from the repository root.
        render: ``render(lang)`` -> the Markdown table.
        slow: builds and converts every arch (minutes): rendered once per command.
    """
    files: Tuple[str, ...]
    render: Callable[[str], str]
    slow: bool = False


BLOCKS = {
    "archs": Block(("README.md", "README.zh-CN.md"), archs_table),
    "errata": Block(("docs/errata.md",), errata.render),
    "options": Block(("docs/options.md",), _options),
    "support-matrix": Block(("docs/compression.md",), _support, slow=True),
}


def stale(names=None, root=None, write=False):
    """The (file, block) pairs whose table differs from what renders now;
    with ``write``, rewrite them (atomically) too.

    Args:
        names: the blocks to look at (default: all).
        root: the repository root (default: this checkout's).
        write: rewrite the stale blocks.
    """
    root = root or ROOT
    out = []
    for name in names or BLOCKS:
        spec = BLOCKS[name]
        rendered = {}
        for rel in spec.files:
            path = os.path.join(root, rel)
            lang = lang_of(path)
            if lang not in rendered:
                rendered[lang] = spec.render(lang)
            # read after rendering (the matrix takes minutes): edits made meanwhile are kept
            with open(path, encoding="utf-8") as f:
                text = f.read()
            if block(text, name) != rendered[lang].strip():
                out.append((rel, name))
                if write:
                    write_atomic(path, replaced(text, name, rendered[lang]))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m keras_arch.readme", description=__doc__.split("\n\n")[0],
                                allow_abbrev=False)
    p.add_argument("blocks", nargs="*", metavar="BLOCK",
                   help=f"blocks to regenerate (default: all of {', '.join(BLOCKS)})")
    p.add_argument("--check", action="store_true", help="only report stale blocks; exit 1 if any")
    args = p.parse_args(argv)
    unknown = [b for b in args.blocks if b not in BLOCKS]
    if unknown:
        p.error(f"unknown block {unknown[0]!r}; choose from {', '.join(BLOCKS)}")
    found = stale(args.blocks or None, write=not args.check)
    for rel, name in found:
        print(f"{rel}: {name} {'is stale' if args.check else 'rewritten'}")
    return 1 if args.check and found else 0


if __name__ == "__main__":
    sys.exit(main())
