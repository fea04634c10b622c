"""Dense landmarks over a clip: MediaPipe's 478-point face mesh, tracked frame to frame."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from simkyc.liveness.media import Frame

Mesh = NDArray[np.float64]
"""478 x 3: x, y in pixels, z (relative depth) in the same units as x."""


@dataclass(frozen=True)
class TrackedFrame:
    """The faces found in one frame; `mesh` is the largest face's landmarks."""

    t: float
    index: int
    faces: int
    mesh: Mesh | None


@dataclass(frozen=True)
class MeshTracker:
    """Runs the face mesh in video mode (tracking between frames) over one clip at a time."""

    max_faces: int = 2
    min_confidence: float = 0.5
    rival_ratio: float = 0.5

    def track(self, frames: Sequence[Frame]) -> list[TrackedFrame]:
        """Landmarks per frame; a fresh graph per clip so no state leaks between applicants."""
        import mediapipe as mp

        with mp.solutions.face_mesh.FaceMesh(
            static_image_mode=False,
            max_num_faces=self.max_faces,
            refine_landmarks=True,
            min_detection_confidence=self.min_confidence,
            min_tracking_confidence=self.min_confidence,
        ) as mesh:
            return [self._one(mesh, frame) for frame in frames]

    def _one(self, mesh: object, frame: Frame) -> TrackedFrame:
        """The mesh of the largest face in a frame."""
        result = mesh.process(frame.pixels)  # type: ignore[attr-defined]
        found = result.multi_face_landmarks or []
        if not found:
            return TrackedFrame(frame.t, frame.index, 0, None)
        height, width = frame.pixels.shape[:2]
        meshes = [
            np.array([(p.x * width, p.y * height, p.z * width) for p in face.landmark])
            for face in found
        ]
        widths = [float(np.ptp(m[:, 0])) for m in meshes]
        largest = meshes[int(np.argmax(widths))]
        # A face under half the applicant's width (a poster, someone far behind) is not a
        # second applicant; one as large is.
        count = sum(w >= self.rival_ratio * max(widths) for w in widths)
        return TrackedFrame(frame.t, frame.index, count, largest)
