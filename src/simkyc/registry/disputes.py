"""The operators' dispute queue, re-proof, and the deadline job that suspends the rest."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from simkyc.auth.actors import Actor, require
from simkyc.auth.models import Role
from simkyc.errors import InvalidLineState, RecordNotFound
from simkyc.privacy import audit
from simkyc.privacy.audit import AccessPurpose, AuditAction
from simkyc.privacy.keyring import Keyring
from simkyc.proofing.models import Purpose
from simkyc.proofing.service import consume, require_holder_match, usable
from simkyc.records.idempotent import rolled_back_on_error
from simkyc.records.models import Dispute, DisputeStatus, Line, LineStatus
from simkyc.records.persons import lock_person
from simkyc.registry.schemas import DisputeView
from simkyc.registry.sealed_numbers import NumberKind, open_number

logger = logging.getLogger(__name__)


def dispute_queue(session: Session, *, actor: Actor, keyring: Keyring,
                  now: datetime) -> list[DisputeView]:
    """The actor's operator's open disputes, nearest deadline first (each view audited)."""
    require(actor, Role.AGENT, Role.REVIEWER)
    rows = session.execute(
        select(Dispute, Line).join(Line, Line.id == Dispute.line_id)
        .where(Dispute.operator_id == actor.operator_id, Dispute.status == DisputeStatus.OPEN)
        .order_by(Dispute.deadline, Dispute.id)).all()
    for dispute, line in rows:
        audit.append(session, actor=actor, action=AuditAction.PERSON_READ,
                     purpose=AccessPurpose.DISPUTE, subject_id=line.holder_id,
                     object_id=dispute.id, now=now)
    session.commit()
    return [dispute_view(dispute, line, keyring) for dispute, line in rows]


def resolve_dispute(
    session: Session, *, actor: Actor, dispute_id: str, proofing_id: str, keyring: Keyring,
    now: datetime,
) -> DisputeView:
    """The holder re-proofed in time (an approved re-proof session for this line, face
    matched to the holder's template): the dispute closes and the line is active again."""
    require(actor, Role.AGENT)
    with rolled_back_on_error(session):
        dispute, line = _dispute(session, actor, dispute_id)
        lock_person(session, line.holder_id)
        record = usable(session, proofing_id=proofing_id, purpose=Purpose.DISPUTE_REPROOF,
                        person_id=line.holder_id, now=now, line_id=line.id)
        require_holder_match(record)
        if not _close(session, dispute.id, DisputeStatus.REPROOFED, now, resolved_by=record.id):
            raise InvalidLineState("the dispute is closed already.")
        consume(session, proofing_id=proofing_id, purpose=Purpose.DISPUTE_REPROOF,
                person_id=line.holder_id, operation="resolve_dispute", now=now, line_id=line.id)
        line.status, line.status_at = LineStatus.ACTIVE, now
        audit.append(session, actor=actor, action=AuditAction.DISPUTE_REPROOFED,
                     purpose=AccessPurpose.DISPUTE, subject_id=line.holder_id,
                     object_id=dispute.id, now=now, detail={"proofing_id": record.id})
        session.commit()
    session.refresh(dispute)
    return dispute_view(dispute, line, keyring)


def apply_dispute_deadlines(session: Session, *, actor: Actor, now: datetime) -> int:
    """Suspend every disputed line whose deadline passed without re-proof; one transaction
    per line (lock order: person, dispute, line, audit head). Returns how many."""
    require(actor, Role.SYSTEM, Role.ADMIN)
    overdue = session.execute(select(Dispute.id, Line.holder_id).join(
        Line, Line.id == Dispute.line_id).where(
        Dispute.status == DisputeStatus.OPEN, Dispute.deadline <= now)).all()
    session.commit()
    suspended = 0
    for dispute_id, holder_id in overdue:
        suspended += _suspend(session, actor, dispute_id, holder_id, now)
    logger.info("dispute deadlines: %d of %d overdue lines suspended", suspended, len(overdue))
    return suspended


def dispute_view(dispute: Dispute, line: Line, keyring: Keyring) -> DisputeView:
    """The queue's view of a dispute."""
    msisdn = open_number(keyring, NumberKind.MSISDN, line.msisdn_ct, line_id=line.id)
    return DisputeView(id=dispute.id, line_id=line.id, msisdn=msisdn,
                       status=dispute.status, opened_at=dispute.opened_at,
                       deadline=dispute.deadline)


def _suspend(session: Session, actor: Actor, dispute_id: str, holder_id: str,
             now: datetime) -> int:
    lock_person(session, holder_id)
    if not _close(session, dispute_id, DisputeStatus.SUSPENDED, now):
        session.rollback()  # re-proofed meanwhile
        return 0
    dispute = session.get(Dispute, dispute_id, populate_existing=True)
    assert dispute is not None
    line = session.get(Line, dispute.line_id, populate_existing=True)
    assert line is not None
    line.status, line.status_at = LineStatus.SUSPENDED, now
    audit.append(session, actor=actor, action=AuditAction.LINE_SUSPENDED,
                 purpose=AccessPurpose.DISPUTE, subject_id=holder_id, object_id=line.id,
                 now=now, detail={"dispute_id": dispute_id, "cause": "reproof_deadline"})
    session.commit()
    return 1


def _close(session: Session, dispute_id: str, status: DisputeStatus, now: datetime,
           resolved_by: str | None = None) -> bool:
    """Close an open dispute; False if it was not open (someone closed it first)."""
    result = cast(CursorResult[tuple[()]], session.execute(
        update(Dispute).where(Dispute.id == dispute_id, Dispute.status == DisputeStatus.OPEN)
        .values(status=status, closed_at=now, resolved_by=resolved_by)
        .execution_options(synchronize_session=False)))
    return result.rowcount == 1


def _dispute(session: Session, actor: Actor, dispute_id: str) -> tuple[Dispute, Line]:
    dispute = session.get(Dispute, dispute_id)
    line = session.get(Line, dispute.line_id) if dispute else None
    if dispute is None or line is None or dispute.operator_id != actor.operator_id:
        raise RecordNotFound("dispute", dispute_id)
    return dispute, line
