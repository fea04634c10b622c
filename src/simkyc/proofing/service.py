"""Proofing sessions: start (consent, person), conclude (checks -> decision -> evidence),
review, and consume (an approved session authorises one line operation, before it expires).

Every function that reads or writes a person's data appends an audit entry and commits
(start_session only flushes: the proofing flow commits it with the session's held data).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from simkyc.auth.actors import Actor, require
from simkyc.auth.models import Role
from simkyc.errors import (
    ConsentMissing,
    PermissionDenied,
    ProofingAlreadyDecided,
    ProofingAlreadyUsed,
    ProofingExpired,
    ProofingMismatch,
    ProofingNotApproved,
    RecordNotFound,
)
from simkyc.faces.match import Decision as FaceDecision
from simkyc.faces.policy import Comparison, FacePolicy, cosine_similarity
from simkyc.privacy import audit
from simkyc.privacy.audit import AccessPurpose, AuditAction
from simkyc.privacy.crypto import place
from simkyc.privacy.keyring import Keyring
from simkyc.privacy.retention import open_image
from simkyc.privacy.templates import Template, open_template, seal_template, template_place
from simkyc.proofing.decision import decide
from simkyc.proofing.documents import TEXT_CHECK_PREFIX
from simkyc.proofing.evidence import document_fields, record_evidence, stored_parts
from simkyc.proofing.models import (
    CheckKind,
    DocumentCheck,
    FaceCheck,
    LivenessCheck,
    Outcome,
    ProofingSession,
    Purpose,
    Reason,
)
from simkyc.proofing.schemas import Consent, ProofingView
from simkyc.records.models import Line, Person
from simkyc.records.persons import Applicant, find_or_enrol
from simkyc.records.signin import DEFAULT_LIMITS, SignInLimits, holder_for_self_service

ABOUT_A_LINE = (Purpose.SIM_SWAP, Purpose.DISPUTE_REPROOF)
# Sessions whose live face must match the holder's enrolled template.
HOLDER_BOUND = (*ABOUT_A_LINE, Purpose.SELF_SERVICE)
AUDIT_PURPOSE = {
    Purpose.REGISTRATION: AccessPurpose.REGISTRATION, Purpose.SIM_SWAP: AccessPurpose.SIM_SWAP,
    Purpose.DISPUTE_REPROOF: AccessPurpose.DISPUTE,
    Purpose.SELF_SERVICE: AccessPurpose.SELF_SERVICE,
}


def start_session(
    session: Session, *, actor: Actor, purpose: Purpose, applicant: Applicant,
    consent: Consent, keyring: Keyring, now: datetime, line_id: str | None = None,
    device_id: str | None = None, sign_in: SignInLimits = DEFAULT_LIMITS,
) -> ProofingView:
    """Open a session for an applicant who consented; a swap or re-proof names its line, and
    only that line's holder can be proofed for it; self-service only for a holder with an
    enrolled template whose typed name and birth date are the stored ones (records.signin).
    Flushed, not committed: the caller commits it with what else the start keeps (the held
    typed data, a kept reply), so a crash between them leaves nothing half-started."""
    require(actor, Role.AGENT)
    if not consent.given:
        raise ConsentMissing("the applicant has not consented to identity proofing.")
    if purpose is Purpose.SELF_SERVICE:
        person = holder_for_self_service(session, keyring=keyring, actor=actor,
                                         applicant=applicant, device_id=device_id,
                                         limits=sign_in, now=now)
    else:
        person = find_or_enrol(session, keyring=keyring, applicant=applicant, now=now)
    _check_line(session, actor=actor, purpose=purpose, person=person, line_id=line_id)
    record = ProofingSession(
        purpose=purpose, operator_id=actor.operator_id, agent_id=actor.principal_id,
        person_id=person.id, line_id=line_id, started_at=now, consent_at=consent.at,
        consent_version=consent.version, outcome=Outcome.PENDING, reasons="[]",
    )
    session.add(record)
    session.flush()
    _audit(session, actor, AuditAction.PROOFING_STARTED, record, now)
    return view(record)


def conclude(
    session: Session, *, actor: Actor, proofing_id: str, documents: Sequence[DocumentCheck],
    face: FaceCheck, liveness: LivenessCheck, keyring: Keyring, approval_ttl_s: float,
    now: datetime, probe: Template | None = None, images: Mapping[str, str] | None = None,
    face_policy: FacePolicy | None = None,
) -> ProofingView:
    """Decide a pending session from the engines' results and seal the evidence record.

    `probe` is the live capture's template: kept (sealed) to enrol the holder when a line is
    issued, and for a swap or re-proof compared 1:1 with the line holder's enrolled template
    through `face_policy` (the deployment's one face policy; without it a holder who does
    not reach `face.threshold` goes to review, never refused outright).
    `images` maps image kinds to their SHA-256 (the images themselves are not kept here)."""
    record = _pending(session, actor=actor, proofing_id=proofing_id)
    holder = _holder_check(session, keyring, actor=actor, record=record, face=face,
                           probe=probe, now=now, policy=face_policy)
    if record.purpose is Purpose.SELF_SERVICE:
        documents = [*documents, *card_text_gate(documents)]
    decision = decide(consent=True, documents=documents, face=face, liveness=liveness,
                      holder=holder, holder_required=record.purpose in HOLDER_BOUND)
    _fill_checks(record, face, liveness, holder)
    _settle(record, outcome=decision.outcome, reasons=decision.reasons, actor=actor,
            approval_ttl_s=approval_ttl_s, now=now)
    if probe is not None and record.purpose is Purpose.REGISTRATION:
        record.template_ct = seal_template(keyring, probe, where=place(
            "proofing_sessions", "template_ct", record.id))
    record_evidence(record, documents=document_fields(documents), images=dict(images or {}))
    _audit(session, actor, AuditAction.PROOFING_DECIDED, record, now)
    session.commit()
    return view(record)


def review(
    session: Session, *, actor: Actor, proofing_id: str, approve: bool, approval_ttl_s: float,
    now: datetime,
) -> ProofingView:
    """A reviewer settles a session in manual review; the evidence record says so."""
    record = _get(session, proofing_id)
    require(actor, Role.REVIEWER, operator_id=record.operator_id)
    if record.outcome is not Outcome.MANUAL_REVIEW:
        raise ProofingAlreadyDecided(f"the session is {record.outcome.value}, not in review.")
    reason = Reason.REVIEWER_APPROVED if approve else Reason.REVIEWER_REJECTED
    outcome = Outcome.APPROVED if approve else Outcome.REJECTED
    documents, images, _ = stored_parts(record)
    reasons = (*(Reason(r) for r in json.loads(record.reasons)), reason)
    _settle(record, outcome=outcome, reasons=reasons, actor=actor,
            approval_ttl_s=approval_ttl_s, now=now)
    record_evidence(record, documents=documents, images=images, review={
        "reviewer": actor.principal_id, "approved": approve})
    _audit(session, actor, AuditAction.PROOFING_REVIEWED, record, now)
    session.commit()
    return view(record)


def review_queue(session: Session, *, actor: Actor, limit: int = 100) -> list[ProofingView]:
    """The reviewer's operator's sessions waiting in manual review, oldest first."""
    require(actor, Role.REVIEWER)
    stmt = (select(ProofingSession)
            .where(ProofingSession.outcome == Outcome.MANUAL_REVIEW,
                   ProofingSession.operator_id == actor.operator_id)
            .order_by(ProofingSession.decided_at, ProofingSession.id).limit(limit))
    return [view(record) for record in session.scalars(stmt)]


def consume(
    session: Session, *, proofing_id: str, purpose: Purpose, person_id: str,
    operation: str, now: datetime, line_id: str | None = None,
) -> ProofingSession:
    """Spend an approved session on one operation (flushed, not committed): it must be for
    this purpose, person (and line), approved, unexpired and unused. The conditional UPDATE
    makes two concurrent uses impossible on either backend."""
    record = usable(session, proofing_id=proofing_id, purpose=purpose, person_id=person_id,
                    now=now, line_id=line_id)
    result = cast(CursorResult[tuple[()]], session.execute(
        update(ProofingSession)
        .where(ProofingSession.id == proofing_id, ProofingSession.consumed_at.is_(None))
        .values(consumed_at=now, consumed_for=operation)
        .execution_options(synchronize_session=False)))
    if result.rowcount != 1:
        raise ProofingAlreadyUsed("this proofing session has already been used.")
    session.refresh(record)
    return record


def usable(
    session: Session, *, proofing_id: str, purpose: Purpose, person_id: str, now: datetime,
    line_id: str | None = None,
) -> ProofingSession:
    """The session if it can authorise this operation now; the first reason it cannot, else."""
    record = _get(session, proofing_id)
    require_usable(record, purpose=purpose, person_id=person_id, now=now, line_id=line_id)
    return record


class Usable(Protocol):
    """What `require_usable` reads of a session: a row of it, or a plain record of those
    columns (the registration judge reads only them)."""

    @property
    def purpose(self) -> Purpose: ...
    @property
    def person_id(self) -> str: ...
    @property
    def line_id(self) -> str | None: ...
    @property
    def outcome(self) -> Outcome: ...
    @property
    def consumed_at(self) -> datetime | None: ...
    @property
    def expires_at(self) -> datetime | None: ...


def require_usable(record: Usable, *, purpose: Purpose, person_id: str, now: datetime,
                   line_id: str | None = None) -> None:
    """Raise the first reason a loaded session cannot authorise this operation now."""
    if record.purpose is not purpose or record.person_id != person_id or (
            line_id is not None and record.line_id != line_id):
        raise ProofingMismatch(f"this session was for another {_mismatch(record, purpose)}.")
    if record.outcome is not Outcome.APPROVED:
        raise ProofingNotApproved(f"the session is {record.outcome.value}.")
    if record.consumed_at is not None:
        raise ProofingAlreadyUsed("this proofing session has already been used.")
    if record.expires_at is None or record.expires_at <= now:
        raise ProofingExpired("the approval has expired: proof the applicant again.")


def require_holder_match(record: ProofingSession) -> None:
    """The session's live face matched the holder's template, or a reviewer approved it."""
    matched = record.holder_score is not None and record.holder_threshold is not None and (
        record.holder_score >= record.holder_threshold)
    if not matched and Reason.REVIEWER_APPROVED.value not in json.loads(record.reasons):
        raise ProofingMismatch("the session did not match the line holder's face.")


def get_session(session: Session, *, actor: Actor, proofing_id: str) -> ProofingView:
    """A session's state, for staff of its operator, auditors and admins."""
    record = _get(session, proofing_id)
    require(actor, Role.AGENT, Role.REVIEWER, Role.AUDITOR, Role.ADMIN,
            operator_id=record.operator_id)
    return view(record)


