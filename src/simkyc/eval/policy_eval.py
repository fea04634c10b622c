"""The two-threshold policy measured: reject points for calibration entries, the shares of
pairs each decision takes at the deployed policy, and the score fusion of two models."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import NDArray

from simkyc.eval.metrics import RULE_OF_30_ERRORS, ScoreSet, fmr_at, fnmr_at, threshold_at_fnmr
from simkyc.eval.scoring import FAILED_SCORE
from simkyc.faces.calibration import Calibration, RejectPoint


def round_down(threshold: float) -> float:
    """6 decimals, rounded toward refusing fewer genuine pairs (a stored reject threshold
    never refuses more than the calibrated share)."""
    return math.floor(threshold * 1e6) / 1e6 if math.isfinite(threshold) else threshold


def round_up(threshold: float) -> float:
    """6 decimals, rounded toward accepting fewer impostor pairs (the FMR promise holds)."""
    return math.ceil(threshold * 1e6) / 1e6 if math.isfinite(threshold) else threshold


# The false-reject targets every calibration entry carries a reject threshold for.
FALSE_REJECT_TARGETS = (0.001, 0.005, 0.01, 0.02)


def reject_points(scores: ScoreSet) -> list[RejectPoint]:
    """A reject threshold per false-reject target; supported when the genuine pairs are
    enough for >= 30 expected false rejects (the rule of 30, as for the FMR side)."""
    points = []
    for target in FALSE_REJECT_TARGETS:
        threshold = threshold_at_fnmr(scores.genuine, target)
        points.append(RejectPoint(
            fnmr=target,
            threshold=round_down(threshold),
            impostors_below=round(1.0 - fmr_at(scores.impostor, threshold), 6),
            supported=scores.genuine.size * target >= RULE_OF_30_ERRORS,
        ))
    return points


@dataclass(frozen=True)
class PolicyShares:
    """Where the deployed policy sends a set's pairs (shares of each kind, and the counts)."""

    calibration_id: str
    accept_threshold: float
    reject_threshold: float | None
    accept_supported: bool
    reject_supported: bool
    n_genuine: int
    n_impostor: int
    n_no_face: int  # pairs left out: an image without a detected face
    genuine_matched: float  # matched automatically
    genuine_review: float
    genuine_refused: float  # refused outright (no_match)
    impostor_accepted: float  # matched automatically: the false matches
    impostor_review: float
    impostor_refused: float  # refused automatically

    def to_dict(self) -> dict[str, object]:
        return {k: round(v, 6) if isinstance(v, float) else v for k, v in asdict(self).items()}


def policy_shares(
    scores: ScoreSet, calibration: Calibration, *, fmr_target: float, false_reject_target: float
) -> PolicyShares:
    """The decisions `FacePolicy.decide` gives each pair, counted (same rule, vectorised).

    Pairs with an image where no face was found are left out (and counted): the policy
    never sees them, the applicant is asked for another photo (NO_FACE)."""
    failed = int(np.count_nonzero(scores.genuine == FAILED_SCORE)
                 + np.count_nonzero(scores.impostor == FAILED_SCORE))
    scores = ScoreSet(genuine=scores.genuine[scores.genuine != FAILED_SCORE],
                      impostor=scores.impostor[scores.impostor != FAILED_SCORE])
    accept = calibration.at(fmr_target)
    reject = calibration.reject_at(false_reject_target)
    accepting = accept.supported
    rejecting = reject is not None and reject.supported
    reject_at = reject.threshold if reject is not None else -np.inf

    def shares(values: NDArray[np.float32]) -> tuple[float, float, float]:
        matched = fmr_at(values, accept.threshold) if accepting else 0.0
        below = fnmr_at(values, min(reject_at, accept.threshold)) if rejecting else 0.0
        return matched, 1.0 - matched - below, below

    g_match, g_review, g_refuse = shares(scores.genuine)
    i_match, i_review, i_refuse = shares(scores.impostor)
    return PolicyShares(
        calibration_id=calibration.calibration_id,
        accept_threshold=accept.threshold,
        reject_threshold=None if reject is None else reject.threshold,
        accept_supported=accepting,
        reject_supported=rejecting,
        n_genuine=int(scores.genuine.size),
        n_impostor=int(scores.impostor.size),
        n_no_face=failed,
        genuine_matched=g_match,
        genuine_review=g_review,
        genuine_refused=g_refuse,
        impostor_accepted=i_match,
        impostor_review=i_review,
        impostor_refused=i_refuse,
    )


@dataclass(frozen=True)
class ZNorm:
    """A model's impostor score distribution (mean, sd), measured on a reference set."""

    mean: float
    sd: float

    @classmethod
    def of(cls, impostor: NDArray[np.float32]) -> ZNorm:
        return cls(float(np.mean(impostor)), float(np.std(impostor)) or 1.0)

    def apply(self, scores: NDArray[np.float32]) -> NDArray[np.float32]:
        out: NDArray[np.float64] = (scores.astype(np.float64) - self.mean) / self.sd
        return out.astype(np.float32)


def fuse_scores(a: ScoreSet, norm_a: ZNorm, b: ScoreSet, norm_b: ZNorm) -> ScoreSet:
    """Mean of the two models' z-normalised scores, pair by pair (same pair order)."""
    return ScoreSet(
        genuine=(norm_a.apply(a.genuine) + norm_b.apply(b.genuine)) / 2,
        impostor=(norm_a.apply(a.impostor) + norm_b.apply(b.impostor)) / 2,
    )
