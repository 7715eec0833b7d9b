"""Assemble the five document notebooks from their sources, and execute them.

    python notebooks/build.py                   write them without outputs
    python notebooks/build.py --execute         write, run top to bottom, write with outputs
    python notebooks/build.py --execute --fast  the same in CI's fast setting (fewer epochs)
    python notebooks/build.py --execute 001_cnn_rnn_bert.ipynb    one notebook

Each notebook's text and code live in ``notebooks/src/NNN_name.py``, a
jupytext percent-format file (``# %%`` code cells, ``# %% [markdown]``
cells): edit those, then run this. Two kinds of code cell are directives
that this script fills in:

- ``# example: DOC I`` (optionally ``# provide: TEXT`` and ``# pytorch`` on
  the next lines): the document's I-th code example exactly as written, read
  from the documents (../shared/seeds, or $KERAS_ARCH_SEEDS), with its errata
  row in a markdown cell before it; a Keras example runs under
  ``%%as_written``, which prints its real error instead of raising it; a
  PyTorch one is shown, not run (keras_arch never imports torch).
- ``# source: module:function[, module:Class.method]``: the library's current
  source, generated with inspect (tests/notebooks_test.py fails when a
  committed cell drifts from it).

Headings follow the document's own, in order (checked here). The committed
notebooks hold their outputs, so figures and numbers read on GitHub;
tests/notebooks_test.py checks that each has figures and no error.
"""
import argparse
import ast
import builtins
import glob
import importlib
import inspect
import os
import re
import sys
import textwrap
import time

import jupytext
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SRC = os.path.join(HERE, "src")
SEEDS = os.environ.get("KERAS_ARCH_SEEDS", os.path.join(ROOT, "..", "shared", "seeds"))
ERRATA_LINK = "../docs/errata.md"
SOURCE_MARK = "# source: "
EXAMPLE_MARK = "# example: "


# --- the documents ---------------------------------------------------------------------------------------

def seed_path(doc):
    paths = glob.glob(os.path.join(SEEDS, f"{doc}_*.txt"))
    if len(paths) != 1:
        sys.exit(f"build.py: document {doc} not found in {SEEDS} (set KERAS_ARCH_SEEDS)")
    return paths[0]


def code_blocks(doc):
    """The document's ```python blocks, exactly as written (the trailing newline dropped)."""
    text = open(seed_path(doc), encoding="utf-8").read()
    return [b.rstrip("\n") for b in re.findall(r"```python\n(.*?)```", text, re.S)]


def headings(doc):
    """The document's own headings, in order, without '#' and spaces."""
    text = open(seed_path(doc), encoding="utf-8").read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return [re.sub(r"\s", "", line.lstrip("#")) for line in text.splitlines() if line.startswith("#")]


OWN_SECTIONS = ("小结", "练习")  # the notebook's own closing sections (d2l's), after the document's


def check_headings(doc, cells):
    """Every section heading (## and ###) of the notebook is a heading of the document, in the document's order:
    its Chinese part (before ' · ') equals the document's heading; the notebook's own closing sections
    (小结 · Summary, 练习 · Exercises) come last."""
    own, at, closing = headings(doc), -1, False
    for cell in cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("##"):
                chinese = re.sub(r"\s", "", line.lstrip("#").split(" · ")[0])
                if chinese in OWN_SECTIONS:
                    closing = True
                    continue
                if closing:
                    raise SystemExit(f"build.py: notebook {doc} heading {line!r} comes after 小结/练习")
                found = [i for i, h in enumerate(own) if h == chinese and i > at]
                if not found:
                    raise SystemExit(f"build.py: notebook {doc} heading {line!r} is not the document's next heading")
                at = found[0]


def rows(doc):
    from keras_arch.errata import ROWS
    return [r for r in ROWS if r[0] == doc]


def example(doc, i, provide="", pytorch=False):
    """The document's i-th code example as written: a %%as_written cell (Keras) or a markdown block (PyTorch),
    after a markdown cell with its errata row."""
    block, row = code_blocks(doc)[i], rows(doc)[i]
    head = f"**原文代码 · The document's code as written** ({row[1]}). "
    fix = row[4].split("`")[1] if "`" in row[4] else row[4]
    why = f"照原文运行 · As written: {row[3]} ([errata]({ERRATA_LINK}): `{fix}`)."
    if pytorch:
        return [new_markdown_cell(head + "PyTorch 代码只展示、不运行（keras_arch 不导入 torch）· PyTorch: shown, "
                                  "not run (keras_arch never imports torch).\n\n```python\n" + block + "\n```\n\n" + why)]
    provided = re.findall(r"`(\w+)`", provide.split("Provided:")[1]) if "Provided:" in provide else []
    return [new_markdown_cell(head + why + (" " + provide if provide else "")),
            new_code_cell(("%%as_written " + " ".join(provided)).rstrip() + "\n" + block)]


# --- the library's source ------------------------------------------------------------------------------------

def _resolve(ref):
    module_name, qualname = ref.split(":")
    module = importlib.import_module(module_name)
    obj = module
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return module, qualname, obj


