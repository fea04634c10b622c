"""Detect stage: faces with five landmarks, and the choice of the applicant's face among them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from simkyc.errors import MultipleFaces, NoFaceFound
from simkyc.faces.models import cpu_session
from simkyc.types import BBox, Face, Image


class Detector(Protocol):
    """Finds faces in an RGB image; returns them largest first."""

    def detect(self, image: Image) -> list[Face]:
        """All faces above the detector's score threshold, largest first."""
        ...


@dataclass
class YuNetDetector:
    """YuNet (OpenCV Zoo's 2023mar model): a box and five landmarks per face.

    The network runs in ONNX Runtime, not in OpenCV's dnn module (cv2.FaceDetectorYN): on one
    core it takes about half the time at 640x480 (bench/verify.py's detect stage), and the
    decoding below is cv2.FaceDetectorYN's, so the faces are the same (a test compares the
    two on real photos).
    """

    model_path: Path
    score_threshold: float = 0.6
    max_side: int = 640
    # When nothing reaches score_threshold, faces down to this score are returned; their low
    # score then fails the quality stage's occlusion check with advice, instead of "no face".
    fallback_threshold: float = 0.35
    threads: int = 1
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
        """Run YuNet on the image as it is (RGB)."""
        height, width = image.shape[:2]
        # cv2.FaceDetectorYN's input: BGR, unscaled, zero-padded right and below to a
        # multiple of the coarsest stride.
        blob = np.zeros((1, 3, _ceil_to(height, YUNET_DIVISOR), _ceil_to(width, YUNET_DIVISOR)),
                        np.float32)
        blob[0, :, :height, :width] = np.moveaxis(image[..., ::-1], -1, 0)
        outputs = dict(zip(YUNET_OUTPUTS, self._session().run(YUNET_OUTPUTS, {"input": blob}),
                           strict=True))
        return yunet_faces(outputs, blob.shape[2], blob.shape[3], self.fallback_threshold)

    def _session(self) -> Any:
        """The ONNX Runtime session, created on first use (never at import or construction)."""
        if self._net is None:
            self._net = yunet_session(self.model_path, self.threads)
        return self._net


YUNET_DIVISOR = 32
YUNET_STRIDES = (8, 16, 32)
YUNET_NMS_THRESHOLD = 0.3
YUNET_TOP_K = 5000
YUNET_OUTPUTS = [f"{kind}_{stride}" for kind in ("cls", "obj", "bbox", "kps")
                 for stride in YUNET_STRIDES]


def _ceil_to(value: int, divisor: int) -> int:
    """value rounded up to a multiple of divisor."""
    return -(-value // divisor) * divisor


def yunet_session(model_path: Path, threads: int) -> Any:
    """An ONNX Runtime session of YuNet that takes any input height and width.

    The published file fixes its input at 1x3x640x640; its graph reshapes with -1, so only the
    declared shapes change (in memory; the file on disk, and its pinned SHA-256, stay as
    they are).
    """
    import onnx

    model = onnx.load_from_string(model_path.read_bytes())
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param, dims[3].dim_param = "height", "width"
    for output in model.graph.output:
        for dim in output.type.tensor_type.shape.dim[1:]:
            dim.dim_param = f"{output.name}_{dim.dim_value}"
    del model.graph.value_info[:]
    return cpu_session(model.SerializeToString(), threads)


def yunet_faces(outputs: dict[str, NDArray[np.float32]], height: int, width: int,
                threshold: float) -> list[Face]:
    """Faces from YuNet's outputs for a padded input of height x width, decoded as
    cv2.FaceDetectorYN decodes them (OpenCV 4.8+): per cell of each stride, score =
    sqrt(cls x obj) (both clamped to [0, 1]); box centre = (cell + offset) x stride, size =
    exp(log-size) x stride; landmarks = (cell + offset) x stride; then non-maximum
    suppression at IoU 0.3 on the boxes truncated to whole pixels."""
    rows = []
    for stride in YUNET_STRIDES:
        cols = width // stride
        cls = np.clip(outputs[f"cls_{stride}"].reshape(-1), 0.0, 1.0)
        obj = np.clip(outputs[f"obj_{stride}"].reshape(-1), 0.0, 1.0)
        score = np.sqrt(cls * obj)
        keep = np.flatnonzero(score >= threshold)
        if not len(keep):
            continue
        cell = np.stack(np.divmod(keep, cols)[::-1], axis=1).astype(np.float32)  # (col, row)
        box = outputs[f"bbox_{stride}"].reshape(-1, 4)[keep]
        size = np.exp(box[:, 2:]) * stride
        corner = (cell + box[:, :2]) * stride - size / 2
        points = (outputs[f"kps_{stride}"].reshape(-1, 5, 2)[keep] + cell[:, None]) * stride
        rows.append(np.hstack([corner, size, points.reshape(-1, 10), score[keep, None]]))
    if not rows:
        return []
    found = np.vstack(rows).astype(np.float32)
    if len(found) > 1:
        boxes = np.trunc(found[:, :4]).astype(np.float64)
        kept = cv2.dnn.NMSBoxes(boxes.tolist(), found[:, 14].tolist(), threshold,
                                YUNET_NMS_THRESHOLD, 1.0, YUNET_TOP_K)
        found = found[np.asarray(kept, np.int64).reshape(-1)]
    return [_yunet_face(row) for row in found]


def _yunet_face(row: np.ndarray[Any, np.dtype[np.float32]]) -> Face:
    """YuNet's row: x, y, w, h, five (x, y) landmarks (right eye first), score."""
    landmarks = row[4:14].reshape(5, 2).astype(np.float32)
    return Face(BBox(*(float(v) for v in row[:4])), landmarks, float(row[14]))


# MediaPipe face-mesh indices for the five points YuNet gives: iris centres (refined mesh),
# nose tip, mouth corners. Subject's right eye first, as YuNet.
MESH_FIVE = (468, 473, 1, 61, 291)


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
            faces.append(Face(box, points[list(MESH_FIVE)], 1.0))
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


def face_from_mesh(mesh: NDArray[np.float64]) -> Face:
    """A face from dense mesh landmarks (pixels): the mesh's extent and its five points."""
    low, high = mesh[:, :2].min(axis=0), mesh[:, :2].max(axis=0)
    box = BBox(float(low[0]), float(low[1]), *(float(v) for v in high - low))
    return Face(box, mesh[list(MESH_FIVE), :2].astype(np.float32), 1.0)


def face_crop(face: Face, angle: float, size: int, scale: float) -> NDArray[np.float64]:
    """The 2x3 affine that cuts a `size` px square, `scale` times the face box wide, centred
    on the landmarks and rotated by `angle` degrees (counter-clockwise), out of the image."""
    centre = face.landmarks.mean(axis=0)
    side = scale * max(face.box.width, face.box.height, 4 * face.eye_distance / 3)
    rotation = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, size / side)
    matrix = np.asarray(rotation, np.float64)
    matrix[:, 2] += np.array([size / 2, size / 2]) - centre
    return matrix


