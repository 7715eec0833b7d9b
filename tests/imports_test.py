"""No import cycles among keras_arch's modules, counting imports inside
functions and ``importlib.import_module("keras_arch....")`` with a literal
name. An edge from a module to its own package (``import keras_arch`` in
``keras_arch/backend.py``) is not counted: Python initialises a package before
any of its modules, so such an edge cannot close a cycle while loading.
"module:function" strings in recipes are data the registry resolves on use,
not imports."""
import ast
import os

from tests.conftest import ROOT


def modules(root=ROOT):
    """{dotted name: path} of every keras_arch module."""
    out = {}
    for directory, _, files in os.walk(os.path.join(root, "keras_arch")):
        for f in files:
            if f.endswith(".py"):
                name = os.path.relpath(os.path.join(directory, f), root)[:-3].replace(os.sep, ".")
                out[name[:-len(".__init__")] if name.endswith(".__init__") else name] = os.path.join(directory, f)
    return out


def imports(name, path, known):
    """The keras_arch modules ``name`` imports anywhere in its source."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[:len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            # "from pkg import mod" imports the module pkg.mod; "from mod import f", mod
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names)
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant)):
            found.add(node.args[0].value)
    ancestors = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
    return {m for m in found if m in known and m != name and m not in ancestors}


def graph(root=ROOT):
    known = modules(root)
    return {name: imports(name, path, known) for name, path in known.items()}


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    edges = graph()
    found = cycles(edges)
    assert not found, "\n".join(f"{c}: " + "; ".join(f"{v} -> {sorted(edges[v] & set(c))}" for v in c)
                                for c in found)


def test_the_walk_sees_imports_inside_functions_and_import_module(tmp_path):
    """The checker itself: a cycle hidden in a function body, and one through
    importlib.import_module, are both found; a module importing its package is not one."""
    pkg = tmp_path / "keras_arch"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("import keras_arch\nfrom keras_arch import b\n")
    (pkg / "b.py").write_text("def f():\n    from keras_arch.a import x\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "c.py").write_text("from . import d\n")
    (pkg / "sub" / "d.py").write_text("import importlib\nimportlib.import_module('keras_arch.sub.c')\n")
    assert cycles(graph(str(tmp_path))) == [["keras_arch.a", "keras_arch.b"], ["keras_arch.sub.c", "keras_arch.sub.d"]]


def test_plots_take_arrays_and_import_nothing_from_training():
    assert not {m for m in graph()["keras_arch.plots"] if m.startswith("keras_arch.training")}
