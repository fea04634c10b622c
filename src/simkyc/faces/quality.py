"""Quality stage: size, sharpness, exposure, pose and occlusion hints, each with its advice."""

from __future__ import annotations

from dataclasses import dataclass

import cv2

from simkyc.errors import QualityFinding
from simkyc.faces.pose import FIVE_POINT_HEAD, HeadPose, head_pose
from simkyc.types import Face, Image


@dataclass(frozen=True)
class QualityReport:
    """What was measured on one face; `findings` are the checks it failed."""

    eye_distance: float
    sharpness: float
    brightness: float
    contrast: float
    pose: HeadPose
    detector_score: float
    findings: tuple[QualityFinding, ...]

    @property
    def acceptable(self) -> bool:
        """True when no check failed."""
        return not self.findings

    def score(self) -> float:
        """A 0-1 ranking of frames of one person (sharp, frontal, large): picks the best frames."""
        frontal = max(0.0, 1.0 - (abs(self.pose.yaw) + abs(self.pose.pitch)) / 60.0)
        sharp = min(1.0, self.sharpness / 200.0)
        size = min(1.0, self.eye_distance / 60.0)
        return round(frontal * 0.5 + sharp * 0.3 + size * 0.2, 4)


@dataclass(frozen=True)
class QualityLimits:
    """The thresholds; defaults come from Settings (see the README's configuration table)."""

    min_eye_distance: float = 24.0
    min_sharpness: float = 15.0
    min_brightness: float = 50.0
    max_brightness: float = 225.0
    min_contrast: float = 18.0
    max_yaw: float = 35.0
    max_pitch: float = 30.0
    max_roll: float = 40.0
    min_detector_score: float = 0.75


@dataclass(frozen=True)
class QualityAssessor:
    """Measures a face on its aligned chip (so figures do not depend on image resolution)."""

    limits: QualityLimits

    def assess(self, image: Image, face: Face, chip: Image) -> QualityReport:
        """Measure every check and collect the failed ones with advice a person can act on."""
        gray = cv2.cvtColor(
            cv2.resize(chip, (112, 112), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY
        )
        centre = gray[24:100, 20:92]  # eyes to chin, without background at the chip's edges
        pose = head_pose(face.landmarks, FIVE_POINT_HEAD, (image.shape[1], image.shape[0]))
        report = QualityReport(
            eye_distance=face.eye_distance,
            sharpness=float(cv2.Laplacian(centre, cv2.CV_64F).var()),
            brightness=float(centre.mean()),
            contrast=float(centre.std()),
            pose=pose,
            detector_score=face.score,
            findings=(),
        )
        return QualityReport(**{**report.__dict__, "findings": tuple(self._findings(report))})

    def _findings(self, r: QualityReport) -> list[QualityFinding]:
        """The failed checks, in the order a person should fix them."""
        lim = self.limits
        checks = [
            (
                "face_size",
                r.eye_distance,
                lim.min_eye_distance,
                r.eye_distance < lim.min_eye_distance,
                "move closer to the camera or use a sharper, larger photo",
            ),
            (
                "too_dark",
                r.brightness,
                lim.min_brightness,
                r.brightness < lim.min_brightness,
                "more light on the face",
            ),
            (
                "too_bright",
                r.brightness,
                lim.max_brightness,
                r.brightness > lim.max_brightness,
                "less light or no flash on the face",
            ),
            (
                "low_contrast",
                r.contrast,
                lim.min_contrast,
                r.contrast < lim.min_contrast,
                "avoid light from behind and glare on the document",
            ),
            (
                "blur",
                r.sharpness,
                lim.min_sharpness,
                r.sharpness < lim.min_sharpness,
                "hold still and make sure the camera is focused",
            ),
            (
                "yaw",
                abs(r.pose.yaw),
                lim.max_yaw,
                abs(r.pose.yaw) > lim.max_yaw,
                "face the camera (head turned sideways)",
            ),
            (
                "pitch",
                abs(r.pose.pitch),
                lim.max_pitch,
                abs(r.pose.pitch) > lim.max_pitch,
                "face the camera (head tilted up or down)",
            ),
            (
                "roll",
                abs(r.pose.roll),
                lim.max_roll,
                abs(r.pose.roll) > lim.max_roll,
                "hold the head (or the document) upright",
            ),
            (
                "occlusion",
                r.detector_score,
                lim.min_detector_score,
                r.detector_score < lim.min_detector_score,
                "uncover the face (hair, hands, mask, glasses glare)",
            ),
        ]
        return [
            QualityFinding(name, float(value), limit, advice)
            for name, value, limit, failed, advice in checks
            if failed
        ]
