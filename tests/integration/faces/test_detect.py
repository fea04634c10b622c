"""Detect stage on real photos: one face, bystanders, two equal faces, no face, tiny faces
(choosing the applicant among found faces: tests/unit/faces/test_select_applicant.py)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from simkyc.errors import MultipleFaces, NoFaceFound, PoorQuality
from simkyc.faces.pipeline import FaceEncoder


def _pixels(encoder: FaceEncoder, path: Path) -> np.ndarray:
    return encoder.decoder.decode(path.read_bytes()).pixels


@pytest.mark.parametrize("name", ["obama.jpg", "biden.jpg", "obama-240p.jpg", "obama-1080p.jpg"])
def test_single_face_photos(encoder: FaceEncoder, examples: Path, name: str) -> None:
    faces = encoder.detector.detect(_pixels(encoder, examples / name))
    assert len(faces) == 1
    right_eye, left_eye = faces[0].landmarks[0], faces[0].landmarks[1]
    assert right_eye[0] < left_eye[0]  # subject's right eye is on the image's left


@pytest.mark.parametrize(
    "name",
    [
        "two_people.jpg",
        "knn_examples/test/obama_and_biden.jpg",
        "knn_examples/test/kit_with_rose.jpg",
    ],
)
def test_two_equal_faces_are_ambiguous(encoder: FaceEncoder, examples: Path, name: str) -> None:
    with pytest.raises(MultipleFaces):
        encoder.sample((examples / name).read_bytes())


def test_bystander_in_the_background_is_ignored(encoder: FaceEncoder, examples: Path) -> None:
    applicant = _pixels(encoder, examples / "obama.jpg")
    bystander = cv2.resize(_pixels(encoder, examples / "biden.jpg"), None, fx=0.3, fy=0.3)
    scene = applicant.copy()
    scene[: bystander.shape[0], -bystander.shape[1] :] = bystander
    assert len(encoder.detector.detect(scene)) == 2
    alone = encoder.sample_pixels(applicant)
    chosen = encoder.sample_pixels(scene)
    assert float(alone.embedding @ chosen.embedding) > 0.98


def test_blank_and_cartoon_images_have_no_face(encoder: FaceEncoder) -> None:
    blank = np.full((480, 640, 3), 128, np.uint8)
    cartoon = np.full((480, 640, 3), 255, np.uint8)
    cv2.circle(cartoon, (320, 240), 150, (255, 220, 0), -1)  # a smiley
    cv2.circle(cartoon, (270, 200), 18, (0, 0, 0), -1)
    cv2.circle(cartoon, (370, 200), 18, (0, 0, 0), -1)
    cv2.ellipse(cartoon, (320, 280), (80, 40), 0, 20, 160, (0, 0, 0), 8)
    for image in (blank, cartoon):
        with pytest.raises(NoFaceFound):
            encoder.sample_pixels(image)


def test_a_20_pixel_face_is_refused_with_advice(encoder: FaceEncoder, examples: Path) -> None:
    photo = _pixels(encoder, examples / "obama.jpg")
    faces = encoder.detector.detect(photo)
    width = faces[0].box.width
    tiny = cv2.resize(photo, None, fx=20 / width, fy=20 / width, interpolation=cv2.INTER_AREA)
    canvas = np.full((480, 640, 3), 200, np.uint8)
    canvas[: tiny.shape[0], : tiny.shape[1]] = tiny
    with pytest.raises((NoFaceFound, PoorQuality)) as caught:
        encoder.sample_pixels(canvas)
    if isinstance(caught.value, PoorQuality):
        assert "face_size" in [f.check for f in caught.value.findings]
