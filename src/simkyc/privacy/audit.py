"""The audit log: append-only, hash-chained, pseudonymous; verify() finds edits and deletions.

Entry hash = SHA-256 of the canonical JSON of the entry's fields, `prev_hash` included, so
changing any entry breaks its own hash and removing one breaks the link (and the sequence)
of the next; removing the newest ones is caught by the head row. Someone able to rewrite the
whole chain and the head is caught only by comparing with a head exported earlier
(`chain_head()`), which deployments should publish or store elsewhere periodically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from simkyc.privacy.canonical import canonical_json, digest
from simkyc.privacy.models import GENESIS_HASH, AuditEntry, AuditHead

HEAD_ID = 1
HASHED_FIELDS = ("seq", "at", "actor_id", "actor_role", "operator_id", "action", "purpose",
                 "subject_id", "object_id", "detail", "prev_hash")
Detail = Mapping[str, str | int | float | bool | None]


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


class AccessPurpose(StrEnum):
    """Why: the purpose the access served."""

    REGISTRATION = "registration"
    SIM_SWAP = "sim_swap"
    DISPUTE = "dispute"
    SELF_SERVICE = "self_service"
    REVIEW = "review"
    OVERSIGHT = "oversight"
    MAINTENANCE = "maintenance"


class AuditActor(Protocol):
    """Who: any object with these attributes (simkyc.registry.accounts.Actor is one)."""

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


@dataclass(frozen=True)
class ChainHead:
    """The newest entry's sequence number and hash."""

    seq: int
    hash: str


@dataclass(frozen=True)
class ChainProblem:
    """Where the chain is broken and how: `gap`, `broken_link`, `altered`, `head_mismatch`."""

    seq: int
    kind: str


@dataclass(frozen=True)
class ChainVerification:
    """The verdict on the whole chain."""

    ok: bool
    entries: int
    head_seq: int
    problems: tuple[ChainProblem, ...]


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
    """Add an entry (flushed, not committed). Takes the head row's lock: call it last in a
    transaction, after any other row locks, so lock order stays person -> rows -> head."""
    event = Event(action, purpose, subject_id, object_id, detail)
    return append_many(session, actor=actor, events=[event], now=now)[-1]


def append_many(session: Session, *, actor: AuditActor, events: Sequence[Event],
                now: datetime) -> list[AuditRecord]:
    """Add consecutive entries under one turn of the head lock (inserted, not committed):
    a batch of registrations pays for the chain's serialisation point once, not per line."""
    if not events:
        return []
    head = _lock_head(session)
    at = now.astimezone(UTC).isoformat(timespec="microseconds")
    rows: list[dict[str, Any]] = []
    for event in events:
        row: dict[str, Any] = {"seq": head.seq + 1, "at": at, "actor_id": actor.principal_id,
               "actor_role": str(actor.role), "operator_id": actor.operator_id,
               "action": event.action.value, "purpose": event.purpose.value,
               "subject_id": event.subject_id, "object_id": event.object_id,
               "detail": canonical_json(dict(event.detail or {})), "prev_hash": head.hash}
        row["hash"] = digest(row)
        head.seq, head.hash = row["seq"], row["hash"]
        rows.append(row)
    session.execute(insert(AuditEntry), rows)
    session.flush()
    return [_record_of(row) for row in rows]


def entry_hash(entry: AuditEntry) -> str:
    """The hash an entry must carry, from its own fields and its predecessor's hash."""
    return digest({name: getattr(entry, name) for name in HASHED_FIELDS})


def verify_chain(session: Session, *, batch: int = 1000) -> ChainVerification:
    """Walk the whole log in order, recomputing every hash and link, then check the head."""
    problems: list[ChainProblem] = []
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq).execution_options(
        yield_per=batch, populate_existing=True)).scalars()
    for entry in rows:
        count += 1
        if entry.seq != expected_seq:
            problems.append(ChainProblem(expected_seq, "gap"))
        if entry.prev_hash != prev_hash:
            problems.append(ChainProblem(entry.seq, "broken_link"))
        if entry_hash(entry) != entry.hash:
            problems.append(ChainProblem(entry.seq, "altered"))
        expected_seq, prev_hash = entry.seq + 1, entry.hash
    head = chain_head(session)
    if (head.seq, head.hash) != (expected_seq - 1, prev_hash):
        problems.append(ChainProblem(head.seq, "head_mismatch"))
    return ChainVerification(not problems, count, head.seq, tuple(problems))


def chain_head(session: Session) -> ChainHead:
    """Sequence number and hash of the newest entry: export it to anchor the chain."""
    head = session.execute(select(AuditHead).where(AuditHead.id == HEAD_ID).execution_options(
        populate_existing=True)).scalar_one()
    return ChainHead(seq=head.seq, hash=head.hash)


def entries_about(session: Session, *, subject_id: str, limit: int = 500) -> list[AuditRecord]:
    """Entries whose subject is this person, newest first (the citizen's access list)."""
    rows = session.execute(select(AuditEntry).where(AuditEntry.subject_id == subject_id)
                           .order_by(AuditEntry.seq.desc()).limit(limit)).scalars()
    return [_record(e) for e in rows]


def _lock_head(session: Session) -> AuditHead:
    # FOR UPDATE on PostgreSQL; SQLite ignores it (BEGIN IMMEDIATE already serialises writers).
    stmt = select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()
    return session.execute(stmt.execution_options(populate_existing=True)).scalar_one()


def _record(entry: AuditEntry) -> AuditRecord:
    return _record_of({name: getattr(entry, name) for name in (*HASHED_FIELDS, "hash")})


def _record_of(row: Mapping[str, Any]) -> AuditRecord:
    return AuditRecord(
        seq=row["seq"], at=datetime.fromisoformat(row["at"]), actor_id=row["actor_id"],
        actor_role=row["actor_role"], operator_id=row["operator_id"],
        action=AuditAction(row["action"]), purpose=AccessPurpose(row["purpose"]),
        subject_id=row["subject_id"], object_id=row["object_id"], hash=row["hash"],
    )
