"""The registration judge: lines registered in one transaction, each item answered on its
own (a line, or the error that refused it). A single registration (`lines.register_line`,
POST /v1/lines) is a batch of one, so the rules, their order and messages are written once.

The reads are a few set-based queries and the writes multi-row inserts. Every holder's
person row is locked first (in id order, so two batches never deadlock), then counts and
numbers are read; a number taken by a concurrent transaction fails the commit on the
live-number unique index, and the batch is then re-judged from scratch (the taken number is
refused, the rest go through). Idempotency is per item: an item whose key was seen before
gets the stored line back. The SQL is built once per process (simkyc.registry.statements):
a single registration is 6 statements and the commit on PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from simkyc.auth.actors import Actor, require
from simkyc.auth.models import Role
from simkyc.db.base import new_id
from simkyc.db.idempotency import (
    IdempotencyRecord,
    record_row,
    records_for,
    request_digest,
    stored_response,
)
from simkyc.errors import (
    IdempotencyKeyReused,
    InvalidBatch,
    LineCapExceeded,
    NumberInUse,
    NumberQuarantined,
    ProofingAlreadyUsed,
    RecordNotFound,
    SimkycError,
)
from simkyc.privacy import audit
from simkyc.privacy.audit import AccessPurpose, AuditAction, Event
from simkyc.privacy.crypto import place
from simkyc.privacy.keyring import Keyring
from simkyc.privacy.templates import open_template, seal_template, template_place
from simkyc.proofing.models import Outcome as ProofingOutcome
from simkyc.proofing.models import Purpose
from simkyc.proofing.service import require_usable
from simkyc.records.idempotent import opened_response, sealed_response
from simkyc.records.models import LineStatus, ServiceType
from simkyc.registry.lines import transfer_forbidden
from simkyc.registry.numbers import normalise_iccid, normalise_msisdn
from simkyc.registry.schemas import LineView
from simkyc.registry.sealed_numbers import NumberKind, blind_index, blind_indexes, number_columns
from simkyc.registry.statements import HELD, NUMBER, QUARANTINE, SEQ, statements
from simkyc.rules.line_caps import Holdings, check_one_more, profile_for
from simkyc.rules.profiles import JurisdictionProfile

OPERATION = "register"  # the single path's operation name: a key serves either path
ATTEMPTS = 3  # re-judgements after a concurrent transaction took a number first
MAX_BATCH = 1000
KINDS = (NumberKind.MSISDN, NumberKind.ICCID)
_StandingRow = tuple[str, Any, Any, Any, Any, Any]  # statements.standing's kinds of row


@dataclass(frozen=True)
class Registration:
    """One line to register."""

    proofing_id: str
    msisdn: str
    iccid: str
    service: ServiceType = ServiceType.MOBILE
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Outcome:
    """An item's answer: the line, or the domain error that refused it."""

    line: LineView | None = None
    error: SimkycError | None = None


@dataclass(frozen=True)
class OperatorRef:
    """The registering operator: its id and the jurisdiction whose profile sets the caps."""

    id: str
    jurisdiction: str


@dataclass(frozen=True)
class Approval:
    """What the judge reads of a proofing session (the columns `require_usable` checks, and
    the live template a registration enrols)."""

    id: str
    purpose: Purpose
    person_id: str
    line_id: str | None
    outcome: ProofingOutcome
    consumed_at: datetime | None
    expires_at: datetime | None
    template_ct: bytes | None


@dataclass
class _Judgement:
    """Everything one judging pass read, and what it decided so far."""

    db: Session  # its info carries the request-digest keys (db.idempotency)
    keyring: Keyring
    operator: OperatorRef
    records: dict[str, Approval]
    live: dict[str, str]  # blind index of a live line's msisdn or iccid -> its holder
    quarantine: dict[str, datetime]  # by msisdn blind index
    held: dict[str, Holdings]
    seqs: list[int]  # audit entry numbers drawn for the events (PostgreSQL)
    stored: dict[str, IdempotencyRecord]
    lines: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    keys: list[dict[str, Any]] = field(default_factory=list)
    enrolled: dict[str, Approval] = field(default_factory=dict)
    fresh: dict[str, tuple[str, LineView]] = field(default_factory=dict)
    spent: set[str] = field(default_factory=set)


