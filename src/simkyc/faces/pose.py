"""Head pose from landmarks by fitting a 3-D face model (Perspective-n-Point), not pixel rules."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

# A generic adult head, millimetres, camera frame (x right in the image, y down, z away from
# the camera), origin at the nose tip; points in YuNet's order. Anthropometric averages
# (inter-pupillary ~64 mm, nose tip ~30 mm in front of the eyes, mouth ~50 mm wide).
FIVE_POINT_HEAD: NDArray[np.float64] = np.array(
    [
        [-32.0, -35.0, 30.0],
        [32.0, -35.0, 30.0],
        [0.0, 0.0, 0.0],
        [-25.0, 32.0, 22.0],
        [25.0, 32.0, 22.0],
    ],
)


@dataclass(frozen=True)
class HeadPose:
    """Degrees. yaw > 0: the head turned to the image's right; pitch > 0: looking up; roll > 0:
    the head tilted clockwise in the image."""

    yaw: float
    pitch: float
    roll: float


def head_pose(
    points: NDArray[np.float32], model: NDArray[np.float64], image_size: tuple[int, int]
) -> HeadPose:
    """Fit `model` (N x 3) to `points` (N x 2) with a pinhole camera of focal length = width.

    The principal point is put at the face itself: the pose is then relative to the line of
    sight, so a face near the top of a photo does not read as tilted (what the quality
    checks mean by "face the camera").
    """
    width, _ = image_size
    centre = points.astype(np.float64).mean(axis=0)
    camera = np.array([[width, 0, centre[0]], [0, width, centre[1]], [0, 0, 1]], np.float64)
    no_distortion = np.zeros(4)
    ok, rvec, _ = cv2.solvePnP(
        model, points.astype(np.float64), camera, no_distortion, flags=cv2.SOLVEPNP_SQPNP
    )
    if not ok:
        return HeadPose(math.nan, math.nan, math.nan)
    rotation, _ = cv2.Rodrigues(rvec)
    return _euler(np.asarray(rotation, np.float64))


def _euler(rotation: NDArray[np.float64]) -> HeadPose:
    """Yaw (about y), pitch (about x) and roll (about z) of a rotation matrix, Y-X-Z order."""
    yaw = math.degrees(math.atan2(-rotation[2, 0], math.hypot(rotation[2, 1], rotation[2, 2])))
    pitch = math.degrees(math.atan2(rotation[2, 1], rotation[2, 2]))
    roll = math.degrees(math.atan2(rotation[1, 0], rotation[0, 0]))
    return HeadPose(yaw=-yaw, pitch=-pitch, roll=roll)
