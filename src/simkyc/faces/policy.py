"""The one decision policy for every 1:1 face comparison: two calibrated thresholds.

* accept: calibrated at the deployment's FMR target on impostor pairs. A score at or above
  it is `match`, whatever the false non-match rate there: the FMR target is the safety
  promise, and it holds.
* reject: calibrated so that at most `false_reject_target` of genuine pairs score below it.
  A score below it is `no_match`: a genuine applicant is rarely refused outright.
* between the two: `review` (a person decides).

A side whose threshold the calibration's pair counts cannot support (fewer than 30 expected
errors, the rule of 30) never decides automatically: its scores go to `review` instead.

Every comparison names what it compares (`Comparison`): the document portrait vs the live
probe, the holder's enrolled template vs the live probe (SIM swap, re-proofing, self-service),
and, inside a liveness capture, each frame vs the capture's own fused face (continuity).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from simkyc.faces.calibration import Calibration, CalibrationPoint, RejectPoint
from simkyc.faces.match import Decision
from simkyc.faces.reasons import ReviewCode, ReviewReason
from simkyc.types import Embedding


class Comparison(StrEnum):
    """What a 1:1 comparison compares; the decision record carries it."""

    DOCUMENT_VS_LIVE = "document_vs_live"
    TEMPLATE_VS_LIVE = "enrolled_template_vs_live"
    SELFIE_VS_LIVENESS = "selfie_vs_liveness_capture"
    FRAME_CONTINUITY = "liveness_frame_vs_capture"


@dataclass(frozen=True)
class FaceDecision:
    """One comparison's decision, with the thresholds and calibration behind it."""

    comparison: Comparison
    decision: Decision
    score: float
    accept_threshold: float
    reject_threshold: float | None
    calibration_id: str
    reasons: tuple[ReviewReason, ...]  # why `review`: codes and figures, never sentences


@dataclass(frozen=True)
class FacePolicy:
    """Score -> match / review / no_match, from one calibration of (model, population,
    pipeline); build it with `calibration.find(...)` and the deployment's two targets."""

    calibration: Calibration
    fmr_target: float
    false_reject_target: float

    @property
    def accept(self) -> CalibrationPoint:
        """The accept threshold: the calibrated point at the FMR target."""
        return self.calibration.at(self.fmr_target)

    @property
    def reject(self) -> RejectPoint | None:
        """The reject threshold at the false-reject target, if the calibration has it."""
        return self.calibration.reject_at(self.false_reject_target)

    def check(self) -> None:
        """Fail at startup, not per request, when the FMR target is not calibrated."""
        _ = self.accept

    def decide(
        self, score: float, *, comparison: Comparison = Comparison.DOCUMENT_VS_LIVE
    ) -> FaceDecision:
        """The decision for one similarity score."""
        accept, reject = self.accept, self.reject
        reasons: list[ReviewReason] = []
        decision = Decision.REVIEW
        if score >= accept.threshold:
            if accept.supported:
                decision = Decision.MATCH
            else:
                reasons.append(ReviewReason.of(ReviewCode.FMR_UNSUPPORTED, fmr=accept.fmr,
                                               pairs=self.calibration.n_impostor))
        elif reject is None:
            reasons.append(ReviewReason.of(ReviewCode.NO_REJECT_THRESHOLD,
                                           target=self.false_reject_target))
        elif not reject.supported:
            reasons.append(ReviewReason.of(ReviewCode.REJECT_UNSUPPORTED, rate=reject.fnmr,
                                           pairs=self.calibration.n_genuine))
        elif score < reject.threshold:
            decision = Decision.NO_MATCH
        else:
            reasons.append(ReviewReason.of(ReviewCode.BETWEEN, score=score,
                                           reject=reject.threshold, accept=accept.threshold))
        return FaceDecision(
            comparison=comparison,
            decision=decision,
            score=score,
            accept_threshold=accept.threshold,
            reject_threshold=None if reject is None else reject.threshold,
            calibration_id=self.calibration.calibration_id,
            reasons=tuple(reasons),
        )

    def compare(
        self, reference: Embedding, probe: Embedding, *, comparison: Comparison
    ) -> FaceDecision:
        """Decide on two embeddings (cosine; unit length is not assumed)."""
        return self.decide(cosine_similarity(reference, probe), comparison=comparison)


def cosine_similarity(a: Embedding, b: Embedding) -> float:
    """Cosine of two embeddings of any length scale (0 when either is zero)."""
    norms = float(np.linalg.norm(a)) * float(np.linalg.norm(b))
    return float(np.dot(a, b)) / norms if norms > 0 else 0.0


def automation(calibration: Calibration, *, fmr_target: float,
               false_reject_target: float) -> dict[str, object]:
    """What the policy at these targets decides automatically on the calibration's own
    pairs: genuine pairs matched (1 - FNMR at the accept threshold) and impostor pairs
    refused (below the reject threshold); 0 for a side the pair counts cannot support."""
    policy = FacePolicy(calibration, fmr_target, false_reject_target)
    accept, reject = policy.accept, policy.reject
    rejecting = reject is not None and reject.supported
    return {
        "calibration_id": calibration.calibration_id,
        "accept_threshold": accept.threshold,
        "reject_threshold": None if reject is None else reject.threshold,
        "genuine_matched_automatically": round(1 - accept.fnmr, 6) if accept.supported else 0.0,
        "impostors_refused_automatically": (
            reject.impostors_below if rejecting and reject is not None else 0.0),
        "n_genuine": calibration.n_genuine,
        "n_impostor": calibration.n_impostor,
    }


def overview(policy: FacePolicy, table: list[Calibration]) -> dict[str, object]:
    """The deployed policy, and per calibrated population of its model and pipeline what it
    decides automatically (for /health and `simkyc models`)."""
    deployed = policy.calibration
    targets = {"fmr_target": policy.fmr_target,
               "false_reject_target": policy.false_reject_target}
    populations = {
        c.population: automation(c, **targets)
        for c in table
        if (c.model_id, c.pipeline) == (deployed.model_id, deployed.pipeline)
        and c.calibrates(policy.fmr_target)
    }
    return {"population": deployed.population, **targets, "populations": populations}