def register_lines(
    session: Session, *, actor: Actor, items: Sequence[Registration],
    profiles: Mapping[str, JurisdictionProfile], keyring: Keyring, now: datetime,
) -> list[Outcome]:
    """Register each item in one committed transaction; one outcome per item, in order.
    Cap refusals are audited (committed with the rest)."""
    require(actor, Role.AGENT)
    if not 0 < len(items) <= MAX_BATCH:
        raise InvalidBatch(f"a batch holds 1-{MAX_BATCH} registrations; this one {len(items)}.")
    if not actor.operator_id:
        raise RecordNotFound("operator", "")
    for attempt in range(ATTEMPTS):
        try:
            outcomes = _judge_and_write(session, actor=actor, items=items, profiles=profiles,
                                        keyring=keyring, now=now)
            session.commit()
            return outcomes
        except IntegrityError:
            session.rollback()
            if attempt == ATTEMPTS - 1:
                raise NumberInUse("numbers of this batch were taken concurrently; retry."
                                  ) from None
        except BaseException:
            session.rollback()
            raise
    raise AssertionError("unreachable")


def _judge_and_write(session: Session, *, actor: Actor, items: Sequence[Registration],
                     profiles: Mapping[str, JurisdictionProfile], keyring: Keyring,
                     now: datetime) -> list[Outcome]:
    numbers = [_normalised(item) for item in items]
    judged = _read(session, actor=actor, items=items, numbers=numbers, keyring=keyring,
                   now=now)
    operator = judged.operator
    profile = profile_for(profiles, operator.jurisdiction)
    outcomes = [_decide(judged, actor=actor, item=item, numbers=number, operator=operator,
                        profile=profile, now=now)
                for item, number in zip(items, numbers, strict=True)]
    _write(session, judged, actor=actor, keyring=keyring, now=now)
    return outcomes


def _normalised(item: Registration) -> tuple[str, str] | SimkycError:
    try:
        return normalise_msisdn(item.msisdn), normalise_iccid(item.iccid)
    except SimkycError as error:
        return error


def _read(session: Session, *, actor: Actor, items: Sequence[Registration],
          numbers: Sequence[tuple[str, str] | SimkycError], keyring: Keyring,
          now: datetime) -> _Judgement:
    """Lock the holders (id order), then read the operator with the sessions, numbers,
    counts and keys."""
    connection = session.connection()
    sql = statements(connection.dialect.name == "postgresql")
    where = {"pids": sorted({item.proofing_id for item in items}),
             "operator_id": actor.operator_id}
    persons = sorted({row[0] for row in sql.lock.rows(connection, where)})
    rows = sql.sessions.rows(connection, where)
    if not rows:
        raise RecordNotFound("operator", actor.operator_id or "")
    operator = OperatorRef(id=str(actor.operator_id), jurisdiction=rows[0][0])
    records = {row[1]: Approval(*row[1:]) for row in rows if row[1] is not None}
    wanted = [index for pair in numbers if not isinstance(pair, SimkycError)
              for kind, number in zip(KINDS, pair, strict=True)
              for index in blind_indexes(keyring, kind, number)]
    keys = {item.idempotency_key for item in items if item.idempotency_key is not None}
    live, quarantine, held, seqs = standing(connection, wanted, persons, operator, now=now,
                                            events=len(items))
    return _Judgement(
        db=session, keyring=keyring, operator=operator, records=records, live=live,
        quarantine=quarantine, held=held, seqs=seqs,
        stored=records_for(session, principal_id=actor.principal_id, keys=keys))


