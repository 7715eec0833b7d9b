"""The five document notebooks run top to bottom (CI's fast setting) and are
committed without outputs."""
import os

import nbformat
import pytest

from tests.conftest import ROOT

DIR = os.path.join(ROOT, "notebooks")
NOTEBOOKS = sorted(f for f in os.listdir(DIR) if f.endswith(".ipynb"))


def test_one_notebook_per_document_without_outputs():
    assert [n[:3] for n in NOTEBOOKS] == ["000", "001", "002", "003", "004"]
    for name in NOTEBOOKS:
        nb = nbformat.read(os.path.join(DIR, name), as_version=4)
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name, monkeypatch):
    from nbclient import NotebookClient
    monkeypatch.setenv("KERAS_ARCH_NOTEBOOK_FAST", "1")
    nb = nbformat.read(os.path.join(DIR, name), as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": DIR}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images or name.startswith("001"), "every notebook but 001 draws pictures"
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert text.count(": holds") >= {"000": 0, "001": 3, "002": 2, "003": 3, "004": 6}[name[:3]]
