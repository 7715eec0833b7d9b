import os

import pytest

from keras_arch.optimize import support
from tests.conftest import ROOT


@pytest.mark.slow  # every operation on every arch: about 460 s here
def test_readme_support_matrix_matches_what_the_code_does():
    """Regenerates the matrix by doing every operation on every arch; fails when
    README.md's table is stale (fix: python -m keras_arch.optimize.support --readme README.md)."""
    readme = open(os.path.join(ROOT, "README.md")).read()
    assert support.readme_block(readme) == support.render(support.matrix())


def test_cells_record_failures_instead_of_raising(monkeypatch):
    from keras_arch.optimize import tflite

    def broken(*args, **kwargs):
        raise ValueError("converter exploded\nsecond line")

    monkeypatch.setattr(tflite, "convert", broken)
    cells = support.check_arch("cnn-doc001")
    assert cells["TFLite float"] == "no: ValueError: converter exploded"
    assert cells["QAT"] == "yes" and cells["SavedModel"] == "yes"