def read_retained_image(
    session: Session, *, actor: Actor, keyring: Keyring, media_id: str, now: datetime
) -> bytes:
    """A retained image in clear, for a reviewer or auditor (audited)."""
    require(actor, Role.REVIEWER, Role.AUDITOR)
    proofing_id, image = open_image(session, keyring=keyring, media_id=media_id)
    record = _get(session, proofing_id)
    require(actor, Role.REVIEWER, Role.AUDITOR, operator_id=record.operator_id)
    audit.append(session, actor=actor, action=AuditAction.MEDIA_READ,
                 purpose=AccessPurpose.REVIEW, subject_id=record.person_id, object_id=media_id,
                 now=now)
    session.commit()
    return image


def view(record: ProofingSession) -> ProofingView:
    """The public form of a session row."""
    return ProofingView(
        id=record.id, purpose=record.purpose, operator_id=record.operator_id,
        agent_id=record.agent_id, person_id=record.person_id, line_id=record.line_id,
        started_at=record.started_at, outcome=record.outcome,
        reasons=tuple(Reason(r) for r in json.loads(record.reasons)),
        face_score=record.face_score, face_threshold=record.face_threshold,
        model_id=record.model_id, calibration_id=record.calibration_id,
        liveness_verdict=record.liveness_verdict, holder_score=record.holder_score,
        holder_threshold=record.holder_threshold, decided_at=record.decided_at,
        expires_at=record.expires_at, consumed_at=record.consumed_at,
        evidence_sha256=record.evidence_sha256,
    )


