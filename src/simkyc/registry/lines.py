"""Lines: register (caps, numbers, one approved session each), SIM swap, cancel, and the
refused transfer. Each flow locks the holder's person row first, so a person's line count
cannot change between the check and the insert (see simkyc.db.engine for SQLite)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from simkyc.auth.actors import Actor, require
from simkyc.auth.models import Role
from simkyc.errors import (
    InvalidLineState,
    NumberInUse,
    RecordNotFound,
    TransferForbidden,
)
from simkyc.privacy import audit
from simkyc.privacy.audit import AccessPurpose, AuditAction
from simkyc.privacy.keyring import Keyring
from simkyc.proofing.models import Purpose
from simkyc.proofing.service import consume, require_holder_match, usable
from simkyc.records.idempotent import once
from simkyc.records.models import Dispute, DisputeStatus, Line, LineStatus, Operator, ServiceType
from simkyc.records.persons import lock_person
from simkyc.registry.numbers import normalise_iccid
from simkyc.registry.schemas import LineView
from simkyc.registry.sealed_numbers import NumberKind, blind_indexes, number_columns, open_number
from simkyc.rules.line_caps import profile_for
from simkyc.rules.profiles import JurisdictionProfile

Profiles = Mapping[str, JurisdictionProfile]


def register_line(
    session: Session, *, actor: Actor, proofing_id: str, msisdn: str, iccid: str,
    service: ServiceType, profiles: Profiles, keyring: Keyring, now: datetime,
    idempotency_key: str | None = None,
) -> LineView:
    """Issue a line to the person an approved registration session proofed (committed).

    A batch of one (`batch.register_lines`), so one judge writes the rules: refused over the
    jurisdiction's cap (LINE_CAP_EXCEEDED, audited), for a number held by someone else
    (TRANSFER_FORBIDDEN) or in quarantine, and for a session that is not approved, expired
    or used. A retry with the same idempotency key returns the same line."""
    from simkyc.registry import batch  # batch builds on this module's helpers

    item = batch.Registration(proofing_id=proofing_id, msisdn=msisdn, iccid=iccid,
                              service=service, idempotency_key=idempotency_key)
    outcome = batch.register_lines(session, actor=actor, items=[item], profiles=profiles,
                                   keyring=keyring, now=now)[0]
    if outcome.error is not None:
        raise outcome.error
    assert outcome.line is not None
    return outcome.line


def swap_sim(
    session: Session, *, actor: Actor, line_id: str, proofing_id: str, iccid: str,
    keyring: Keyring, now: datetime, idempotency_key: str | None = None,
) -> LineView:
    """Move an active line to a new SIM (committed). Needs a fresh approved SIM-swap session
    for this line whose live face matched the holder's enrolled template (or a reviewer who
    approved it)."""
    require(actor, Role.AGENT)
    iccid = normalise_iccid(iccid)
    request = {"line_id": line_id, "proofing_id": proofing_id, "iccid": iccid}

    def act() -> LineView:
        line = _fresh_line(session, line_id)
        if line.status is not LineStatus.ACTIVE:
            raise InvalidLineState(f"only an active line can be swapped; this one is "
                                   f"{line.status.value}.")
        record = usable(session, proofing_id=proofing_id, purpose=Purpose.SIM_SWAP,
                        person_id=line.holder_id, now=now, line_id=line.id)
        require_holder_match(record)
        taken = blind_indexes(keyring, NumberKind.ICCID, iccid)
        if _live_with(session, Line.iccid_index.in_(taken)):
            raise NumberInUse("this ICCID belongs to another line.")
        consume(session, proofing_id=proofing_id, purpose=Purpose.SIM_SWAP,
                person_id=line.holder_id, operation="swap_sim", now=now, line_id=line.id)
        for column, value in number_columns(keyring, line_id=line.id, iccid=iccid).items():
            setattr(line, column, value)
        line.swapped_at = now
        _audit(session, actor, AuditAction.LINE_SWAPPED, line, purpose=AccessPurpose.SIM_SWAP,
               now=now, proofing_id=proofing_id)
        return line_view(line, keyring)

    return once(session, actor=actor, key=idempotency_key, operation="swap", request=request,
                kind=LineView, now=now, act=act, secret=keyring,
                first=lambda: _lock_holder(session, actor, line_id),
                conflict=lambda: NumberInUse("the ICCID was just taken."))


def cancel_line(
    session: Session, *, actor: Actor, line_id: str, profiles: Profiles, keyring: Keyring,
    now: datetime, idempotency_key: str | None = None,
) -> LineView:
    """Cancel a line (committed); its number is quarantined for the jurisdiction's period
    before it can be issued again, and an open dispute on it is closed."""
    require(actor, Role.AGENT, Role.ADMIN)
    request = {"line_id": line_id}

    def act() -> LineView:
        line = _fresh_line(session, line_id)
        if line.status is LineStatus.CANCELLED:
            raise InvalidLineState("the line is already cancelled.")
        operator = session.get(Operator, line.operator_id)
        assert operator is not None
        days = profile_for(profiles, operator.jurisdiction).quarantine_days
        line.status, line.status_at = LineStatus.CANCELLED, now
        line.quarantine_until = now + timedelta(days=days)
        _close_disputes(session, line.id, now)
        _audit(session, actor, AuditAction.LINE_CANCELLED, line,
               purpose=AccessPurpose.REGISTRATION, now=now)
        return line_view(line, keyring)

    return once(session, actor=actor, key=idempotency_key, operation="cancel",
                request=request, kind=LineView, now=now, act=act, secret=keyring,
                first=lambda: _lock_holder(session, actor, line_id),
                conflict=lambda: InvalidLineState("the line changed meanwhile."))


def request_transfer(
    session: Session, *, actor: Actor, line_id: str, profiles: Profiles, now: datetime
) -> NoReturn:
    """Numbers are not transferred between holders: always TRANSFER_FORBIDDEN (audited)."""
    require(actor, Role.AGENT, Role.ADMIN)
    line = _staff_line(session, actor, line_id)
    operator = session.get(Operator, line.operator_id)
    assert operator is not None
    days = profile_for(profiles, operator.jurisdiction).quarantine_days
    _audit(session, actor, AuditAction.TRANSFER_REFUSED, line,
           purpose=AccessPurpose.REGISTRATION, now=now)
    session.commit()
    raise transfer_forbidden(days)


def get_line(session: Session, *, actor: Actor, line_id: str, keyring: Keyring,
             now: datetime) -> LineView:
    """A line of the actor's operator (staff) or any line (admin, auditor); the read is
    audited (the holder sees it among their accesses)."""
    require(actor, Role.AGENT, Role.REVIEWER, Role.ADMIN, Role.AUDITOR)
    line = _staff_line(session, actor, line_id)
    purpose = (AccessPurpose.OVERSIGHT if actor.role in (Role.ADMIN, Role.AUDITOR)
               else AccessPurpose.CUSTOMER_SERVICE)
    audit.append(session, actor=actor, action=AuditAction.LINE_READ, purpose=purpose,
                 subject_id=line.holder_id, object_id=line.id, now=now)
    session.commit()
    return line_view(line, keyring)


def transfer_forbidden(quarantine_days: int) -> TransferForbidden:
    """The refusal, with the way that does work."""
    return TransferForbidden(
        "A number cannot be transferred to another person. The current holder cancels the "
        f"line; the number is then quarantined for {quarantine_days} days, after which it "
        "can be reissued and the new holder registers it with their own identity proofing.",
        quarantine_days=quarantine_days)


def line_view(line: Line, keyring: Keyring) -> LineView:
    """The operator's view of a line row (its numbers opened)."""
    msisdn = open_number(keyring, NumberKind.MSISDN, line.msisdn_ct, line_id=line.id)
    iccid = open_number(keyring, NumberKind.ICCID, line.iccid_ct, line_id=line.id)
    return LineView(id=line.id, msisdn=msisdn, iccid=iccid, service=line.service,
                    operator_id=line.operator_id, status=line.status,
                    created_at=line.created_at, approved_by=line.approved_by)


