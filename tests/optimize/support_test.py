"""The support matrix records failures (tests/generated_test.py checks the committed table)."""
from keras_arch.optimize import support


def test_cells_record_failures_instead_of_raising(monkeypatch):
    from keras_arch.optimize import tflite

    def broken(*args, **kwargs):
        raise ValueError("converter exploded\nsecond line")

    monkeypatch.setattr(tflite, "convert", broken)
    cells = support.check_arch("cnn-doc001")
    assert cells["TFLite float"] == "no: ValueError: converter exploded"
    assert cells["QAT"] == "yes" and cells["SavedModel"] == "yes"
