"""Tests of the DET plot: a valid PNG is written, and pyplot is never involved."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

import simkyc.eval.metrics
from simkyc.eval.det import plot_det
from simkyc.eval.metrics import DetCurve, ScoreSet, det_curve

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def random_curve(seed: int, separation: float) -> DetCurve:
    """DET curve of Gaussian genuine and impostor scores `separation` apart."""
    rng = np.random.default_rng(seed)
    genuine = rng.normal(separation, 0.1, 500).astype(np.float32)
    impostor = rng.normal(0.0, 0.1, 20_000).astype(np.float32)
    return det_curve(ScoreSet(genuine, impostor), n_points=200)


def test_plot_det_writes_a_valid_png(tmp_path: Path) -> None:
    path = tmp_path / "det.png"
    plot_det({"good": random_curve(0, 0.5), "weak": random_curve(1, 0.25)}, path, "DET")
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100


def test_plot_det_copes_with_a_perfectly_separated_set(tmp_path: Path) -> None:
    # Every point has FMR or FNMR = 0, so nothing is drawable on log axes; must not warn.
    perfect = det_curve(ScoreSet(np.array([0.8, 0.9]), np.array([0.1, 0.2])))
    path = tmp_path / "perfect.png"
    plot_det({"perfect": perfect}, path, "Perfect")
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_plot_det_rejects_an_empty_mapping(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one"):
        plot_det({}, tmp_path / "empty.png", "Empty")


def test_plot_det_leaves_pyplot_alone(tmp_path: Path) -> None:
    # A fresh interpreter: other tests may have imported matplotlib already.
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        import numpy as np
        import simkyc.eval.det as det
        from simkyc.eval.metrics import ScoreSet, det_curve
        assert "matplotlib" not in sys.modules, "importing det must not import matplotlib"
        curve = det_curve(ScoreSet(np.array([0.5, 0.9]), np.array([0.1, 0.6])))
        det.plot_det({{"a": curve}}, Path({str(tmp_path / "sub.png")!r}), "t")
        assert "matplotlib.pyplot" not in sys.modules, "plot_det must not use pyplot"
        """
    )
    src = Path(simkyc.eval.metrics.__file__).parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), *sys.path])}
    subprocess.run([sys.executable, "-W", "error", "-c", script], check=True, env=env)
    assert (tmp_path / "sub.png").read_bytes().startswith(PNG_SIGNATURE)
