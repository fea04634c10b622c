"""The registration judge's SQL, built once per process: SQLAlchemy Core statements with bind
parameters (lists as expanding ones), so each call only binds values and hits the compiled
cache, instead of building expressions and running ORM unit-of-work machinery per call
(bench/registry_profile.py: the expression building, cache-key generation and ORM layers
were most of a single registration's client CPU). Constants, not request state.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import (
    String,
    bindparam,
    func,
    insert,
    null,
    or_,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.sql.base import Executable

from simkyc.db.idempotency import IdempotencyRecord
from simkyc.proofing.models import ProofingSession
from simkyc.records.models import Line, LineStatus, Operator, Person


@dataclass(frozen=True)
class Statements:
    """What a registration sends, in order."""

    operator: Executable  # :operator_id -> (id, jurisdiction)
    lock: Executable  # :pids, :operator_id -> holders' ids, locked in id order
    sessions: Executable  # :pids, :operator_id -> what the judge needs (batch.Approval)
    numbers: Executable  # :indexes, :now -> live holders and quarantines
    holdings: Executable  # :persons, :jurisdiction -> (holder, operator, count)
    insert_lines: Executable
    spend: Executable  # :spent, :now
    enrol: Executable  # :person_id, :template_ct, :now
    insert_keys: Executable


@cache
def statements() -> Statements:
    """The statements (built on first use, then shared by every call of this process)."""
    pids = bindparam("pids", type_=String, expanding=True)
    at_operator = ProofingSession.operator_id == bindparam("operator_id")
    sessions = ProofingSession
    return Statements(
        operator=select(Operator.id, Operator.jurisdiction).where(
            Operator.id == bindparam("operator_id")),
        lock=select(Person.id).join(ProofingSession, ProofingSession.person_id == Person.id)
        .where(ProofingSession.id.in_(pids), at_operator).order_by(Person.id)
        .with_for_update(of=Person),
        sessions=select(sessions.id, sessions.purpose, sessions.person_id, sessions.line_id,
                        sessions.outcome, sessions.consumed_at, sessions.expires_at,
                        sessions.template_ct)
        .where(sessions.id.in_(bindparam("pids", expanding=True)),
               sessions.operator_id == bindparam("operator_id")),
        numbers=_numbers(),
        holdings=select(Line.holder_id, Line.operator_id, func.count(Line.id))
        .join(Operator, Operator.id == Line.operator_id)
        .where(Line.holder_id.in_(bindparam("persons", expanding=True)),
               Line.status != LineStatus.CANCELLED,
               Operator.jurisdiction == bindparam("jurisdiction"))
        .group_by(Line.holder_id, Line.operator_id),
        insert_lines=insert(Line),
        spend=update(ProofingSession)
        .where(sessions.id.in_(bindparam("spent", expanding=True)),
               sessions.consumed_at.is_(None))
        .values(consumed_at=bindparam("now"), consumed_for="register_line", template_ct=None),
        enrol=update(Person).where(Person.id == bindparam("person_id"))
        .values(template_ct=bindparam("template_ct"), updated_at=bindparam("now")),
        insert_keys=insert(IdempotencyRecord),
    )


def _numbers() -> Executable:
    """The holder of each live line with one of :indexes (blind indexes), and the end of the
    quarantine of each cancelled msisdn still in it. Two selects under UNION ALL, so each
    keeps its own index (the live numbers' partial unique ones)."""
    indexes = bindparam("indexes", type_=String, expanding=True)
    none = type_coerce(null(), String)
    quarantined = select(Line.msisdn_index, none.label("iccid_index"),
                         none.label("holder_id"), Line.quarantine_until).where(
        Line.msisdn_index.in_(indexes), Line.status == LineStatus.CANCELLED,
        Line.quarantine_until > bindparam("now"))
    live = select(Line.msisdn_index, Line.iccid_index, Line.holder_id, null()).where(
        Line.status != LineStatus.CANCELLED,
        or_(Line.msisdn_index.in_(bindparam("indexes", expanding=True)),
            Line.iccid_index.in_(bindparam("indexes", expanding=True))))
    return union_all(quarantined, live)
