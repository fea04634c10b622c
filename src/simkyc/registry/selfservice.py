"""Citizen self-service: a token from a proofing session, every line under their ID (masked),
who accessed their data, and "not mine" (the line is disputed until re-proof or deadline)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from simkyc.auth.actors import Actor, require
from simkyc.auth.models import Principal, Role
from simkyc.errors import InvalidLineState, PermissionDenied, RecordNotFound
from simkyc.privacy import audit, tlog
from simkyc.privacy.audit import AccessPurpose, AuditAction, entries_about
from simkyc.privacy.keyring import Keyring
from simkyc.privacy.tlog import LogKeys
from simkyc.proofing.models import ProofingSession, Purpose
from simkyc.proofing.service import consume
from simkyc.records.idempotent import rolled_back_on_error
from simkyc.records.models import Dispute, DisputeStatus, Line, LineStatus, Operator
from simkyc.records.persons import lock_person
from simkyc.registry.accounts import add_api_key, add_principal
from simkyc.registry.disputes import dispute_view
from simkyc.registry.numbers import mask_msisdn
from simkyc.registry.schemas import (
    AccessView,
    CitizenDisputeView,
    DisputeView,
    EntryProofView,
    IssuedKey,
    MaskedLine,
)
from simkyc.registry.sealed_numbers import NumberKind, open_number


def issue_citizen_token(
    session: Session, *, proofing_id: str, ttl_s: float, now: datetime
) -> IssuedKey:
    """Spend an approved self-service session on a short-lived token for that person."""
    record = session.get(ProofingSession, proofing_id)
    if record is None:
        raise RecordNotFound("proofing session", proofing_id)
    consume(session, proofing_id=proofing_id, purpose=Purpose.SELF_SERVICE,
            person_id=record.person_id, operation="citizen_token", now=now)
    principal = _citizen(session, record.person_id, now)
    issued = add_api_key(session, principal_id=principal.id, now=now,
                         expires_at=now + timedelta(seconds=ttl_s))
    actor = Actor(principal_id=principal.id, role=Role.CITIZEN, person_id=record.person_id)
    audit.append(session, actor=actor, action=AuditAction.TOKEN_ISSUED,
                 purpose=AccessPurpose.SELF_SERVICE, subject_id=record.person_id,
                 object_id=proofing_id, now=now)
    session.commit()
    return issued


def my_lines(session: Session, *, actor: Actor, keyring: Keyring,
             now: datetime) -> list[MaskedLine]:
    """Every line under the citizen's ID, at every operator, numbers masked."""
    person_id = _person_of(actor)
    rows = session.execute(
        select(Line, Operator.name).join(Operator, Operator.id == Line.operator_id)
        .where(Line.holder_id == person_id).order_by(Line.created_at, Line.id)).all()
    audit.append(session, actor=actor, action=AuditAction.LINES_VIEWED,
                 purpose=AccessPurpose.SELF_SERVICE, subject_id=person_id, object_id=None,
                 now=now)
    session.commit()
    return [MaskedLine(id=line.id, msisdn_masked=mask_msisdn(open_number(
                keyring, NumberKind.MSISDN, line.msisdn_ct, line_id=line.id)), operator=name,
                       service=line.service, since=line.created_at, status=line.status)
            for line, name in rows]


def my_accesses(session: Session, *, actor: Actor, now: datetime,
                keys: LogKeys | None = None) -> list[AccessView]:
    """Who accessed the citizen's data, when and why (newest first); with the log's keys,
    each integrated entry carries its inclusion proof against the latest checkpoint."""
    person_id = _person_of(actor)
    entries = entries_about(session, subject_id=person_id)
    proofs = {} if keys is None else tlog.entry_proofs(session, entries=entries, keys=keys)
    audit.append(session, actor=actor, action=AuditAction.ACCESSES_VIEWED,
                 purpose=AccessPurpose.SELF_SERVICE, subject_id=person_id, object_id=None,
                 now=now)
    session.commit()
    return [AccessView(at=e.at, actor_id=e.actor_id, actor_role=e.actor_role,
                       operator_id=e.operator_id, action=e.action.value,
                       purpose=e.purpose.value, seq=e.seq,
                       proof=None if e.seq not in proofs
                       else EntryProofView.model_validate(proofs[e.seq].to_json()))
            for e in entries]


def dispute_line(
    session: Session, *, actor: Actor, line_id: str, reproof_hours: float, keyring: Keyring,
    now: datetime,
) -> CitizenDisputeView:
    """"Not mine": the line is disputed and queued to its operator; unless its holder
    re-proofs within `reproof_hours` it is suspended. Disputing twice returns the open one.
    The reply masks the number (the operator's queue shows it)."""
    person_id = _person_of(actor)
    line = session.get(Line, line_id)
    if line is None or line.holder_id != person_id:
        raise RecordNotFound("line", line_id)
    with rolled_back_on_error(session):
        view = _open_dispute(session, actor=actor, line=line, reproof_hours=reproof_hours,
                             keyring=keyring, now=now)
    return CitizenDisputeView(id=view.id, line_id=view.line_id,
                              msisdn_masked=mask_msisdn(view.msisdn), status=view.status,
                              opened_at=view.opened_at, deadline=view.deadline)


def _open_dispute(session: Session, *, actor: Actor, line: Line, reproof_hours: float,
                  keyring: Keyring, now: datetime) -> DisputeView:
    person_id, line_id = line.holder_id, line.id
    lock_person(session, person_id)
    open_dispute = session.execute(select(Dispute).where(
        Dispute.line_id == line_id, Dispute.status == DisputeStatus.OPEN)).scalar_one_or_none()
    if open_dispute is not None:
        return dispute_view(open_dispute, line, keyring)
    session.refresh(line)  # as it is now that we hold the lock
    if line.status is LineStatus.CANCELLED:
        raise InvalidLineState("the line is cancelled already.")
    dispute = Dispute(line_id=line.id, operator_id=line.operator_id, status=DisputeStatus.OPEN,
                      opened_at=now, deadline=now + timedelta(hours=reproof_hours))
    line.status, line.status_at = LineStatus.DISPUTED, now
    session.add(dispute)
    session.flush()
    audit.append(session, actor=actor, action=AuditAction.LINE_DISPUTED,
                 purpose=AccessPurpose.DISPUTE, subject_id=person_id, object_id=line.id,
                 now=now, detail={"dispute_id": dispute.id})
    session.commit()
    return dispute_view(dispute, line, keyring)


def _person_of(actor: Actor) -> str:
    require(actor, Role.CITIZEN)
    if actor.person_id is None:
        raise PermissionDenied("this citizen token is not bound to a person.")
    return actor.person_id


def _citizen(session: Session, person_id: str, now: datetime) -> Principal:
    found = session.execute(select(Principal).where(
        Principal.person_id == person_id, Principal.role == Role.CITIZEN)).scalars().first()
    return found or add_principal(session, role=Role.CITIZEN, label="citizen", now=now,
                                  person_id=person_id)
