"""What proofing services return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

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


# The replies of the evidence steps (kept for idempotent retries by simkyc.proofing.replies).


class CardFieldOut(BaseModel):
    """One typed field against the card's text; `read` is what the card says (for the agent;
    kept only sealed, in the upload's idempotency reply). For a PRC card, the entry
    `consistent` says whether its printed details agree with its own number (`match` /
    `mismatch`; the details themselves are never shown)."""

    field: str
    status: str
    read: str | None
    source: str | None


class FaceSubmitted(BaseModel):
    """A face image was processed (the image itself was discarded); for a card photo, each
    typed field compared with the card's text (none when OCR is off)."""

    kind: str
    image_sha256: str
    detector_score: float
    sharpness: float
    card_text: list[CardFieldOut] | None = None
    # The MRZ read on the card photo: verified / ambiguous / invalid (None: none read, or
    # OCR off); only a verified one is evidence (its fields are in `card_text`).
    mrz: str | None = None


class ChallengeOut(BaseModel):
    nonce: str
    actions: list[str]
    prompts: list[str]
    expires_at: datetime
    slot_s: float | None = Field(
        default=None,
        description="Show prompt k from k x slot_s seconds after recording starts; action k "
        "must start within its slot (+0.75 s). None: the order alone is checked.",
    )


class LivenessOut(BaseModel):
    verdict: str
    reasons: list[str]
    frames_analysed: int
    actions_seen: list[dict[str, object]]
    # Each reason's catalog id (and missed actions): what the flow decides with (liveness/
    # reasons.py `LivenessReason.key`); the API route says `reasons` from them in the
    # request's language, and the pages say them again after a change of language. (None
    # was a sentence without a key in replies kept before the reasons were codes.)
    reason_keys: list[dict[str, object] | None] = []
