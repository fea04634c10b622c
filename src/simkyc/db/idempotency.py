"""Idempotency keys: a retried state-changing request returns the first response, never acts
twice. One row per (principal, key), holding the request's hash and the response."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


def replay(
    session: Session, *, principal_id: str, key: str, operation: str, request: Mapping[str, Any]
) -> str | None:
    """The stored response for this key, None if new; the same key for another request is an
    error rather than a silent replay of the wrong answer."""
    record = session.get(IdempotencyRecord, (principal_id, key), populate_existing=True)
    if record is None:
        return None
    if record.operation != operation or record.request_sha256 != digest(request):
        raise IdempotencyKeyReused(f"idempotency key {key!r} was used for another request.")
    return record.response


def remember(
    session: Session, *, principal_id: str, key: str, operation: str,
    request: Mapping[str, Any], response: str, now: datetime,
) -> None:
    """Store the response in the request's own transaction (flushed; a concurrent twin that
    got there first makes this flush fail on the primary key)."""
    if not 0 < len(key) <= MAX_KEY_LENGTH:
        raise IdempotencyKeyReused(f"idempotency keys are 1-{MAX_KEY_LENGTH} characters.")
    session.add(IdempotencyRecord(
        principal_id=principal_id, key=key, operation=operation, request_sha256=digest(request),
        response=response, created_at=now,
    ))
    session.flush()
