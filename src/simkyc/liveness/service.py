"""Liveness as a service: challenges, lockout, evidence decoding and the analysis, together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from simkyc.config import Settings
from simkyc.faces.pipeline import FaceEncoder, FacePipeline
from simkyc.liveness.analyzer import LivenessAnalyzer, LivenessResult, Verdict
from simkyc.liveness.challenge import AttemptLimiter, Challenge, ChallengeBook
from simkyc.liveness.media import Frame, MediaLimits, decode_frames, decode_video
from simkyc.liveness.passive import PassiveAntiSpoof
from simkyc.types import Embedding


@dataclass
class LivenessService:
    """Issue a challenge, then judge the evidence answering it (once, before expiry)."""

    book: ChallengeBook
    limiter: AttemptLimiter
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
            book=ChallengeBook(ttl_s=settings.challenge_ttl_s, slot_s=settings.challenge_slot_s),
            limiter=AttemptLimiter(settings.lockout_failures, settings.lockout_window_s,
                                   settings.lockout_s),
            analyzer=analyzer,
            limits=MediaLimits(max_bytes=settings.liveness_max_bytes,
                               max_duration_s=settings.liveness_max_seconds),
            encoder=pipeline.encoder,
        )

    def issue(self, *, session_id: str, now: float) -> Challenge:
        """A new challenge for a proofing session (refused while it is locked out)."""
        self.limiter.check((session_id,), now)
        return self.book.issue(session_id=session_id, now=now)

    def decode(self, *, video: bytes | None = None,
               stills: Sequence[tuple[bytes, float]] | None = None) -> list[Frame]:
        """Frames from a video or a burst of stills."""
        if video is not None:
            return decode_video(video, self.limits)
        return decode_frames(stills or [], self.limits, self.encoder.decoder)

    def answer(
        self, *, nonce: str, session_id: str, device_id: str | None, frames: Sequence[Frame],
        now: float, selfie: Embedding | None = None,
    ) -> LivenessResult:
        """Judge the evidence for a challenge; failures count toward the lockout."""
        keys = (session_id,) if device_id is None else (session_id, f"device:{device_id}")
        self.limiter.check(keys, now)
        challenge = self.book.redeem(nonce=nonce, session_id=session_id, now=now)
        result = self.analyzer.analyse(frames, actions=challenge.actions, slot_s=challenge.slot_s,
                                       selfie=selfie)
        if result.verdict is not Verdict.LIVE:
            self.limiter.record_failure(keys, now)
        return result
