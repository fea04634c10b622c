"""The audit log: append-only, pseudonymous, and a transparency log (simkyc.privacy.tlog).

An entry takes its number from a database sequence inside the writer's own transaction, so
writers never wait for one another; an integrator later folds committed entries into an
RFC 9162 Merkle tree and signs checkpoints, and `tlog.verify_log` recomputes it all. An
entry's leaf is the canonical JSON of its fields (`leaf_data`); its `hash` column is the
SHA-256 of that JSON. Entries written before the log kept their hash chain (`prev_hash`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from typing import Any, Protocol

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import Executable

from simkyc.db.driver import DriverStatement
from simkyc.privacy.canonical import canonical_json
from simkyc.privacy.models import AuditEntry

HASHED_FIELDS = ("seq", "at", "actor_id", "actor_role", "operator_id", "action", "purpose",
                 "subject_id", "object_id", "detail", "prev_hash")
Detail = Mapping[str, str | int | float | bool | None]
SEQS_SQL = "nextval('audit_entries_seq_seq')"  # PostgreSQL: an entry's number


class AuditAction(StrEnum):
    """What was done; stable codes the citizen's access list shows."""

    PROOFING_STARTED = "proofing.started"
    PROOFING_DECIDED = "proofing.decided"
    PROOFING_REVIEWED = "proofing.reviewed"
    TEMPLATE_COMPARED = "person.template_compared"
    PERSON_READ = "person.read"
    LINE_REGISTERED = "line.registered"
    LINE_REFUSED = "line.refused"
    LINE_SWAPPED = "line.swapped"
    LINE_CANCELLED = "line.cancelled"
    TRANSFER_REFUSED = "line.transfer_refused"
    LINE_DISPUTED = "line.disputed"
    DISPUTE_REPROOFED = "dispute.reproofed"
    LINE_SUSPENDED = "line.suspended"
    LINES_VIEWED = "selfservice.lines_viewed"
    ACCESSES_VIEWED = "selfservice.accesses_viewed"
    TOKEN_ISSUED = "selfservice.token_issued"
    MEDIA_READ = "media.read"
    MEDIA_PURGED = "media.purged"
    DATA_RESEALED = "keys.resealed"
    IDEMPOTENCY_PURGED = "idempotency.purged"
    WEB_SESSIONS_PURGED = "web_sessions.purged"
    PROOFING_STATE_PURGED = "proofing.state_purged"
    LINE_READ = "line.read"
    FACES_COMPARED = "faces.compared"


class AccessPurpose(StrEnum):
    """Why: the purpose the access served."""

    REGISTRATION = "registration"
    SIM_SWAP = "sim_swap"
    DISPUTE = "dispute"
    SELF_SERVICE = "self_service"
    REVIEW = "review"
    OVERSIGHT = "oversight"
    MAINTENANCE = "maintenance"
    CUSTOMER_SERVICE = "customer_service"


