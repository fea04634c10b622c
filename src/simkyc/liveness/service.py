"""Liveness as a service: evidence decoding and the analysis, together. Stateless: the
challenges it judges against and the lockouts are kept in the database
(simkyc.liveness.store); one instance is not thread-safe (its detectors and MediaPipe
graphs are not), so the API checks instances out of a pool (simkyc.proofing.engines)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from simkyc.config import Settings
from simkyc.faces.pipeline import FaceEncoder, FacePipeline
from simkyc.liveness.analyzer import LivenessAnalyzer, LivenessResult
from simkyc.liveness.challenge import Challenge
from simkyc.liveness.media import Frame, MediaLimits, decode_frames, decode_video
from simkyc.liveness.passive import PassiveAntiSpoof
from simkyc.types import Embedding


@dataclass
class LivenessService:
    """Decode the evidence answering a challenge and judge it."""

    analyzer: LivenessAnalyzer
    limits: MediaLimits
    encoder: FaceEncoder

    @classmethod
    def from_settings(cls, settings: Settings, pipeline: FacePipeline | None = None
                      ) -> LivenessService:
        """Share the face pipeline when the caller has one (the API does)."""
        pipeline = pipeline or FacePipeline.from_settings(settings)
        analyzer = LivenessAnalyzer(
            encoder=pipeline.encoder, passive=PassiveAntiSpoof.from_settings(settings),
            policy=pipeline.policy,
        )
        return cls(
            analyzer=analyzer,
            limits=MediaLimits(max_bytes=settings.liveness_max_bytes,
                               max_duration_s=settings.liveness_max_seconds,
                               decode_threads=_decode_threads(settings)),
            encoder=pipeline.encoder,
        )

    def decode(self, *, video: bytes | None = None,
               stills: Sequence[tuple[bytes, float]] | None = None) -> list[Frame]:
        """Frames from a video or a burst of stills."""
        if video is not None:
            return decode_video(video, self.limits)
        return decode_frames(stills or [], self.limits, self.encoder.decoder)

    def judge(
        self, challenge: Challenge, frames: Sequence[Frame], *,
        selfie: Embedding | None = None,
    ) -> LivenessResult:
        """Judge the evidence for a challenge already checked answerable; `selfie` is the
        session's selfie embedding (the liveness capture must be the selfie's person)."""
        return self.analyzer.analyse(frames, actions=challenge.actions,
                                     slot_s=challenge.slot_s, selfie=selfie)


def _decode_threads(settings: Settings) -> int:
    """liveness_decode_threads, else one engine's share of the worker's cores."""
    threads = settings.liveness_decode_threads
    return settings.threads_per_engine() if threads is None else threads