def _get(session: Session, proofing_id: str) -> ProofingSession:
    record = session.get(ProofingSession, proofing_id, populate_existing=True)
    if record is None:
        raise RecordNotFound("proofing session", proofing_id)
    return record


def _pending(session: Session, *, actor: Actor, proofing_id: str) -> ProofingSession:
    stmt = select(ProofingSession).where(ProofingSession.id == proofing_id).with_for_update()
    record = session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()
    if record is None:
        raise RecordNotFound("proofing session", proofing_id)
    require(actor, Role.AGENT, operator_id=record.operator_id)
    if record.agent_id != actor.principal_id:
        raise PermissionDenied("only the agent who started a session concludes it.")
    if record.outcome is not Outcome.PENDING:
        raise ProofingAlreadyDecided(f"the session is already {record.outcome.value}.")
    return record


def _check_line(session: Session, *, actor: Actor, purpose: Purpose, person: Person,
                line_id: str | None) -> None:
    if purpose not in ABOUT_A_LINE:
        if line_id is not None:
            raise ProofingMismatch(f"a {purpose.value} session is not about a line.")
        return
    line = session.get(Line, line_id) if line_id else None
    if line is None or line.operator_id != actor.operator_id:
        raise RecordNotFound("line", line_id or "")
    if line.holder_id != person.id:
        raise ProofingMismatch("the applicant is not this line's holder.")


