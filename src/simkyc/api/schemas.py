"""Request and response bodies of the HTTP API (one schema per use)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from simkyc.auth.models import Role
from simkyc.db.idempotency import MAX_KEY_LENGTH
from simkyc.proofing.documents import DocumentKind
from simkyc.proofing.flow import TypedDocument
from simkyc.proofing.models import DocumentCheck, Purpose
from simkyc.proofing.schemas import (
    CardFieldOut,
    ChallengeOut,
    FaceSubmitted,
    LivenessOut,
    ProofingView,
)
from simkyc.records.models import ServiceType
from simkyc.registry.batch import MAX_BATCH
from simkyc.registry.schemas import LineView

# The evidence steps' replies are the proofing flow's; named here with the API's others.
__all__ = ["CardFieldOut", "ChallengeOut", "FaceSubmitted", "LivenessOut"]


class Request(BaseModel):
    """Unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


class ApplicantIn(Request):
    """The applicant's document data as the agent typed it from the document."""

    document_kind: DocumentKind = DocumentKind.CN_RESIDENT_ID
    country: str | None = Field(
        default=None, min_length=2, max_length=3,
        description="The issuing country (ISO 3166-1 alpha-2 or alpha-3); it must agree with "
        "the document's own (CHN for a CN resident ID, the MRZ's issuing state). Unset: taken "
        "from the document; a passport without MRZ needs it.")
    number: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    birth_date: date
    expiry: date | None = Field(default=None, description="The document's expiry date (read "
                                "from the MRZ when not typed; compared with the card's text).")
    mrz: list[str] | None = Field(default=None, max_length=3,
                                  description="The MRZ rows, when the document has one.")


class ConsentIn(Request):
    given: bool
    version: str = Field(min_length=1, max_length=32)


class ProofingCreate(Request):
    """Open a proofing session; a SIM swap or re-proof names its line."""

    purpose: Purpose = Purpose.REGISTRATION
    line_id: str | None = None
    applicant: ApplicantIn
    consent: ConsentIn
    device_id: str | None = Field(
        default=None, max_length=128,
        description="The applicant's device, when the client knows it (self-service sign-in "
        "attempts are limited per device as well as per person).")

    def typed_document(self) -> TypedDocument:
        """The typed applicant data, as the proofing flow takes it."""
        a = self.applicant
        return TypedDocument(kind=a.document_kind, country=a.country, number=a.number,
                             name=a.name, birth_date=a.birth_date, expiry=a.expiry,
                             mrz=tuple(a.mrz) if a.mrz else None)


class DocumentCheckOut(BaseModel):
    name: str
    passed: bool | None
    code: str | None
    message: str | None = None


# Who is shown a session's face scores: those who review and oversee decisions, never those
# who run the sessions (an agent, the citizen portal's key).
SCORE_READERS = frozenset({Role.REVIEWER, Role.AUDITOR, Role.ADMIN})


class ProofingPublic(ProofingView):
    """A session, with the document checks while its evidence is held."""

    document_checks: list[DocumentCheckOut] = Field(default_factory=list)

    @classmethod
    def of(cls, view: ProofingView, checks: Sequence[DocumentCheck] = (), *,
           reader: Role) -> ProofingPublic:
        """A session as `reader` is shown it, with its document checks while they are held.

        An agent (and the citizen portal, which runs self-service under an agent's key) gets
        the outcome, the reasons and the thresholds but not the face scores (`face_score`,
        `holder_score`: null): whoever runs the sessions could otherwise learn from each one
        how near an edited face came to the portrait or to the holder's enrolled template
        (hill-climbing, as on /v1/faces/verify). `SCORE_READERS` see them; a review needs
        them.
        """
        out = [DocumentCheckOut(name=c.name, passed=c.passed, code=c.code, message=c.message)
               for c in checks]
        shown = view.model_dump()
        if reader not in SCORE_READERS:
            shown |= {"face_score": None, "holder_score": None}
        return cls(**shown, document_checks=out)


class DocumentSource(StrEnum):
    """What the document upload shows: the whole card, or its portrait already cut out."""

    CARD = "card"
    PORTRAIT = "portrait"


class LineCreate(Request):
    proofing_id: str
    msisdn: str = Field(min_length=1, max_length=32)
    iccid: str = Field(min_length=1, max_length=32)
    service: ServiceType = ServiceType.MOBILE


class LineBatchItem(LineCreate):
    """One registration of a bulk request, with its own idempotency key."""

    idempotency_key: str | None = Field(default=None, min_length=1, max_length=MAX_KEY_LENGTH)


class LineBatch(Request):
    """Up to 1,000 registrations judged and committed together."""

    items: list[LineBatchItem] = Field(min_length=1, max_length=MAX_BATCH)


class ItemError(BaseModel):
    """Why one item was refused: the code and message a single registration would get."""

    code: str
    message: str
    details: dict[str, object] = Field(default_factory=dict)


class LineBatchResult(BaseModel):
    """One item's answer, in request order: `line` or `error`."""

    line: LineView | None = None
    error: ItemError | None = None


class LineBatchOut(BaseModel):
    registered: int
    refused: int
    results: list[LineBatchResult]


class SimSwap(Request):
    proofing_id: str
    iccid: str = Field(min_length=1, max_length=32)


class ReviewDecision(Request):
    approve: bool


class DisputeResolution(Request):
    proofing_id: str = Field(description="The holder's approved dispute re-proof session.")


class OperatorCreate(Request):
    name: str = Field(min_length=1, max_length=200)
    jurisdiction: str = Field(min_length=2, max_length=8)


class PrincipalCreate(Request):
    role: Role
    label: str = Field(min_length=1, max_length=200)
    operator_id: str | None = None


class KeyOut(BaseModel):
    """A new API key or citizen token, shown this once."""

    principal_id: str
    key_id: str
    token: str
    expires_at: datetime | None


class AuditEntryOut(BaseModel):
    seq: int
    at: datetime
    actor_id: str
    actor_role: str
    operator_id: str | None
    action: str
    purpose: str
    object_id: str | None
    hash: str


class LogVerificationOut(BaseModel):
    """The verdict of recomputing the whole transparency log (privacy.tlog.verify_log)."""

    ok: bool
    size: int
    checkpoints: int
    first_bad_index: int | None
    problems: list[dict[str, object]]


class CheckpointOut(BaseModel):
    """The latest signed checkpoint: the C2SP signed note and its parts, and the log's key."""

    note: str
    origin: str
    size: int
    root: str = Field(description="Base64 SHA-256 root hash (RFC 9162).")
    vkey: str = Field(description="The log's Ed25519 verifier key, signed-note format.")


class ProofOut(BaseModel):
    """An RFC 9162 inclusion or consistency proof: base64 hashes, leaf side first."""

    hashes: list[str]