class AuditActor(Protocol):
    """Who: any object with these attributes (simkyc.auth.actors.Actor is one)."""

    @property
    def principal_id(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def operator_id(self) -> str | None: ...


@dataclass(frozen=True)
class AuditRecord:
    """An entry as read back."""

    seq: int
    at: datetime
    actor_id: str
    actor_role: str
    operator_id: str | None
    action: AuditAction
    purpose: AccessPurpose
    subject_id: str | None
    object_id: str | None
    hash: str
    leaf: bytes  # what its Merkle leaf hashes (leaf_data)


@dataclass(frozen=True)
class Event:
    """An entry to append (append_many): what, why, about whom."""

    action: AuditAction
    purpose: AccessPurpose
    subject_id: str | None
    object_id: str | None
    detail: Detail | None = None


def append(
    session: Session, *, actor: AuditActor, action: AuditAction, purpose: AccessPurpose,
    subject_id: str | None, object_id: str | None, now: datetime, detail: Detail | None = None,
) -> AuditRecord:
    """Add an entry (flushed, not committed); it locks nothing but its own new row."""
    event = Event(action, purpose, subject_id, object_id, detail)
    return append_many(session, actor=actor, events=[event], now=now)[-1]


def append_many(session: Session, *, actor: AuditActor, events: Sequence[Event],
                now: datetime, seqs: Sequence[int] = ()) -> list[AuditRecord]:
    """Add consecutive entries (inserted, not committed), numbered by the database: with
    the numbers in `seqs` if it holds enough (drawn from the sequence earlier in this
    transaction with another statement, `SEQS_SQL`: one round trip less; the rest of them
    are gaps, as a rollback leaves), else drawn now."""
    if not events:
        return []
    if len(seqs) < len(events):
        seqs = _next_seqs(session, len(events))
    at = now.astimezone(UTC).isoformat(timespec="microseconds")
    rows: list[dict[str, Any]] = []
    records: list[AuditRecord] = []
    for seq, event in zip(seqs, events, strict=False):
        row: dict[str, Any] = {"seq": seq, "at": at, "actor_id": actor.principal_id,
               "actor_role": str(actor.role), "operator_id": actor.operator_id,
               "action": event.action.value, "purpose": event.purpose.value,
               "subject_id": event.subject_id, "object_id": event.object_id,
               "detail": canonical_json(dict(event.detail or {})), "prev_hash": ""}
        leaf = leaf_data(row)  # serialised once: the hash column and the record's leaf
        row["hash"] = hashlib.sha256(leaf).hexdigest()
        rows.append(row)
        records.append(_record_of(row, leaf))
    # Core, on the session's connection: every row has the same columns, so the rows go in one
    # multi-row statement, with no ORM bulk-insert machinery per call (the ORM started a new
    # statement each time the set of None columns changed: a batch of 500 took a dozen); one
    # row goes through the driver (simkyc.db.driver).
    session.flush()  # what the caller added goes first
    _statements().insert.run(session.connection(), rows)
    return records


def _next_seqs(session: Session, count: int) -> list[int]:
    """`count` new entry numbers: PostgreSQL's sequence (no lock, gaps after rollbacks), or on
    SQLite the next rowids (the transaction already holds the database's write lock)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return list(connection.execute(_statements().next_seqs, {"n": count}).scalars())
    last = connection.execute(_statements().last_seq).scalar_one() or 0
    return list(range(last + 1, last + 1 + count))


@dataclass(frozen=True)
class _Statements:
    insert: DriverStatement
    next_seqs: Executable
    last_seq: Executable


@cache
def _statements() -> _Statements:
    """Built on first use, then shared by every append of this process."""
    return _Statements(
        insert=DriverStatement(insert(AuditEntry)),
        next_seqs=text(f"SELECT {SEQS_SQL} FROM generate_series(1, :n)"),
        last_seq=select(func.max(AuditEntry.seq)))


def leaf_data(entry: Mapping[str, Any]) -> bytes:
    """The bytes an entry's Merkle leaf is the hash of: canonical JSON of its hashed fields."""
    return canonical_json({name: entry[name] for name in HASHED_FIELDS}).encode("utf-8")


def entry_fields(entry: AuditEntry) -> dict[str, Any]:
    """An entry row's hashed fields, by name."""
    return {name: getattr(entry, name) for name in HASHED_FIELDS}


def last_seq(session: Session) -> int:
    """The newest entry's number (0 for an empty log): grows with every audited act."""
    return session.execute(select(func.max(AuditEntry.seq))).scalar_one() or 0


def entries_about(session: Session, *, subject_id: str, limit: int = 500) -> list[AuditRecord]:
    """Entries whose subject is this person, newest first (the citizen's access list)."""
    rows = session.execute(select(AuditEntry).where(AuditEntry.subject_id == subject_id)
                           .order_by(AuditEntry.seq.desc()).limit(limit)).scalars()
    return [record_of(e) for e in rows]


def record_of(entry: AuditEntry) -> AuditRecord:
    """An entry row as a record."""
    fields = entry_fields(entry)
    return _record_of({**fields, "hash": entry.hash}, leaf_data(fields))


def _record_of(row: Mapping[str, Any], leaf: bytes) -> AuditRecord:
    return AuditRecord(
        seq=row["seq"], at=datetime.fromisoformat(row["at"]), actor_id=row["actor_id"],
        actor_role=row["actor_role"], operator_id=row["operator_id"],
        action=AuditAction(row["action"]), purpose=AccessPurpose(row["purpose"]),
        subject_id=row["subject_id"], object_id=row["object_id"], hash=row["hash"], leaf=leaf,
    )
