"""Quality stage on real photos: each failure carries a measured value, a limit and advice."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from simkyc.errors import PoorQuality
from simkyc.faces.pipeline import FaceEncoder


def _photo(encoder: FaceEncoder, examples: Path) -> np.ndarray:
    return encoder.decoder.decode((examples / "obama.jpg").read_bytes()).pixels


def _checks(encoder: FaceEncoder, image: np.ndarray) -> list[str]:
    with pytest.raises(PoorQuality) as caught:
        encoder.sample_pixels(image)
    assert caught.value.code == "POOR_QUALITY"
    for finding in caught.value.findings:
        assert finding.advice
    return [f.check for f in caught.value.findings]


def test_good_photo_passes(encoder: FaceEncoder, examples: Path) -> None:
    sample = encoder.sample_pixels(_photo(encoder, examples))
    assert sample.quality.acceptable
    assert abs(sample.quality.pose.yaw) < 15
    assert abs(sample.quality.pose.roll) < 10


def test_dark_photo_asks_for_light(encoder: FaceEncoder, examples: Path) -> None:
    dark = (_photo(encoder, examples) * 0.15).astype(np.uint8)
    assert "too_dark" in _checks(encoder, dark)


def test_blurred_photo_asks_to_hold_still(encoder: FaceEncoder, examples: Path) -> None:
    blurred = cv2.GaussianBlur(_photo(encoder, examples), (0, 0), 9)
    assert "blur" in _checks(encoder, blurred)


def test_rotated_photo_asks_to_hold_upright(encoder: FaceEncoder, examples: Path) -> None:
    photo = _photo(encoder, examples)
    height, width = photo.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), 50, 0.8)
    rotated = cv2.warpAffine(photo, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)
    assert "roll" in _checks(encoder, rotated)


def test_roll_is_measured_after_uprighting(encoder: FaceEncoder, examples: Path) -> None:
    photo = _photo(encoder, examples)
    height, width = photo.shape[:2]
    upright = encoder.sample_pixels(photo).embedding
    for angle in (-45, 30, 45):
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 0.8)
        rotated = cv2.warpAffine(photo, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)
        sample = encoder.sample_pixels(rotated, require_quality=False)
        assert sample.quality.pose.roll == pytest.approx(-angle, abs=5)
        assert float(sample.embedding @ upright) > 0.99


@pytest.mark.slow  # over 5 s (pytest --durations)
def test_turned_head_is_measured_from_a_3d_fit(encoder: FaceEncoder, headturn: Path) -> None:
    # The head-turn video: the person looks to both sides.
    video = cv2.VideoCapture(str(headturn))
    yaws = []
    while True:
        for _ in range(3):  # every 4th frame is plenty
            video.grab()
        ok, frame = video.read()
        if not ok:
            break
        rgb = np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        faces = encoder.detector.detect(rgb)
        if faces:
            chip = encoder.aligner.align(rgb, faces[0])
            yaws.append(encoder.assessor.assess(rgb, faces[0], chip).pose.yaw)
    assert min(yaws) < -20 and max(yaws) > 20  # she turns both ways
