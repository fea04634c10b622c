"""Value types shared by the pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Image = NDArray[np.uint8]
"""An RGB image, height x width x 3, uint8."""

Embedding = NDArray[np.float32]
"""A unit-length face embedding."""


@dataclass(frozen=True)
class BBox:
    """A face box in image pixels."""

    x: float
    y: float
    width: float
    height: float

    def scaled(self, factor: float) -> BBox:
        """The same box in an image `factor` times larger."""
        return BBox(self.x * factor, self.y * factor, self.width * factor, self.height * factor)


@dataclass(frozen=True)
class Face:
    """A detected face: box, five landmarks and detector score.

    Landmarks are (5, 2) float32 in image pixels, in the order: right eye centre, left eye
    centre (the subject's right/left, i.e. image left/right on an unmirrored photo), nose tip,
    right mouth corner, left mouth corner - YuNet's order, which the aligners expect.
    """

    box: BBox
    landmarks: NDArray[np.float32]
    score: float

    @property
    def eye_distance(self) -> float:
        """Distance between the eye centres in pixels: the size measure quality checks use."""
        return float(np.linalg.norm(self.landmarks[0] - self.landmarks[1]))

    def scaled(self, factor: float) -> Face:
        """The same face in an image `factor` times larger."""
        return Face(self.box.scaled(factor), self.landmarks * np.float32(factor), self.score)