def map_back(points: NDArray[np.float32], matrix: NDArray[np.float64]) -> NDArray[np.float32]:
    """Points in a crop cut by `matrix` -> points in the image."""
    inverse = np.asarray(cv2.invertAffineTransform(matrix), np.float64)
    mapped: NDArray[np.float32] = (points @ inverse[:, :2].T + inverse[:, 2]).astype(np.float32)
    return mapped


def refine_rolled(run: Any, image: Image, face: Face, rounds: int = 3) -> Face:
    """Re-detect a tilted face on an uprighted crop, so its landmarks are right.

    Detectors trained on upright faces regress landmarks toward upright: on a face rolled by
    60 degrees YuNet's eye line says ~27. Detecting again on a crop rotated by the measured
    roll converges in one to three rounds; the landmarks are mapped back. Crops are 480 px
    and twice the face box (tighter or smaller crops converge slower: 320 px at 2.5x needs
    five rounds for a 45-degree roll), so the cost does not grow with the image.
    """
    for _ in range(rounds):
        right_eye, left_eye = face.landmarks[0], face.landmarks[1]
        roll = float(np.degrees(np.arctan2(*(left_eye - right_eye)[::-1])))
        if abs(roll) < 8.0:
            return face
        matrix = face_crop(face, roll, 480, 2.0)
        crop = cv2.warpAffine(image, matrix, (480, 480), borderMode=cv2.BORDER_REPLICATE)
        found = [f for f in run(crop) if _contains(f.box, (240.0, 240.0))]
        if not found:
            return face
        best = max(found, key=lambda f: f.eye_distance)
        face = Face(face.box, map_back(best.landmarks, matrix), best.score)
    return face


@dataclass
class MeshLandmarks:
    """Five landmarks from MediaPipe's face mesh, run on a crop around a detected face.

    YuNet finds more faces than MediaPipe (CASIA 99.0% vs 95.5%, 30 px faces 100% vs 0%)
    but MediaPipe's points align better (bench/ablation.py: LFW FNMR at FMR 1e-3 6.91% ->
    5.75%, CASIA EER 8.0% -> 5.8%): detect with one, take the points from the other.
    """

    size: int = 256
    scale: float = 2.0
    max_drift: float = 0.35
    _mesh: Any = field(default=None, init=False, repr=False)

    def refine(self, image: Image, face: Face) -> Face:
        """The face with the mesh's five points (YuNet's when the mesh finds nothing)."""
        matrix = face_crop(face, 0.0, self.size, self.scale)
        crop = cv2.warpAffine(image, matrix, (self.size, self.size),
                              borderMode=cv2.BORDER_REPLICATE)
        found = self._session().process(np.ascontiguousarray(crop)).multi_face_landmarks
        if not found:
            return face
        mesh = found[0].landmark
        points = np.array([(mesh[i].x * self.size, mesh[i].y * self.size) for i in MESH_FIVE],
                          np.float32)
        refined = map_back(points, matrix)
        # The crop may hold a neighbour's face too: keep the mesh only if it is this face.
        drift = float(np.linalg.norm(refined - face.landmarks, axis=1).mean())
        if drift > self.max_drift * face.eye_distance:
            return face
        return Face(face.box, refined, face.score)

    def _session(self) -> Any:
        """The MediaPipe graph, created on first use."""
        if self._mesh is None:
            import mediapipe as mp

            self._mesh = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=True, max_num_faces=1, refine_landmarks=True,
                min_detection_confidence=0.3,
            )
        return self._mesh


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
