"""Idempotency keys: a retried state-changing request returns the first response, never acts
twice. One row per (principal, key), holding the request's hash and the response."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, ForeignKey, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from simkyc.db.base import Base, UTCDateTime
from simkyc.errors import IdempotencyKeyReused
from simkyc.privacy.canonical import digest

MAX_KEY_LENGTH = 128


class IdempotencyRecord(Base):
    """The stored outcome of one keyed request."""

    __tablename__ = "idempotency_keys"

    principal_id: Mapped[str] = mapped_column(ForeignKey("principals.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    operation: Mapped[str] = mapped_column(String(32))
    request_sha256: Mapped[str] = mapped_column(String(64))
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


def replay(
    session: Session, *, principal_id: str, key: str, operation: str, request: Mapping[str, Any]
) -> str | None:
    """The stored response for this key, None if new; the same key for another request is an
    error rather than a silent replay of the wrong answer."""
    record = session.get(IdempotencyRecord, (principal_id, key), populate_existing=True)
    if record is None:
        return None
    return stored_response(record, operation=operation, request=request)


def stored_response(record: IdempotencyRecord, *, operation: str,
                    request: Mapping[str, Any]) -> str:
    """The record's response if it was stored for this very request; else the key was
    reused for another (IDEMPOTENCY_KEY_REUSED)."""
    if record.operation != operation or record.request_sha256 != digest(request):
        raise IdempotencyKeyReused(f"idempotency key {record.key!r} was used for another "
                                   "request.")
    return record.response


def records_for(session: Session, *, principal_id: str, keys: Collection[str]
                ) -> dict[str, IdempotencyRecord]:
    """The stored records among these keys of one principal (one query)."""
    if not keys:
        return {}
    rows = session.execute(select(IdempotencyRecord).where(
        IdempotencyRecord.principal_id == principal_id, IdempotencyRecord.key.in_(keys))
        .execution_options(populate_existing=True)).scalars()
    return {row.key: row for row in rows}


def remember(
    session: Session, *, principal_id: str, key: str, operation: str,
    request: Mapping[str, Any], response: str, now: datetime,
) -> None:
    """Store the response in the request's own transaction (flushed; a concurrent twin that
    got there first makes this flush fail on the primary key)."""
    session.add(IdempotencyRecord(**record_row(
        principal_id=principal_id, key=key, operation=operation, request=request,
        response=response, now=now)))
    session.flush()


def record_row(*, principal_id: str, key: str, operation: str, request: Mapping[str, Any],
               response: str, now: datetime) -> dict[str, Any]:
    """The columns of a record to insert (in bulk: `insert(IdempotencyRecord)`)."""
    if not 0 < len(key) <= MAX_KEY_LENGTH:
        raise IdempotencyKeyReused(f"idempotency keys are 1-{MAX_KEY_LENGTH} characters.")
    return {"principal_id": principal_id, "key": key, "operation": operation,
            "request_sha256": digest(request), "response": response, "created_at": now}


def purge_before(session: Session, *, before: datetime) -> int:
    """Delete records created before `before` (flushed, not committed); how many. A key is
    thus honoured for at least the configured retention, then may be used afresh."""
    result = cast(CursorResult[tuple[()]], session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < before)
        .execution_options(synchronize_session=False)))
    return result.rowcount
