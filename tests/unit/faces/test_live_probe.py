"""The live side of a session is several frames: the probe fuses the best of them by quality."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from simkyc.faces.pipeline import FaceSample, live_probe


@dataclass(frozen=True)
class _Quality:
    value: float

    def score(self) -> float:
        return self.value


def _sample(direction: int, quality: float) -> FaceSample:
    vector = np.zeros(8, np.float32)
    vector[direction] = 1.0
    return FaceSample(None, _Quality(quality), vector, {})  # type: ignore[arg-type]


def test_the_probe_is_the_mean_of_the_best_frames_by_quality() -> None:
    # The selfie (quality 0.9) and the liveness frames (0.8, 0.7, and a poor 0.1).
    frames = [_sample(0, 0.9), _sample(1, 0.1), _sample(2, 0.8), _sample(3, 0.7)]
    probe = live_probe(frames, 3)
    expected = np.zeros(8, np.float32)
    expected[[0, 2, 3]] = 1 / np.sqrt(3)
    assert np.allclose(probe, expected)
    assert np.linalg.norm(probe) == pytest.approx(1.0)


def test_one_frame_is_its_own_probe() -> None:
    only = _sample(5, 0.5)
    assert live_probe([only], 3) is only.embedding


def test_no_live_frame_is_an_error() -> None:
    with pytest.raises(ValueError, match="no live face"):
        live_probe([], 3)
