"""YuNet in ONNX Runtime finds the faces cv2.FaceDetectorYN finds, where they are: on real
photos at the sizes the detector runs them (the image, its 640 px copy, a 480 px upright crop
of a tilted face)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from simkyc.faces.detect import YuNetDetector, face_crop
from simkyc.faces.pipeline import FaceEncoder
from simkyc.types import Face, Image


def _opencv_rows(model: Path, image: Image) -> np.ndarray:
    """OpenCV's own YuNet runner and decoder, at the thresholds the detector uses."""
    height, width = image.shape[:2]
    net = cv2.FaceDetectorYN.create(str(model), "", (width, height), 0.35, 0.3, 5000)
    _, rows = net.detect(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return np.zeros((0, 15), np.float32) if rows is None else rows


def _rows(faces: list[Face]) -> np.ndarray:
    return np.array([[f.box.x, f.box.y, f.box.width, f.box.height, *f.landmarks.reshape(-1),
                      f.score] for f in faces], np.float32).reshape(-1, 15)


def _sorted(rows: np.ndarray) -> np.ndarray:
    return rows[np.lexsort(rows.T[::-1])]


def _images(encoder: FaceEncoder, examples: Path) -> list[Image]:
    names = ["obama.jpg", "biden.jpg", "two_people.jpg", "knn_examples/test/kit_with_rose.jpg",
             "knn_examples/train/biden/biden2.jpg", "knn_examples/train/kit_harington/john2.jpeg",
             "obama-240p.jpg"]
    images = []
    for name in names:
        pixels = encoder.decoder.decode((examples / name).read_bytes()).pixels
        factor = 640 / max(pixels.shape[:2])
        small = cv2.resize(pixels, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        images += [pixels, small]
    return images


def test_same_faces_as_opencv(encoder: FaceEncoder, examples: Path) -> None:
    detector = encoder.detector
    assert isinstance(detector, YuNetDetector)
    found = 0
    for image in _images(encoder, examples):
        ours, theirs = _rows(detector._detect_raw(image)), _opencv_rows(detector.model_path, image)
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(_sorted(ours), _sorted(theirs), atol=0.01)
        found += len(ours)
    assert found >= 14  # the faces are there: the comparison is not of two empty lists


def test_same_faces_on_an_upright_crop(encoder: FaceEncoder, examples: Path) -> None:
    """The crop refine_rolled detects on: 480 px, rotated, borders replicated."""
    detector = encoder.detector
    assert isinstance(detector, YuNetDetector)
    pixels = encoder.decoder.decode((examples / "obama.jpg").read_bytes()).pixels
    face = detector.detect(pixels)[0]
    for angle in (-40.0, 25.0):
        matrix = face_crop(face, angle, 480, 2.0)
        crop = cv2.warpAffine(pixels, matrix, (480, 480), borderMode=cv2.BORDER_REPLICATE)
        ours, theirs = _rows(detector._detect_raw(crop)), _opencv_rows(detector.model_path, crop)
        assert len(ours) >= 1
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(_sorted(ours), _sorted(theirs), atol=0.01)


@pytest.mark.parametrize("size", [(37, 53), (641, 479)])
def test_sizes_not_a_multiple_of_the_stride(encoder: FaceEncoder, examples: Path,
                                            size: tuple[int, int]) -> None:
    detector = encoder.detector
    assert isinstance(detector, YuNetDetector)
    pixels = encoder.decoder.decode((examples / "obama.jpg").read_bytes()).pixels
    image = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    ours, theirs = _rows(detector._detect_raw(image)), _opencv_rows(detector.model_path, image)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(_sorted(ours), _sorted(theirs), atol=0.01)