def standing(connection: Connection, indexes: list[str], persons: list[str],
             operator: OperatorRef, *, now: datetime, events: int = 0
             ) -> tuple[dict[str, str], dict[str, datetime], dict[str, Holdings], list[int]]:
    """In one statement (statements.standing): the holder of each live line with one of these
    numbers (by blind index), the end of each cancelled msisdn's quarantine, each holder's
    live lines at this operator and in its jurisdiction, and on PostgreSQL `events` audit
    entry numbers (each item of a batch makes at most one entry)."""
    holders: dict[str, str] = {}
    until: dict[str, datetime] = {}
    at_operator, in_jurisdiction = Counter[str](), Counter[str]()
    postgresql = connection.dialect.name == "postgresql"
    rows = statements(postgresql).standing.rows(connection, {
        "indexes": indexes, "now": now, "persons": persons,
        "jurisdiction": operator.jurisdiction, "events": events})
    seqs: list[int] = []
    for row in rows:
        kind, msisdn, other, holder, ends, count = cast(_StandingRow, tuple(row))
        if kind == NUMBER:
            holders[msisdn] = holders[other] = holder
        elif kind == QUARANTINE and (msisdn not in until or ends > until[msisdn]):
            until[msisdn] = ends
        elif kind == HELD:
            in_jurisdiction[holder] += count
            if other == operator.id:
                at_operator[holder] += count
        elif kind == SEQ:
            seqs.append(count)
    held = {p: Holdings(at_operator[p], in_jurisdiction[p]) for p in persons}
    return holders, until, held, sorted(seqs)


def _decide(judged: _Judgement, *, actor: Actor, item: Registration,
            numbers: tuple[str, str] | SimkycError, operator: OperatorRef,
            profile: JurisdictionProfile, now: datetime) -> Outcome:
    if isinstance(numbers, SimkycError):
        return Outcome(error=numbers)
    msisdn, iccid = numbers
    request = {"proofing_id": item.proofing_id, "msisdn": msisdn, "iccid": iccid,
               "service": item.service.value}
    try:
        if (line := _replayed(judged, item.idempotency_key, request)) is not None:
            return Outcome(line=line)
        line = _admit(judged, actor=actor, item=item, msisdn=msisdn, iccid=iccid,
                      operator=operator, profile=profile, now=now)
    except SimkycError as error:
        return Outcome(error=error)
    if item.idempotency_key is not None:
        judged.fresh[item.idempotency_key] = (request_digest(judged.db, request), line)
        response = sealed_response(judged.keyring, principal_id=actor.principal_id,
                                   key=item.idempotency_key, text=line.model_dump_json())
        judged.keys.append(record_row(
            principal_id=actor.principal_id, key=item.idempotency_key, operation=OPERATION,
            digest=judged.fresh[item.idempotency_key][0], response=response, now=now))
    return Outcome(line=line)


def _replayed(judged: _Judgement, key: str | None, request: dict[str, str]) -> LineView | None:
    """The line stored for this key before, or admitted for it earlier in this batch."""
    if key is None:
        return None
    if (record := judged.stored.get(key)) is not None:
        stored = stored_response(judged.db, record, operation=OPERATION, request=request)
        return LineView.model_validate_json(opened_response(
            judged.keyring, principal_id=record.principal_id, key=key, stored=stored))
    if (earlier := judged.fresh.get(key)) is not None:
        if earlier[0] != request_digest(judged.db, request):
            raise IdempotencyKeyReused(f"idempotency key {key!r} was used for another "
                                       "request.")
        return earlier[1]
    return None


