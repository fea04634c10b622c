"""The proofing-session table and the plain value types a decision is made from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from simkyc.db.base import Base, UTCDateTime, enum_column, new_id
from simkyc.faces.match import Decision as FaceDecision


class Purpose(StrEnum):
    """What an approved session authorises (once): a new line, a SIM swap, a dispute re-proof,
    or a citizen's self-service token."""

    REGISTRATION = "registration"
    SIM_SWAP = "sim_swap"
    DISPUTE_REPROOF = "dispute_reproof"
    SELF_SERVICE = "self_service"


class Outcome(StrEnum):
    """A session's state; `pending` until decided, `manual_review` until a reviewer settles it."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    MANUAL_REVIEW = "manual_review"


class LivenessVerdict(StrEnum):
    """The liveness engine's verdict (same values as simkyc.liveness.analyzer.Verdict)."""

    LIVE = "live"
    SPOOF = "spoof"
    RETRY = "retry"


class Reason(StrEnum):
    """Why a session was not approved outright; stable codes for agents and reviewers."""

    CONSENT_MISSING = "consent_missing"
    DOCUMENT_INVALID = "document_invalid"
    DOCUMENT_NOT_ACCEPTED = "document_not_accepted"
    DOCUMENT_EXPIRED = "document_expired"
    UNDER_MINIMUM_AGE = "under_minimum_age"
    GUARDIAN_REQUIRED = "guardian_required"
    DOCUMENT_UNCHECKED = "document_unchecked"
    FACE_NO_MATCH = "face_no_match"
    FACE_REVIEW = "face_review"
    LIVENESS_SPOOF = "liveness_spoof"
    LIVENESS_INCONCLUSIVE = "liveness_inconclusive"
    HOLDER_MISSING = "holder_match_missing"
    HOLDER_NO_MATCH = "holder_no_match"
    HOLDER_REVIEW = "holder_review"
    DOCUMENT_TEXT_MISMATCH = "document_text_mismatch"
    REVIEWER_APPROVED = "reviewer_approved"
    REVIEWER_REJECTED = "reviewer_rejected"


class CheckKind(StrEnum):
    """How a failed document check weighs: an invalid document rejects; the card's text
    disagreeing with the typed data sends the case to a reviewer (OCR can misread)."""

    VALIDITY = "validity"
    CROSS_CHECK = "cross_check"


@dataclass(frozen=True)
class DocumentCheck:
    """One document check: `passed` None when it could not be judged; `code` a finding code;
    `message` a sentence for the agent (not kept in the evidence record).

    A cross-check that could not be judged (a field OCR could not read) is recorded only."""

    name: str
    passed: bool | None
    code: str | None = None
    message: str | None = field(default=None, kw_only=True)
    kind: CheckKind = field(default=CheckKind.VALIDITY, kw_only=True)


@dataclass(frozen=True)
class FaceCheck:
    """A 1:1 face comparison as the face engine reported it, with the versions behind it."""

    score: float
    threshold: float
    decision: FaceDecision
    model_id: str
    calibration_id: str


@dataclass(frozen=True)
class LivenessCheck:
    """The liveness verdict and the version of the checks that gave it."""

    verdict: LivenessVerdict
    version: str


class ProofingSession(Base):
    """Who proofed whom, when, for what; the checks, the decision and the evidence hash."""

    __tablename__ = "proofing_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    purpose: Mapped[Purpose] = mapped_column(enum_column(Purpose))
    operator_id: Mapped[str | None] = mapped_column(ForeignKey("operators.id"))
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("principals.id"))
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    # The line a swap or re-proof is about; no foreign key (lines point back at sessions).
    line_id: Mapped[str | None] = mapped_column(String(32), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consent_version: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[Outcome] = mapped_column(enum_column(Outcome))
    reasons: Mapped[str] = mapped_column(Text, default="[]")
    face_score: Mapped[float | None] = mapped_column(Float)
    face_threshold: Mapped[float | None] = mapped_column(Float)
    model_id: Mapped[str | None] = mapped_column(String(64))
    calibration_id: Mapped[str | None] = mapped_column(String(128))
    liveness_verdict: Mapped[LivenessVerdict | None] = mapped_column(enum_column(LivenessVerdict))
    liveness_version: Mapped[str | None] = mapped_column(String(64))
    holder_score: Mapped[float | None] = mapped_column(Float)
    holder_threshold: Mapped[float | None] = mapped_column(Float)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("principals.id"))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consumed_for: Mapped[str | None] = mapped_column(String(64))
    evidence: Mapped[str | None] = mapped_column(Text)
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    # The live capture's face template, sealed; moved to the person when a line is issued.
    template_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
