"""The figure helpers the notebooks show: each writes a readable PNG from plain
arrays, and the numbers it prints in its legend are computed right."""
import numpy as np

from keras_arch import plots

PNG = b"\x89PNG\r\n\x1a\n"


def _png(path):
    with open(path, "rb") as f:
        return f.read(8) == PNG


def test_compression_stages_draws_float_and_int8_side_by_side(tmp_path):
    stages = {"baseline": {"accuracy": 0.99, "gzip_bytes": 300_000},
              "pruned": {"accuracy": 0.985, "gzip_bytes": 90_000},
              "qat": {"accuracy": 0.984},
              "tflite": {"float_accuracy": 0.985, "int8_accuracy": 0.983, "float_bytes": 330_000,
                         "int8_bytes": 90_000, "int8_gzip_bytes": 30_000}}
    assert _png(plots.compression_stages(stages, str(tmp_path / "c.png")))
    assert _png(plots.compression_stages({"baseline": stages["baseline"]}, str(tmp_path / "b.png")))


def test_expert_load_and_rank_histograms(tmp_path, monkeypatch):
    assert _png(plots.expert_load([0.4, 0.3, 0.2, 0.1], str(tmp_path / "e.png"), capacity_factor=1.25))
    labels = []
    import matplotlib.axes
    original = matplotlib.axes.Axes.hist

    def spy(self, x, *args, **kwargs):
        labels.append(kwargs.get("label"))
        return original(self, x, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "hist", spy)
    # MRR = mean(1/rank) = (1 + 1/2 + 1/4 + 1/100) / 4 = 0.4400; Hits@10 = 3/4
    assert _png(plots.rank_histograms({"a": np.array([1, 2, 4, 100.0])}, str(tmp_path / "r.png")))
    assert labels == ["a: MRR 0.440, Hits@10 0.75"]
