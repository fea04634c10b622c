"""Head pose from MediaPipe's dense 3-D landmarks: a rigid fit to a canonical face."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property
from importlib import resources

import numpy as np
from numpy.typing import NDArray

from simkyc.faces.pose import HeadPose

Points3 = NDArray[np.float64]


def kabsch(source: Points3, target: Points3) -> tuple[Points3, float, NDArray[np.float64]]:
    """Rotation R, scale s, shift t minimising |s * source @ R.T + t - target| (Umeyama)."""
    src_mean, dst_mean = source.mean(axis=0), target.mean(axis=0)
    src, dst = source - src_mean, target - dst_mean
    u, singular, vt = np.linalg.svd(dst.T @ src)
    sign = np.ones(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1.0
    rotation = u @ np.diag(sign) @ vt
    scale = float((singular * sign).sum() / (src**2).sum())
    return rotation, scale, dst_mean - scale * src_mean @ rotation.T


@dataclass(frozen=True)
class MeshPoseEstimator:
    """Yaw/pitch/roll of a face mesh relative to the canonical face (package data).

    Conventions, in the applicant's terms on an unmirrored camera image: yaw > 0 when the
    applicant turns to their left (the face points to the image's right), pitch > 0 when
    they look up, roll > 0 when the head tilts clockwise in the image.
    """

    table: str = "canonical_face.json"

    @cached_property
    def canonical(self) -> Points3:
        """The 478-point reference, read on first use."""
        text = resources.files("simkyc.liveness").joinpath("data", self.table).read_text()
        return np.array(json.loads(text)["points"], dtype=np.float64)

    def pose(self, mesh: Points3) -> HeadPose:
        """The rotation taking the canonical face onto `mesh`, as angles."""
        rotation, _, _ = kabsch(self.canonical, mesh)
        return _angles(rotation)


def _angles(rotation: Points3) -> HeadPose:
    """Y-X-Z Euler angles (yaw about the vertical axis first) in degrees.

    Image axes are x right, y down, z away from the camera, so a turn to the applicant's
    left and a look up are negative rotations about y and x: the signs are flipped to the
    applicant's terms (checked on the head-turn video, tests/unit/liveness/test_pose.py).
    """
    yaw = math.degrees(math.asin(max(-1.0, min(1.0, rotation[0, 2]))))
    pitch = math.degrees(math.atan2(-rotation[1, 2], rotation[2, 2]))
    roll = math.degrees(math.atan2(rotation[1, 0], rotation[0, 0]))
    return HeadPose(yaw=-yaw, pitch=-pitch, roll=roll)