def _holder_check(
    session: Session, keyring: Keyring, *, actor: Actor, record: ProofingSession,
    face: FaceCheck, probe: Template | None, now: datetime, policy: FacePolicy | None,
) -> FaceCheck | None:
    """1:1 with the line holder's own enrolled template (the session's person is the holder,
    checked at start); None when there is nothing comparable (then: manual review)."""
    if record.purpose not in HOLDER_BOUND or probe is None:
        return None
    person = session.get(Person, record.person_id)
    if person is None or person.template_ct is None:
        return None
    enrolled = open_template(keyring, person.template_ct, where=template_place(person.id))
    audit.append(session, actor=actor, action=AuditAction.TEMPLATE_COMPARED,
                 purpose=AUDIT_PURPOSE[record.purpose], subject_id=person.id,
                 object_id=record.id, now=now)
    if enrolled.model_id != probe.model_id:
        return None
    if policy is None:  # no calibrated reject threshold at hand: below accept is review
        score = cosine_similarity(enrolled.embedding, probe.embedding)
        decision = FaceDecision.MATCH if score >= face.threshold else FaceDecision.REVIEW
        return FaceCheck(score, face.threshold, decision, face.model_id, face.calibration_id)
    outcome = policy.compare(enrolled.embedding, probe.embedding,
                             comparison=Comparison.TEMPLATE_VS_LIVE)
    return FaceCheck(outcome.score, outcome.accept_threshold, outcome.decision,
                     face.model_id, outcome.calibration_id)


def card_text_gate(documents: Sequence[DocumentCheck]) -> list[DocumentCheck]:
    """Self-service is approved only on the card with its text read and matching the typed
    data (no cut-out portrait, no unread card): else one failed cross-check (to review)."""
    text = [c for c in documents if c.name.startswith(TEXT_CHECK_PREFIX)]
    if text and all(c.passed is not False for c in text) and any(c.passed for c in text):
        return []
    return [DocumentCheck("card_text_required", False, "CARD_TEXT_REQUIRED",
                          message="Self-service needs a photo of the card whose text is read "
                          "and matches the typed data.", kind=CheckKind.CROSS_CHECK)]


def _fill_checks(record: ProofingSession, face: FaceCheck, liveness: LivenessCheck,
                 holder: FaceCheck | None) -> None:
    record.face_score, record.face_threshold = round(face.score, 6), round(face.threshold, 6)
    record.model_id, record.calibration_id = face.model_id, face.calibration_id
    record.liveness_verdict, record.liveness_version = liveness.verdict, liveness.version
    if holder is not None:
        record.holder_score = round(holder.score, 6)
        record.holder_threshold = round(holder.threshold, 6)


def _settle(record: ProofingSession, *, outcome: Outcome, reasons: Sequence[Reason],
            actor: Actor, approval_ttl_s: float, now: datetime) -> None:
    record.outcome, record.reasons = outcome, json.dumps([r.value for r in reasons])
    record.decided_at, record.decided_by = now, actor.principal_id
    approved = outcome is Outcome.APPROVED
    record.expires_at = now + timedelta(seconds=approval_ttl_s) if approved else None


def _audit(session: Session, actor: Actor, action: AuditAction, record: ProofingSession,
           now: datetime) -> None:
    detail = {"outcome": record.outcome.value, "evidence_sha256": record.evidence_sha256}
    audit.append(session, actor=actor, action=action, purpose=AUDIT_PURPOSE[record.purpose],
                 subject_id=record.person_id, object_id=record.id, now=now, detail=detail)


def _mismatch(record: Usable, purpose: Purpose) -> str:
    return "purpose" if record.purpose is not purpose else "person or line"
