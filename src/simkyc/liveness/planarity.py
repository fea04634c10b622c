"""3-D consistency: a printed photo or a screen, however tilted or waved, moves like a plane.

The landmarks of a flat picture in any two frames are related by a single homography (a
projective map of the plane). A real head turning moves the nose, the eyes and the face
outline by different amounts (parallax), which no homography explains. Against the most
frontal frame, each frame's landmarks are fitted twice: by a similarity (how much the face
deformed at all) and by a homography (how much of that a plane cannot explain). Residuals
are RMS distances in inter-ocular distances (IOD).

Measured (scripts in bench/liveness.py): a real head turn leaves up to 0.77 IOD; a photo
swung in perspective far enough to deform its landmarks by 0.18 IOD leaves at most 0.05.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from simkyc.liveness.tracking import Mesh

# Iris centres (refined mesh): the inter-ocular distance that normalises residuals.
RIGHT_IRIS, LEFT_IRIS = 468, 473


@dataclass(frozen=True)
class PlanarityResult:
    """The largest non-planar residual, and how many frames deformed enough to judge."""

    residual: float
    moved_frames: int


def _iod(mesh: Mesh) -> float:
    """Inter-ocular distance in pixels."""
    return max(float(np.linalg.norm(mesh[LEFT_IRIS, :2] - mesh[RIGHT_IRIS, :2])), 1e-6)


def _rms(mapped: NDArray[np.float32], target: NDArray[np.float32]) -> float:
    """Root-mean-square point distance."""
    return float(np.sqrt(np.mean(np.sum((mapped - target) ** 2, axis=1))))


def residuals(reference: Mesh, frame: Mesh) -> tuple[float, float]:
    """(similarity residual, homography residual) of frame vs reference, in IOD."""
    src = reference[:, :2].astype(np.float32)
    dst = frame[:, :2].astype(np.float32)
    iod = _iod(frame)
    similarity, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.LMEDS)
    homography, _ = cv2.findHomography(src, dst, 0)
    if similarity is None or homography is None:
        return 0.0, 0.0
    by_similarity = src @ similarity[:, :2].T + similarity[:, 2]
    by_homography = cv2.perspectiveTransform(src[None], homography)[0]
    return _rms(by_similarity, dst) / iod, _rms(by_homography, dst) / iod


def planarity(
    meshes: Sequence[Mesh], yaw: Sequence[float], pitch: Sequence[float], min_deformation: float
) -> PlanarityResult:
    """Largest homography residual against the most frontal frame, over the frames that
    deformed by at least `min_deformation` IOD; none -> (0, 0): the check cannot judge."""
    reference = meshes[int(np.argmin(np.abs(np.asarray(yaw)) + np.abs(np.asarray(pitch))))]
    pairs = [residuals(reference, mesh) for mesh in meshes]
    moved = [planar for deformed, planar in pairs if deformed >= min_deformation]
    return PlanarityResult(max(moved, default=0.0), len(moved))