def _admit(judged: _Judgement, *, actor: Actor, item: Registration, msisdn: str, iccid: str,
           operator: OperatorRef, profile: JurisdictionProfile, now: datetime) -> LineView:
    """The registration rules, in order, against what the batch read and did so far."""
    record = judged.records.get(item.proofing_id)
    if record is None:
        raise RecordNotFound("proofing session", item.proofing_id)
    person_id = record.person_id
    require_usable(record, purpose=Purpose.REGISTRATION, person_id=person_id, now=now)
    if record.id in judged.spent:
        raise ProofingAlreadyUsed("this proofing session has already been used.")
    _check_numbers(judged, msisdn=msisdn, iccid=iccid, holder_id=person_id, profile=profile)
    held = judged.held[person_id]
    try:
        check_one_more(profile, operator.jurisdiction, held)
    except LineCapExceeded as refused:
        judged.events.append(Event(AuditAction.LINE_REFUSED, AccessPurpose.REGISTRATION,
                                   person_id, None, {"code": refused.code, "cap": refused.cap}))
        raise
    judged.held[person_id] = Holdings(held.at_operator + 1, held.in_jurisdiction + 1)
    judged.spent.add(record.id)
    line = LineView(id=new_id(), msisdn=msisdn, iccid=iccid, service=item.service,
                    operator_id=operator.id, status=LineStatus.ACTIVE, created_at=now,
                    approved_by=record.id)
    keyring = judged.keyring
    judged.live[blind_index(keyring, NumberKind.MSISDN, msisdn)] = person_id
    judged.live[blind_index(keyring, NumberKind.ICCID, iccid)] = person_id
    judged.lines.append({**line.model_dump(exclude={"msisdn", "iccid"}), "holder_id": person_id,
                         "status_at": now, **number_columns(keyring, line_id=line.id,
                                                            msisdn=msisdn, iccid=iccid)})
    if record.template_ct is not None:
        judged.enrolled[person_id] = record
    judged.events.append(Event(AuditAction.LINE_REGISTERED, AccessPurpose.REGISTRATION,
                               person_id, line.id,
                               {"status": LineStatus.ACTIVE.value, "proofing_id": record.id}))
    return line


def _check_numbers(judged: _Judgement, *, msisdn: str, iccid: str, holder_id: str,
                   profile: JurisdictionProfile) -> None:
    msisdns = blind_indexes(judged.keyring, NumberKind.MSISDN, msisdn)
    iccids = blind_indexes(judged.keyring, NumberKind.ICCID, iccid)
    holder = next((judged.live[i] for i in msisdns if i in judged.live), None)
    if holder is not None and holder != holder_id:
        raise transfer_forbidden(profile.quarantine_days)
    if holder is not None or any(i in judged.live for i in iccids):
        raise NumberInUse("this MSISDN or ICCID already belongs to a line.")
    until = max((judged.quarantine[i] for i in msisdns if i in judged.quarantine),
                default=None)
    if until is not None:
        raise NumberQuarantined("the number was cancelled recently and is in quarantine.",
                                until=until.isoformat())


def _write(session: Session, judged: _Judgement, *, actor: Actor, keyring: Keyring,
           now: datetime) -> None:
    """Lines, spent sessions, enrolled templates, idempotency records, the audit entries."""
    connection = session.connection()
    sql = statements(connection.dialect.name == "postgresql")
    if judged.lines:
        sql.insert_lines.run(connection, judged.lines)
        spent = [line["approved_by"] for line in judged.lines]
        # fewer spent is impossible under the person locks; be loud
        if sql.spend.run(connection, {"spent": spent, "now": now}) != len(spent):
            raise AssertionError("a proofing session was spent concurrently")
    for person_id, record in judged.enrolled.items():
        _enrol(connection, keyring, record, person_id, now)
    if judged.keys:
        sql.insert_keys.run(connection, judged.keys)
    audit.append_many(session, actor=actor, events=judged.events, now=now, seqs=judged.seqs)


def _enrol(connection: Connection, keyring: Keyring, record: Approval, person_id: str,
           now: datetime) -> None:
    """The registration's live template becomes the holder's enrolled one (re-sealed)."""
    assert record.template_ct is not None
    template = open_template(keyring, record.template_ct,
                             where=place("proofing_sessions", "template_ct", record.id))
    sealed = seal_template(keyring, template, where=template_place(person_id))
    statements(connection.dialect.name == "postgresql").enrol.run(
        connection, {"person_id": person_id, "template_ct": sealed, "now": now})
