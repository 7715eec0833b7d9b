"""The five document notebooks run top to bottom (CI's fast setting), are
committed executed (figures and numbers readable on GitHub), show the 14 code examples of the documents as
written, and show the library's code as it is now."""
import importlib.util
import os

import nbformat
import pytest

from tests.conftest import ROOT

DIR = os.path.join(ROOT, "notebooks")
NOTEBOOKS = sorted(f for f in os.listdir(DIR) if f.endswith(".ipynb"))


def test_one_notebook_per_document_committed_with_figures_and_no_error():
    """`python notebooks/build.py --execute --fast` wrote them: every code cell
    ran, each notebook shows figures and its formula checks, none holds an
    error output, each stays under 2 MB."""
    assert [n[:3] for n in NOTEBOOKS] == ["000", "001", "002", "003", "004"]
    for name in NOTEBOOKS:
        path = os.path.join(DIR, name)
        assert os.path.getsize(path) < 2 * 2 ** 20, name
        cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        assert all(c.get("execution_count") is not None for c in cells), f"{name}: run notebooks/build.py --execute"
        outputs = [o for c in cells for o in c.outputs]
        assert not [o for o in outputs if o.output_type == "error"], name
        assert any("image/png" in o.get("data", {}) for o in outputs), f"{name}: no figure"
        text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
        assert text.count("max |Keras - NumPy| = ") == FORMULA_CHECKS[name[:3]], name
        assert not noise(outputs), f"{name}: log noise {noise(outputs)[:3]}"


FORMULA_CHECKS = {"000": 9, "001": 7, "002": 15, "003": 7, "004": 12}

# Log lines the notebooks' keras_arch.quiet.enable() silences (keras_arch/quiet.py).
NOISE = ("cudart_stub", "absl::InitializeLog", "cpu_feature_guard", "INFO:tensorflow", "XNNPACK", "TqdmWarning",
         "triggered tf.function retracing", "cuInit", "Gradients do not exist", "GlorotUniform",
         "TensorFlow classes are deprecated")


def noise(outputs):
    """The stderr lines among ``outputs`` that are known, silenced log noise."""
    lines = "".join(o.get("text", "") for o in outputs if o.output_type == "stream").splitlines()
    return [line for line in lines if any(n in line for n in NOISE)]


def _build():
    spec = importlib.util.spec_from_file_location("notebooks_build", os.path.join(DIR, "build.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cells(name):
    return nbformat.read(os.path.join(DIR, name), as_version=4).cells


def test_committed_notebooks_are_their_sources_built_now():
    """Every cell of a committed notebook is what notebooks/build.py makes of
    notebooks/src/ and the library's source now: edit a source or the library
    without running build.py and this fails."""
    build = _build()
    found = build.sources()
    assert sorted(found) == NOTEBOOKS
    for name, path in found.items():
        built = [(c.cell_type, c.source) for c in build.build(path).cells]
        committed = [(c.cell_type, c.source) for c in _cells(name)]
        assert committed == built, f"{name}: run python notebooks/build.py --execute {name}"


def test_no_notebook_imports_from_the_tests():
    for name in NOTEBOOKS:
        for cell in _cells(name):
            assert "from tests" not in cell.source and "import tests" not in cell.source, name


def test_every_code_example_of_the_documents_is_shown():
    """14 examples: the 6 Keras ones run under %%as_written, the 8 PyTorch ones shown in markdown."""
    keras_examples = {n[:3]: sum(c.source.startswith("%%as_written") for c in _cells(n)) for n in NOTEBOOKS}
    pytorch = {n[:3]: sum("PyTorch: shown, not run" in c.source and "```python" in c.source
                          for c in _cells(n) if c.cell_type == "markdown") for n in NOTEBOOKS}
    assert keras_examples == {"000": 3, "001": 3, "002": 0, "003": 0, "004": 0}
    assert pytorch == {"000": 0, "001": 0, "002": 4, "003": 1, "004": 3}


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name, monkeypatch):
    from nbclient import NotebookClient
    monkeypatch.setenv("KERAS_ARCH_NOTEBOOK_FAST", "1")
    nb = nbformat.read(os.path.join(DIR, name), as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": DIR}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert [o for o in outputs if "image/png" in o.get("data", {})], "every notebook draws pictures"
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert text.count("max |Keras - NumPy| = ") == FORMULA_CHECKS[name[:3]]
    assert not noise(outputs), noise(outputs)[:3]
    for cell in nb.cells:  # each example as written ends in its error, or runs to the end
        if cell.source.startswith("%%as_written"):
            assert "".join(o.get("text", "") for o in cell.outputs).strip(), cell.source[:80]