def operator_of(session: Session, actor: Actor) -> Operator:
    """The actor's operator (RECORD_NOT_FOUND for an actor without one)."""
    operator = session.get(Operator, actor.operator_id) if actor.operator_id else None
    if operator is None:
        raise RecordNotFound("operator", actor.operator_id or "")
    return operator


def _staff_line(session: Session, actor: Actor, line_id: str) -> Line:
    line = session.get(Line, line_id)
    if line is None or (actor.role in (Role.AGENT, Role.REVIEWER)
                        and line.operator_id != actor.operator_id):
        raise RecordNotFound("line", line_id)
    return line


def _lock_holder(session: Session, actor: Actor, line_id: str) -> None:
    """Lock the holder of a line the actor may act on (RECORD_NOT_FOUND otherwise)."""
    lock_person(session, _staff_line(session, actor, line_id).holder_id)


def _fresh_line(session: Session, line_id: str) -> Line:
    line = session.get(Line, line_id, populate_existing=True)
    assert line is not None
    return line


def _live_with(session: Session, *conditions: ColumnElement[bool]) -> list[Line]:
    stmt = select(Line).where(Line.status != LineStatus.CANCELLED, or_(*conditions))
    return list(session.execute(stmt).scalars())


def _close_disputes(session: Session, line_id: str, now: datetime) -> None:
    session.execute(update(Dispute).where(
        Dispute.line_id == line_id, Dispute.status == DisputeStatus.OPEN)
        .values(status=DisputeStatus.LINE_CANCELLED, closed_at=now)
        .execution_options(synchronize_session=False))


def _audit(session: Session, actor: Actor, action: AuditAction, line: Line, *,
           purpose: AccessPurpose, now: datetime, proofing_id: str | None = None) -> None:
    detail = {"status": line.status.value, "proofing_id": proofing_id}
    audit.append(session, actor=actor, action=action, purpose=purpose,
                 subject_id=line.holder_id, object_id=line.id, now=now, detail=detail)
