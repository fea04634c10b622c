"""Match and decide: cosine similarity against a calibrated threshold, with a review band."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from simkyc.faces.calibration import Calibration, CalibrationPoint
from simkyc.types import Embedding


class Decision(StrEnum):
    """The engine's answer; `review` sends the case to a person."""

    MATCH = "match"
    NO_MATCH = "no_match"
    REVIEW = "review"


@dataclass(frozen=True)
class MatchPolicy:
    """How a score becomes a decision for one deployment."""

    calibration: Calibration
    fmr_target: float
    fnmr_target: float
    band: float

    @property
    def point(self) -> CalibrationPoint:
        """The calibrated threshold for the deployment's FMR target."""
        return self.calibration.at(self.fmr_target)

    def backing_problems(self) -> list[str]:
        """Why the calibration cannot back automatic decisions (empty when it can)."""
        point = self.point
        problems = []
        if not point.supported:
            problems.append(
                f"FMR {point.fmr:g} is not supported by the {self.calibration.n_impostor:,} "
                "impostor pairs of the calibration"
            )
        if point.fnmr > self.fnmr_target:
            problems.append(
                f"FNMR {point.fnmr:.1%} at FMR {point.fmr:g} on population "
                f"{self.calibration.population} exceeds the target {self.fnmr_target:.1%}"
            )
        return problems

    def decide(self, score: float) -> tuple[Decision, tuple[str, ...]]:
        """The decision for `score`, and the reasons for a `review`."""
        threshold = self.point.threshold
        problems = self.backing_problems()
        if problems:
            return Decision.REVIEW, tuple(problems)
        if score >= threshold + self.band:
            return Decision.MATCH, ()
        if score < threshold - self.band:
            return Decision.NO_MATCH, ()
        return Decision.REVIEW, (
            f"score {score:.3f} is within {self.band} of the threshold {threshold:.3f}",
        )


def cosine(a: Embedding, b: Embedding) -> float:
    """Cosine similarity of two unit-length embeddings."""
    return float(np.dot(a, b))


def fuse(embeddings: list[Embedding]) -> Embedding:
    """Mean of unit embeddings, renormalised: one probe from several live frames."""
    mean = np.mean(np.stack(embeddings), axis=0)
    unit: Embedding = (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
    return unit