def source_cell(*refs):
    """A cell holding the library's current source of refs ('module:function' or 'module:Class.method', one
    class per cell): the module globals it uses are imported first, and methods are written into a subclass of the
    library's class, so running the cell defines what it shows and editing it changes what the checks use."""
    sys.path.insert(0, ROOT)
    parts, names, modules = [], set(), []
    klass = None
    for ref in refs:
        module, qualname, obj = _resolve(ref)
        modules.append(module)
        src = textwrap.dedent(inspect.getsource(obj)).rstrip("\n")
        src = re.sub(r"^@keras\.utils\.register_keras_serializable\(.*\)\n",
                     "# (registered as a Keras serializable in the library)\n", src)
        names |= {n.id for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Name)}
        if "." in qualname:
            klass = qualname.split(".")[0]
            src = textwrap.indent(src, "    ")
        parts.append(src)
    module = modules[0]
    assert all(m is module for m in modules), refs
    if klass:
        names.add(klass)
    imports = sorted(n for n in names if n in vars(module) and not hasattr(builtins, n)
                     and n not in {r.split(":")[1] for r in refs})
    lines = [SOURCE_MARK + ", ".join(refs),
             "# 库里的代码，由 notebooks/build.py 从源码生成 · The library's code, generated from its source "
             "(tests/notebooks_test.py fails if it drifts)."]
    if imports:
        lines.append(f"from {module.__name__} import {', '.join(imports)}")
    lines.append("")
    if klass:
        lines.append(f"class {klass}({klass}):  # the library's class with the methods below: edit them and re-run")
    return new_code_cell("\n".join(lines) + "\n" + "\n\n".join(parts))


# --- assembling ----------------------------------------------------------------------------------------------

def expand(cell, doc):
    """The cells a source cell stands for: a directive's, or the cell itself."""
    if cell.cell_type != "code":
        return [new_markdown_cell(cell.source)]
    lines = cell.source.splitlines()
    first = lines[0] if lines else ""
    if first.startswith(SOURCE_MARK):
        return [source_cell(*first[len(SOURCE_MARK):].split(", "))]
    if first.startswith(EXAMPLE_MARK):
        which, i = first[len(EXAMPLE_MARK):].split()
        assert which == doc, f"{doc}: an example of document {which}"
        provide = " ".join(line[len("# provide:"):].strip() for line in lines[1:] if line.startswith("# provide:"))
        return example(doc, int(i), provide, pytorch="# pytorch" in lines[1:])
    return [new_code_cell(cell.source)]


def sources():
    """{notebook file name: source path}, in document order."""
    return {os.path.basename(p)[:-3] + ".ipynb": p for p in sorted(glob.glob(os.path.join(SRC, "[0-9]*.py")))}


def build(path):
    """The notebook of one source file, checked: the document's headings in its order, every code example once."""
    sys.path.insert(0, ROOT)
    doc = os.path.basename(path)[:3]
    cells = [c for cell in jupytext.read(path, fmt="py:percent").cells for c in expand(cell, doc)]
    for i, cell in enumerate(cells):  # fixed ids: a rebuild of unchanged sources leaves the files unchanged
        cell.id = f"doc{doc}-{i:03d}"
    check_headings(doc, cells)
    blocks = code_blocks(doc)
    assert len(blocks) == len(rows(doc)), (doc, len(blocks))
    for block in blocks:
        assert sum(block in c.source for c in cells) == 1, f"{doc}: an example is missing or repeated"
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                              "language": "python"}})


def execute(nb, timeout=1200):
    """Run ``nb`` top to bottom in a fresh kernel from this folder; returns it with outputs."""
    from nbclient import NotebookClient
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": HERE}}).execute()
    return nb


def main(argv=None):
    p = argparse.ArgumentParser(description="Write (and execute) the five document notebooks.", allow_abbrev=False)
    p.add_argument("--execute", action="store_true", help="run each notebook and write it with its outputs")
    p.add_argument("--fast", action="store_true", help="with --execute: KERAS_ARCH_NOTEBOOK_FAST=1 (fewer epochs)")
    p.add_argument("names", nargs="*", help="only these notebooks (default: all five)")
    args = p.parse_args(argv)
    if args.fast:
        os.environ["KERAS_ARCH_NOTEBOOK_FAST"] = "1"
    sys.path.insert(0, ROOT)
    import keras_arch.quiet
    keras_arch.quiet.enable()  # the source cells import the library, and TensorFlow with it
    found = sources()
    unknown = [n for n in args.names if n not in found]
    if unknown:
        p.error(f"no notebook {unknown[0]!r}; choose from {', '.join(found)}")
    for name, path in found.items():
        if args.names and name not in args.names:
            continue
        start = time.perf_counter()
        nb = build(path)
        if args.execute:
            nb = execute(nb)
        nbformat.write(nb, os.path.join(HERE, name))
        print("wrote", name, f"with outputs (executed in {time.perf_counter() - start:.0f} s)" if args.execute else "")


if __name__ == "__main__":
    main()
