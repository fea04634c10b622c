"""The liveness checks on a clip, each reported with its value and threshold, and the verdict."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from simkyc.faces.detect import face_from_mesh
from simkyc.faces.match import Decision, fuse
from simkyc.faces.pipeline import FaceEncoder, FaceSample, best_frames, live_probe
from simkyc.faces.policy import Comparison, FacePolicy
from simkyc.liveness.challenge import Action
from simkyc.liveness.media import Frame
from simkyc.liveness.passive import PassiveAntiSpoof
from simkyc.liveness.planarity import planarity
from simkyc.liveness.pose import MeshPoseEstimator
from simkyc.liveness.reasons import LivenessReason
from simkyc.liveness.reasons import LivenessReasonCode as Why
from simkyc.liveness.signals import (
    Event,
    EventThresholds,
    Series,
    events,
    performed_in_order,
    series,
)
from simkyc.liveness.tracking import Mesh, MeshTracker, TrackedFrame
from simkyc.types import BBox, Embedding, Face


class Verdict(StrEnum):
    """`retry`: nothing suspicious, but the evidence is not enough (face lost, too dark...)."""

    LIVE = "live"
    SPOOF = "spoof"
    RETRY = "retry"


@dataclass(frozen=True)
class CheckResult:
    """One check: passed (None when it could not judge), measured value, threshold, and the
    reason it gives when it fails (a code, said from the catalogs: liveness/reasons.py)."""

    name: str
    passed: bool | None
    value: float | None
    threshold: float | None
    reason: LivenessReason
    fails_as: Verdict = Verdict.RETRY


@dataclass(frozen=True)
class LivenessThresholds:
    """Thresholds with their provenance (README, Liveness figures)."""

    min_face_fraction: float = 0.9
    max_multi_face_fraction: float = 0.05
    # A homography explains a flat picture's landmarks to <= 0.05 IOD; a real turn leaves 0.3+.
    min_planar_residual: float = 0.10
    min_deformation: float = 0.05
    min_moved_frames: int = 3
    # MiniFASNet mean live probability; 0.37 gives BPCER <= 5% on NUAA's live frames.
    min_passive: float = 0.37
    passive_frames: int = 3
    identity_frames: int = 5
    identity_max_angle: float = 20.0
    events: EventThresholds = field(default_factory=EventThresholds)


@dataclass(frozen=True)
class LivenessResult:
    """The verdict, every check, the actions seen, and the best frames for the 1:1 match."""

    verdict: Verdict
    checks: tuple[CheckResult, ...]
    reasons: tuple[LivenessReason, ...]
    frames_analysed: int
    actions_seen: tuple[tuple[str, float], ...]
    timings_ms: dict[str, float]
    best: tuple[FaceSample, ...] = ()

    def to_dict(self, say: Callable[[LivenessReason], object] = LivenessReason.key
                ) -> dict[str, object]:
        """JSON-ready: checks keyed by name; each reason written by `say` (default: its
        language-free catalog key; the CLI passes `i18n.messages.liveness_reason`), a passed
        check's as null."""
        return {
            "verdict": self.verdict.value,
            "checks": {c.name: {"passed": c.passed, "value": c.value, "threshold": c.threshold,
                                "reason": None if c.passed else say(c.reason),
                                "fails_as": c.fails_as.value}
                       for c in self.checks},
            "reasons": [say(r) for r in self.reasons],
            "frames_analysed": self.frames_analysed,
            "actions_seen": [{"action": a, "t": round(t, 3)} for a, t in self.actions_seen],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }


def verdict_of(checks: Sequence[CheckResult]) -> tuple[Verdict, tuple[LivenessReason, ...]]:
    """Spoof if any spoof-type check failed, else retry if any failed, else live."""
    failed = [c for c in checks if c.passed is False]
    if any(c.fails_as is Verdict.SPOOF for c in failed):
        return Verdict.SPOOF, tuple(c.reason for c in failed if c.fails_as is Verdict.SPOOF)
    if failed:
        return Verdict.RETRY, tuple(c.reason for c in failed)
    return Verdict.LIVE, ()


