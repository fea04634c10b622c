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
            continuity_threshold=pipeline.policy.point.threshold - settings.continuity_margin,
        )
        return cls(
            analyzer=analyzer,
            limits=MediaLimits(max_bytes=settings.liveness_max_bytes,
                               max_duration_s=settings.liveness_max_seconds),
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
        reference: Embedding | None = None, reference_threshold: float | None = None,
    ) -> LivenessResult:
        """Judge the evidence for a challenge already checked answerable."""
        return self.analyzer.analyse(frames, actions=challenge.actions,
                                     slot_s=challenge.slot_s, reference=reference,
                                     reference_threshold=reference_threshold)
