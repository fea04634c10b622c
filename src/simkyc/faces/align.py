"""Align stage: a similarity transform that puts five landmarks on a fixed template."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from simkyc.types import Face, Image

Points = NDArray[np.float32]

# dlib's ResNet input: the 150x150 chip of `dlib.get_face_chip(img, shape, 150, padding=0.25)`.
# Where the five points (right eye, left eye, nose tip, mouth corners) fall there on average,
# measured on 1,276 LFW faces by `python scripts/fit_chip_template.py 1500 --mesh` for
# MediaPipe's mesh points (spread 2-7 px) and without --mesh for YuNet's own (3-6 px).
DLIB_CHIP_150: Points = np.array(
    [[46.872, 45.114], [100.809, 45.120], [73.855, 80.808], [50.995, 104.127], [96.712, 104.221]],
    dtype=np.float32,
)
DLIB_CHIP_150_YUNET: Points = np.array(
    [[45.432, 44.719], [102.042, 44.424], [73.360, 78.263], [49.272, 103.526], [98.240, 103.389]],
    dtype=np.float32,
)

# The de-facto standard template of 112x112 ArcFace-format recognizers (insightface,
# OpenCV's SFace `alignCrop`): same point order as YuNet.
ARCFACE_112: Points = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)

# Open Model Zoo's face-reidentification-retail-0095 (128x128): the model card's five points
# (left eye, right eye, nose tip, left and right mouth corner) in units of the side, x 128;
# copied from ../shared/models/omz-face-reid-0095/SOURCE.txt. Same point order as YuNet.
OMZ_REID_128: Points = (
    np.array(
        [
            [0.31556875, 0.4615741071428571],
            [0.6826229166666667, 0.4615741071428571],
            [0.5002624999999999, 0.6405053571428571],
            [0.34947187500000004, 0.8246919642857142],
            [0.6534364583333333, 0.8246919642857142],
        ],
        dtype=np.float64,
    )
    * 128
).astype(np.float32)


def similarity_transform(source: Points, target: Points) -> NDArray[np.float64]:
    """Least-squares rotation + uniform scale + translation mapping source onto target (Umeyama).

    Returns the 2x3 matrix for cv2.warpAffine.
    """
    src = source.astype(np.float64)
    dst = target.astype(np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    covariance = dst_c.T @ src_c / len(src)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1.0
    rotation = u @ np.diag(sign) @ vt
    scale = float((singular * sign).sum() / (src_c**2).sum() * len(src))
    matrix = np.empty((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - scale * rotation @ src_mean
    return matrix


@dataclass(frozen=True)
class Aligner:
    """Cuts a `size` x `size` chip whose landmarks sit on `template`."""

    template: Points
    size: int

    def align(self, image: Image, face: Face) -> Image:
        """The aligned chip of `face`; borders outside the image are replicated."""
        matrix = similarity_transform(face.landmarks, self.template)
        chip = cv2.warpAffine(
            image,
            matrix,
            (self.size, self.size),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        return np.ascontiguousarray(chip)