@dataclass
class LivenessAnalyzer:
    """Runs every check on decoded frames; built by `liveness.service` from settings."""

    encoder: FaceEncoder
    passive: PassiveAntiSpoof
    policy: FacePolicy  # the deployment's one face decision policy (continuity, selfie)
    thresholds: LivenessThresholds = field(default_factory=LivenessThresholds)
    tracker: MeshTracker = field(default_factory=MeshTracker)
    estimator: MeshPoseEstimator = field(default_factory=MeshPoseEstimator)

    def analyse(
        self, frames: Sequence[Frame], *, actions: Sequence[Action] | None = None,
        selfie: Embedding | None = None, slot_s: float | None = None,
    ) -> LivenessResult:
        """All checks; `actions` None = passive only; `slot_s`: the prompts' timing (None =
        order only); `selfie` = the embedding of the session's selfie, when one was taken."""
        laps: dict[str, float] = {}
        start = time.perf_counter()
        tracked = self.tracker.track(frames)
        laps["landmarks"] = (time.perf_counter() - start) * 1000
        checks = [self._presence(tracked), self._single(tracked)]
        signals = series(tracked, self.estimator)
        seen = events(signals, self.thresholds.events) if len(signals.t) >= 3 else []
        if actions is not None:
            checks.append(_challenge(seen, actions, frames[-1].t if frames else 0.0, slot_s))
        if len(signals.t) >= 3:
            meshes = [f.mesh for f in tracked if f.mesh is not None]
            checks.append(self._planarity(meshes, signals.yaw, signals.pitch))
        start = time.perf_counter()
        samples = self._samples(frames, tracked, signals)
        laps["identity"] = (time.perf_counter() - start) * 1000
        checks += self._identity(samples, selfie)
        start = time.perf_counter()
        checks.append(self._passive(frames, samples))
        laps["passive"] = (time.perf_counter() - start) * 1000
        verdict, reasons = verdict_of(checks)
        return LivenessResult(
            verdict, tuple(checks), reasons, len(frames),
            tuple((e.action.value, e.start) for e in seen), laps,
            tuple(best_frames(list(samples.values()), 3)),
        )

    def _presence(self, tracked: Sequence[TrackedFrame]) -> CheckResult:
        """A face in (nearly) every frame."""
        fraction = sum(f.faces > 0 for f in tracked) / max(len(tracked), 1)
        limit = self.thresholds.min_face_fraction
        return CheckResult("face_present", fraction >= limit, fraction, limit,
                           LivenessReason(Why.FACE_PRESENT))

    def _single(self, tracked: Sequence[TrackedFrame]) -> CheckResult:
        """Exactly one face: nobody else in view."""
        fraction = sum(f.faces > 1 for f in tracked) / max(len(tracked), 1)
        limit = self.thresholds.max_multi_face_fraction
        return CheckResult("single_face", fraction <= limit, fraction, limit,
                           LivenessReason(Why.SINGLE_FACE))

    def _planarity(self, meshes: list[Mesh], yaw: NDArray[np.float64],
                   pitch: NDArray[np.float64]) -> CheckResult:
        """Reject landmark motion that a single plane explains (a photo or a screen)."""
        t = self.thresholds
        result = planarity(meshes, yaw.tolist(), pitch.tolist(), t.min_deformation)
        if result.moved_frames < t.min_moved_frames:
            return CheckResult("depth", None, result.residual, t.min_planar_residual,
                               LivenessReason(Why.DEPTH_UNJUDGED), Verdict.SPOOF)
        return CheckResult("depth", result.residual >= t.min_planar_residual, result.residual,
                           t.min_planar_residual,
                           LivenessReason(Why.DEPTH), Verdict.SPOOF)

    def _samples(self, frames: Sequence[Frame], tracked: Sequence[TrackedFrame],
                 signals: Series) -> dict[int, FaceSample]:
        """Embeddings of near-frontal frames spread over the clip, by frame position.

        Turned frames are left out: they lower same-person scores (dlib's model is trained
        on mostly frontal faces) and the detector may miss them.
        """
        pose = dict(zip(signals.index.tolist(), zip(signals.yaw, signals.pitch, strict=True),
                        strict=True))
        limit = self.thresholds.identity_max_angle
        angle = {i: sum(map(abs, pose[f.index])) for i, f in enumerate(tracked)
                 if f.faces == 1 and f.index in pose}
        with_face = [i for i, a in angle.items() if a <= 2 * limit]
        if len(with_face) < 2:  # e.g. the applicant looks up throughout: use the least turned
            with_face = sorted(sorted(angle, key=angle.__getitem__)[: max(2, len(angle) // 3)])
        count = min(self.thresholds.identity_frames, len(with_face))
        picks = [with_face[round(k)] for k in np.linspace(0, len(with_face) - 1, count)]
        samples = {}
        for index in dict.fromkeys(picks):
            mesh = tracked[index].mesh
            if mesh is None:
                continue
            # The tracked mesh already holds the alignment points: no second detection.
            samples[index] = self.encoder.sample_face(
                frames[index].pixels, face_from_mesh(mesh), require_quality=False,
                mesh_points=True,
            )
        return samples

    def _identity(self, by_frame: dict[int, FaceSample],
                  selfie: Embedding | None) -> list[CheckResult]:
        """Same person throughout (each frame vs the capture's fused face); and, given the
        session's selfie, the selfie's person. Both through the one face policy."""
        samples = list(by_frame.values())
        if len(samples) < 2:
            return [CheckResult("same_person", False, float(len(samples)), 2.0,
                                LivenessReason(Why.SAME_PERSON_FEW))]
        centre = fuse([s.embedding for s in samples])
        lowest = min(float(s.embedding @ centre) for s in samples)
        continuity = self.policy.decide(lowest, comparison=Comparison.FRAME_CONTINUITY)
        # A frame the policy refuses is another face (spoof); one it cannot place is retried.
        checks = [CheckResult(
            "same_person", continuity.decision is Decision.MATCH, lowest,
            continuity.accept_threshold, LivenessReason(Why.SAME_PERSON),
            Verdict.SPOOF if continuity.decision is Decision.NO_MATCH else Verdict.RETRY)]
        if selfie is not None:
            probe = live_probe(samples, 3)
            outcome = self.policy.compare(selfie, probe, comparison=Comparison.SELFIE_VS_LIVENESS)
            # `review` is not judged here: the document comparison at conclusion decides.
            passed = {Decision.MATCH: True, Decision.NO_MATCH: False}.get(outcome.decision)
            checks.append(CheckResult("matches_selfie", passed, outcome.score,
                                      outcome.accept_threshold,
                                      LivenessReason(Why.MATCHES_SELFIE),
                                      Verdict.SPOOF))
        return checks

    def _detector_box(self, frame: Frame, sample: FaceSample) -> BBox | None:
        """The detector's box for the sampled face: MiniFASNet's crops are sized from it."""
        found = _nearest(self.encoder.detector.detect(frame.pixels), sample.face)
        return None if found is None else found.box

    def _passive(self, frames: Sequence[Frame], by_frame: dict[int, FaceSample]) -> CheckResult:
        """MiniFASNet's live probability, averaged over the best sampled frames."""
        limit = self.thresholds.min_passive
        ranked = sorted(by_frame.items(), key=lambda item: item[1].quality.score(), reverse=True)
        chosen = ranked[: self.thresholds.passive_frames]
        if not chosen:
            return CheckResult("passive", None, None, limit,
                               LivenessReason(Why.PASSIVE_UNUSABLE), Verdict.SPOOF)
        scores = [self.passive.score(frames[i].pixels, box).live
                  for i, s in chosen if (box := self._detector_box(frames[i], s)) is not None]
        if not scores:
            return CheckResult("passive", None, None, limit,
                               LivenessReason(Why.PASSIVE_UNUSABLE), Verdict.SPOOF)
        mean = float(np.mean(scores))
        return CheckResult("passive", mean >= limit, mean, limit,
                           LivenessReason(Why.PASSIVE), Verdict.SPOOF)


def _nearest(faces: Sequence[Face], target: Face) -> Face | None:
    """The detected face whose landmarks are nearest the target's (None if none is close)."""
    centre = target.landmarks.mean(axis=0)

    def distance(face: Face) -> float:
        return float(np.linalg.norm(face.landmarks.mean(axis=0) - centre))

    close = [f for f in faces if distance(f) < target.eye_distance]
    return min(close, key=distance, default=None)


def _challenge(
    seen: Sequence[Event], actions: Sequence[Action], end: float, slot_s: float | None
) -> CheckResult:
    """The requested actions, in order (and in their time slots, when timed), in the clip."""
    done, matched = performed_in_order(seen, actions, (0.0, end), slot_s)
    count = sum(m is not None for m in matched)
    missing = tuple(a for a, m in zip(actions, matched, strict=True) if m is None)
    why = Why.NOT_SEEN_TIMED if slot_s is not None else Why.NOT_SEEN
    return CheckResult("challenge", done, float(count), float(len(actions)),
                       LivenessReason(why, missing))
