"""What proofing services return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from simkyc.proofing.models import LivenessVerdict, Outcome, Purpose, Reason


class ProofingView(BaseModel):
    """A proofing session without personal data (the person by id)."""

    model_config = ConfigDict(frozen=True)

    id: str
    purpose: Purpose
    operator_id: str | None
    agent_id: str | None
    person_id: str
    line_id: str | None
    started_at: datetime
    outcome: Outcome
    reasons: tuple[Reason, ...]
    face_score: float | None
    face_threshold: float | None
    model_id: str | None
    calibration_id: str | None
    liveness_verdict: LivenessVerdict | None
    holder_score: float | None
    holder_threshold: float | None
    decided_at: datetime | None
    expires_at: datetime | None
    consumed_at: datetime | None
    evidence_sha256: str | None


@dataclass(frozen=True)
class Consent:
    """The applicant's consent: given or not, to which text (version), when."""

    given: bool
    version: str
    at: datetime


@dataclass(frozen=True)
class EvidenceVerification:
    """Whether a stored evidence record still is what was decided; problems name what is not."""

    ok: bool
    problems: tuple[str, ...]
