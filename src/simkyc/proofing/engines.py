"""A small pool of inference engines, checked out per call: no lock is held across requests
and concurrent requests do not queue on one lock.

Why a pool and not one shared instance: ONNX Runtime sessions are thread-safe for run(), but
OpenCV's YuNet detector (cv2.FaceDetectorYN keeps its input size and buffers) and MediaPipe's
graphs are not. Each member owns its own detector, mesh tracker and anti-spoofing model, so
`SIMKYC_ENGINE_POOL` inferences run at once and the rest wait for a free member (not for
one global lock); models load once per member, at startup.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from simkyc.config import Settings
from simkyc.faces.pipeline import FacePipeline
from simkyc.liveness.service import LivenessService


@dataclass(frozen=True)
class Engines:
    """One member: a face pipeline and the liveness engine sharing its encoder."""

    pipeline: FacePipeline
    liveness: LivenessService


class EnginePool:
    """`size` members, each used by one thread at a time."""

    def __init__(self, members: list[Engines]) -> None:
        if not members:
            raise ValueError("an engine pool needs at least one member")
        self.first = members[0]  # its calibrated policy answers /health and the decision
        self.size = len(members)
        self._free: queue.LifoQueue[Engines] = queue.LifoQueue()
        for member in members:
            self._free.put(member)

    @classmethod
    def from_settings(cls, settings: Settings) -> EnginePool:
        """`settings.engine_pool` members built from settings."""
        members = []
        for _ in range(settings.engine_pool):
            pipeline = FacePipeline.from_settings(settings)
            members.append(Engines(pipeline, LivenessService.from_settings(settings, pipeline)))
        return cls(members)

    @contextmanager
    def checkout(self) -> Iterator[Engines]:
        """A member for the duration of one call (blocks while all are busy)."""
        member = self._free.get()
        try:
            yield member
        finally:
            self._free.put(member)

    def idle(self) -> int:
        """Members free right now."""
        return self._free.qsize()
