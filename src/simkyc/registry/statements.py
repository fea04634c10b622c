"""The registration judge's SQL, built once per process: SQLAlchemy Core statements with bind
parameters (lists as expanding ones), so each call only binds values and hits the compiled
cache, instead of building expressions and running ORM unit-of-work machinery per call
(bench/registry_profile.py: the expression building, cache-key generation and ORM layers
were most of a single registration's client CPU). Each is sent through the driver where it
can be (simkyc.db.driver: SQLAlchemy's per-execution work was then most of what was left).
Constants, not request state.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.sql.base import Executable

from simkyc.db.driver import DriverStatement
from simkyc.db.idempotency import IdempotencyRecord
from simkyc.privacy.audit import SEQS_SQL
from simkyc.proofing.models import ProofingSession
from simkyc.records.models import Line, LineStatus, Operator, Person

NUMBER, QUARANTINE, HELD, SEQ = "n", "q", "h", "s"  # the kinds of rows `standing` returns
# a session's columns the judge reads, in batch.Approval's field order
APPROVAL_COLUMNS = ("id", "purpose", "person_id", "line_id", "outcome", "consumed_at",
                    "expires_at", "template_ct")


@dataclass(frozen=True)
class Statements:
    """What a registration sends, in order."""

    lock: DriverStatement  # :pids, :operator_id -> holders' ids, locked in id order
    sessions: DriverStatement  # :pids, :operator_id -> (jurisdiction, *Approval's fields)
    # :indexes, :now, :persons, :jurisdiction, :events -> live holders, quarantines,
    # counts (and on PostgreSQL audit entry numbers)
    standing: DriverStatement
    insert_lines: DriverStatement
    spend: DriverStatement  # :spent, :now
    enrol: DriverStatement  # :person_id, :template_ct, :now
    insert_keys: DriverStatement


@cache
def statements(postgresql: bool) -> Statements:
    """The statements (built on first use, then shared by every call of this process);
    on PostgreSQL `standing` also draws :events audit entry numbers."""
    pids = bindparam("pids", type_=String, expanding=True)
    at_operator = ProofingSession.operator_id == bindparam("operator_id")
    return Statements(
        lock=DriverStatement(
            select(Person.id).join(ProofingSession, ProofingSession.person_id == Person.id)
            .where(ProofingSession.id.in_(pids), at_operator).order_by(Person.id)
            .with_for_update(of=Person)),
        # the operator's row joined to its sessions among :pids (session columns None if none)
        sessions=DriverStatement(
            select(Operator.jurisdiction, *(getattr(ProofingSession, name)
                                            for name in APPROVAL_COLUMNS))
            .select_from(Operator).outerjoin(ProofingSession, and_(
                ProofingSession.operator_id == Operator.id,
                ProofingSession.id.in_(bindparam("pids", type_=String, expanding=True))))
            .where(Operator.id == bindparam("operator_id"))),
        standing=DriverStatement(_standing(postgresql)),
        insert_lines=DriverStatement(insert(Line)),
        spend=DriverStatement(
            update(ProofingSession)
            .where(ProofingSession.id.in_(bindparam("spent", expanding=True)),
                   ProofingSession.consumed_at.is_(None))
            .values(consumed_at=bindparam("now"), consumed_for="register_line",
                    template_ct=None)),
        enrol=DriverStatement(
            update(Person).where(Person.id == bindparam("person_id"))
            .values(template_ct=bindparam("template_ct"), updated_at=bindparam("now"))),
        insert_keys=DriverStatement(insert(IdempotencyRecord)),
    )


def _standing(postgresql: bool) -> Executable:
    """In one statement, rows of these kinds (the first column): NUMBER, the holder of each
    live line with one of :indexes (blind indexes); QUARANTINE, the end of the quarantine of
    each cancelled msisdn among them still in it; HELD, each of :persons' live lines per
    operator in :jurisdiction; on PostgreSQL SEQ, :events new audit entry numbers. Selects
    under UNION ALL, so each keeps its own index (the live numbers' partial unique ones,
    the holder's)."""
    text_null, count_null = type_coerce(null(), String), cast(null(), BigInteger)
    quarantined = select(literal(QUARANTINE), Line.msisdn_index, text_null, text_null,
                         Line.quarantine_until, count_null).where(
        Line.msisdn_index.in_(bindparam("indexes", type_=String, expanding=True)),
        Line.status == LineStatus.CANCELLED, Line.quarantine_until > bindparam("now"))
    live = select(literal(NUMBER), Line.msisdn_index, Line.iccid_index, Line.holder_id,
                  null(), count_null).where(
        Line.status != LineStatus.CANCELLED,
        or_(Line.msisdn_index.in_(bindparam("indexes", type_=String, expanding=True)),
            Line.iccid_index.in_(bindparam("indexes", type_=String, expanding=True))))
    held = select(literal(HELD), text_null, Line.operator_id, Line.holder_id, null(),
                  func.count(Line.id)).join(Operator, Operator.id == Line.operator_id).where(
        Line.holder_id.in_(bindparam("persons", type_=String, expanding=True)),
        Line.status != LineStatus.CANCELLED,
        Operator.jurisdiction == bindparam("jurisdiction")
    ).group_by(Line.holder_id, Line.operator_id)
    if not postgresql:  # (SQLite numbers entries from max(seq) under its write lock)
        return union_all(quarantined, live, held)
    seqs = select(literal(SEQ), text_null, text_null, text_null, null(),
                  literal_column(SEQS_SQL, BigInteger)).select_from(
        func.generate_series(1, bindparam("events", type_=Integer)))
    return union_all(quarantined, live, held, seqs)
