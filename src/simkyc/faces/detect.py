"""Detect stage: faces with five landmarks, and the choice of the applicant's face among them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from simkyc.errors import MultipleFaces, NoFaceFound
from simkyc.types import BBox, Face, Image


class Detector(Protocol):
    """Finds faces in an RGB image; returns them largest first."""

    def detect(self, image: Image) -> list[Face]:
        """All faces above the detector's score threshold, largest first."""
        ...


@dataclass
class YuNetDetector:
    """OpenCV's YuNet (cv2.FaceDetectorYN): a box and five landmarks per face, ~1 ms at 320 px."""

    model_path: Path
    score_threshold: float = 0.6
    max_side: int = 640
    # When nothing reaches score_threshold, faces down to this score are returned; their low
    # score then fails the quality stage's occlusion check with advice, instead of "no face".
    fallback_threshold: float = 0.35
    _net: Any = field(default=None, init=False, repr=False)

    def detect(self, image: Image) -> list[Face]:
        """Detect on a copy no larger than max_side; if nothing is found, retry at full size."""
        faces = _detect_scaled(self._detect_raw, image, self.max_side)
        if not faces and max(image.shape[:2]) > self.max_side:
            faces = self._detect_raw(image)
        confident = [f for f in faces if f.score >= self.score_threshold]
        return [
            refine_rolled(self._detect_raw, image, f) for f in _largest_first(confident or faces)
        ]

    def _detect_raw(self, image: Image) -> list[Face]:
        """Run YuNet on the image as it is."""
        net = self._session()
        height, width = image.shape[:2]
        net.setInputSize((width, height))
        _, rows = net.detect(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        if rows is None:
            return []
        return [_yunet_face(row) for row in rows]

    def _session(self) -> Any:
        """Create the OpenCV network on first use (never at import or construction)."""
        if self._net is None:
            self._net = cv2.FaceDetectorYN.create(
                str(self.model_path), "", (320, 320), self.fallback_threshold, 0.3, 5000
            )
        return self._net


def _yunet_face(row: np.ndarray[Any, np.dtype[np.float32]]) -> Face:
    """YuNet's row: x, y, w, h, five (x, y) landmarks (right eye first), score."""
    landmarks = row[4:14].reshape(5, 2).astype(np.float32)
    return Face(BBox(*(float(v) for v in row[:4])), landmarks, float(row[14]))


# MediaPipe face-mesh indices for the five points YuNet gives: iris centres (refined mesh),
# nose tip, mouth corners. Subject's right eye first, as YuNet.
_MESH_FIVE = (468, 473, 1, 61, 291)


@dataclass
class MediaPipeDetector:
    """MediaPipe's face mesh (bundled in mediapipe 0.10.21): 478 points; five are kept here."""

    max_faces: int = 4
    score_threshold: float = 0.5
    max_side: int = 640
    _mesh: Any = field(default=None, init=False, repr=False)

    def detect(self, image: Image) -> list[Face]:
        """Detect on a copy no larger than max_side."""
        return _largest_first(_detect_scaled(self._detect_raw, image, self.max_side))

    def _detect_raw(self, image: Image) -> list[Face]:
        """Run the mesh on the image as it is; boxes are the extent of the mesh."""
        result = self._session().process(image)
        height, width = image.shape[:2]
        faces = []
        for mesh in result.multi_face_landmarks or []:
            points = np.array([(p.x * width, p.y * height) for p in mesh.landmark], np.float32)
            low, high = points.min(axis=0), points.max(axis=0)
            box = BBox(float(low[0]), float(low[1]), *(float(v) for v in high - low))
            faces.append(Face(box, points[list(_MESH_FIVE)], 1.0))
        return faces

    def _session(self) -> Any:
        """Create the MediaPipe graph on first use."""
        if self._mesh is None:
            import mediapipe as mp

            self._mesh = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=True,
                max_num_faces=self.max_faces,
                refine_landmarks=True,
                min_detection_confidence=self.score_threshold,
            )
        return self._mesh


def _detect_scaled(run: Any, image: Image, max_side: int) -> list[Face]:
    """Run a raw detector on a copy shrunk to max_side, mapping results back to the image."""
    longest = max(image.shape[:2])
    if longest <= max_side:
        return list(run(image))
    factor = max_side / longest
    size = (round(image.shape[1] * factor), round(image.shape[0] * factor))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return [face.scaled(1 / factor) for face in run(small)]


def refine_rolled(run: Any, image: Image, face: Face, rounds: int = 3) -> Face:
    """Re-detect a tilted face on an uprighted copy, so its landmarks are right.

    Detectors trained on upright faces regress landmarks toward upright: on a face rolled by
    60 degrees YuNet's eye line says ~27. Rotating the image by the measured roll and
    detecting again converges in two or three rounds; the landmarks are mapped back.
    """
    for _ in range(rounds):
        right_eye, left_eye = face.landmarks[0], face.landmarks[1]
        roll = float(np.degrees(np.arctan2(*(left_eye - right_eye)[::-1])))
        if abs(roll) < 8.0:
            return face
        centre = tuple(float(v) for v in face.landmarks.mean(axis=0))
        matrix = cv2.getRotationMatrix2D(centre, roll, 1.0)
        upright = cv2.warpAffine(
            image, matrix, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REPLICATE
        )
        found = [f for f in run(upright) if _contains(f.box, centre)]
        if not found:
            return face
        back = cv2.invertAffineTransform(matrix)
        best = max(found, key=lambda f: f.eye_distance)
        points = (best.landmarks @ back[:, :2].T + back[:, 2]).astype(np.float32)
        face = Face(face.box, points, best.score)
    return face


def _contains(box: BBox, point: tuple[float, ...]) -> bool:
    """True if the point lies inside the box."""
    return box.x <= point[0] <= box.x + box.width and box.y <= point[1] <= box.y + box.height


def _largest_first(faces: Sequence[Face]) -> list[Face]:
    """Order faces by size (eye distance), the largest first."""
    return sorted(faces, key=lambda face: face.eye_distance, reverse=True)


def central_face(faces: Sequence[Face], width: int, height: int) -> Face:
    """The face nearest the image centre: which face LFW-style data sets label."""
    if not faces:
        raise NoFaceFound("No face was found.")
    centre = np.array([width / 2, height / 2])
    return min(faces, key=lambda f: float(np.linalg.norm(f.landmarks.mean(axis=0) - centre)))


def select_applicant(faces: Sequence[Face], ambiguity_ratio: float) -> Face:
    """The applicant's face: the largest one, unless another is nearly as large (ambiguous).

    A bystander in a selfie or the small "ghost" portrait on an ID card is much smaller than
    the applicant's face; two faces of similar size leave us no principled choice.
    """
    if not faces:
        raise NoFaceFound("No face was found. Face the camera, in good light, and try again.")
    ordered = _largest_first(faces)
    rivals = [f for f in ordered[1:] if f.eye_distance >= ambiguity_ratio * ordered[0].eye_distance]
    if rivals:
        raise MultipleFaces(
            f"{len(rivals) + 1} faces of similar size were found; only the applicant may be in "
            "the photo.",
            count=len(rivals) + 1,
        )
    return ordered[0]
