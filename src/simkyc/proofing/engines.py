"""A small pool of inference engines, checked out per call: no lock is held across requests
and concurrent requests do not queue on one lock.

Why a pool and not one shared instance: ONNX Runtime sessions (the recognizer, YuNet) are
thread-safe for run(), but MediaPipe's graphs (the face mesh, its tracker) are not. Each
member owns its own detector and mesh graphs and shares the recognizer's ONNX Runtime
models, so `SIMKYC_ENGINE_POOL` inferences run at once and the rest wait for a free
member (not for one global lock).
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from simkyc.config import Settings
from simkyc.errors import EnginesBusy
from simkyc.faces.detect import MeshLandmarks
from simkyc.faces.pipeline import FacePipeline, build_detector
from simkyc.liveness.pose import MeshPoseEstimator
from simkyc.liveness.service import LivenessService
from simkyc.liveness.tracking import MeshTracker
from simkyc.memory import Trimmer


@dataclass(frozen=True)
class Engines:
    """One member: a face pipeline and the liveness engine sharing its encoder."""

    pipeline: FacePipeline
    liveness: LivenessService


class EnginePool:
    """`size` members, each used by one thread at a time."""

    def __init__(self, members: list[Engines], *, trimmer: Callable[[], object] | None = None
                 ) -> None:
        """*trimmer*: called each time a member comes back (a worker's Trimmer hands freed
        memory back to the system)."""
        if not members:
            raise ValueError("an engine pool needs at least one member")
        self.first = members[0]  # its calibrated policy answers /health and the decision
        self.size = len(members)
        self.trimmer = trimmer
        self._free: queue.LifoQueue[Engines] = queue.LifoQueue()
        for member in members:
            self._free.put(member)

    @classmethod
    def from_settings(cls, settings: Settings) -> EnginePool:
        """`settings.pool_size()` members (engine_pool, else one per core) built from
        settings. The ONNX Runtime models (the face embedder, MiniFASNet) are one instance
        shared by every member: their run() is thread-safe, so a member adds only its own
        detector and MediaPipe graphs."""
        first = FacePipeline.from_settings(settings)
        first_liveness = LivenessService.from_settings(settings, first)
        members = [Engines(first, first_liveness)]
        for _ in range(settings.pool_size() - 1):
            encoder = replace(
                first.encoder, detector=build_detector(settings),
                landmarks=MeshLandmarks() if first.encoder.landmarks is not None else None)
            pipeline = FacePipeline(encoder, first.policy)
            analyzer = replace(first_liveness.analyzer, encoder=encoder, tracker=MeshTracker(),
                               estimator=MeshPoseEstimator())
            members.append(Engines(pipeline, replace(first_liveness, analyzer=analyzer,
                                                     encoder=encoder)))
        return cls(members, trimmer=Trimmer(settings.malloc_trim_above_mb * 2**20))

    @contextmanager
    def checkout(self, timeout_s: float | None = None) -> Iterator[Engines]:
        """A member for the duration of one call: blocks while all are busy, or at most
        `timeout_s` seconds, then ENGINES_BUSY (a caller that must not queue proofing)."""
        try:
            member = self._free.get(timeout=timeout_s)
        except queue.Empty:
            raise EnginesBusy("The face engines are busy with identity proofing; try again "
                              "in a moment.") from None
        try:
            yield member
        finally:
            if self.trimmer is not None:
                self.trimmer()
            self._free.put(member)

    def idle(self) -> int:
        """Members free right now."""
        return self._free.qsize()
