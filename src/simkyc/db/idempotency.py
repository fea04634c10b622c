"""Idempotency keys: a retried state-changing request returns the first response, never acts
twice. One row per (principal, key), holding the request's keyed digest and the response.

The digest is an HMAC under a key derived from the keyring's pseudonym keys: the request holds
typed applicant data (name, birth date, ID number), and a plain hash of it let anyone with a
dump recover the number from a name and birth date by enumeration. The keys travel with the
database session (`Session.info`, set by db.engine.session_factory), active key first.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, ForeignKey, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from simkyc.db.base import Base, UTCDateTime
from simkyc.errors import IdempotencyKeyReused, KeyringInvalid
from simkyc.privacy.canonical import canonical_json
from simkyc.privacy.keyring import Keyring

MAX_KEY_LENGTH = 128
DIGEST_KEYS = "simkyc.request_digest_keys"
_DIGEST_DOMAIN = b"simkyc/idempotency-request/v1"


def request_digest_keys(keyring: Keyring) -> tuple[bytes, ...]:
    """The request-digest keys derived from the pseudonym keys, the active one first (older
    ones still verify records made before a rotation)."""
    keys = keyring.pseudonym
    ordered = [keys.active, *(k for k in keys.keys if k != keys.active)]
    return tuple(hmac.new(keys.key(k), _DIGEST_DOMAIN, hashlib.sha256).digest()
                 for k in ordered)


def digest_info(keyring: Keyring) -> dict[str, object]:
    """The `Session.info` a session needs to store or check idempotency records."""
    return {DIGEST_KEYS: request_digest_keys(keyring)}


def request_digests(session: Session, request: Mapping[str, Any]) -> list[str]:
    """The request's HMAC-SHA256 under each digest key of the session (active first)."""
    keys = session.info.get(DIGEST_KEYS)
    if not keys:
        raise KeyringInvalid("this database session has no request-digest key.")
    text = canonical_json(request).encode("utf-8")
    return [hmac.new(key, text, hashlib.sha256).hexdigest() for key in keys]


def request_digest(session: Session, request: Mapping[str, Any]) -> str:
    """The request's digest under the active key (what a new record stores)."""
    return request_digests(session, request)[0]


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
    return stored_response(session, record, operation=operation, request=request)


def stored_response(session: Session, record: IdempotencyRecord, *, operation: str,
                    request: Mapping[str, Any]) -> str:
    """The record's response if it was stored for this very request; else the key was
    reused for another (IDEMPOTENCY_KEY_REUSED)."""
    same = any(hmac.compare_digest(record.request_sha256, d)
               for d in request_digests(session, request))
    if record.operation != operation or not same:
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
        principal_id=principal_id, key=key, operation=operation,
        digest=request_digest(session, request), response=response, now=now)))
    session.flush()


def record_row(*, principal_id: str, key: str, operation: str, digest: str,
               response: str, now: datetime) -> dict[str, Any]:
    """The columns of a record to insert (in bulk: `insert(IdempotencyRecord)`); `digest`
    from request_digest."""
    if not 0 < len(key) <= MAX_KEY_LENGTH:
        raise IdempotencyKeyReused(f"idempotency keys are 1-{MAX_KEY_LENGTH} characters.")
    return {"principal_id": principal_id, "key": key, "operation": operation,
            "request_sha256": digest, "response": response, "created_at": now}


def purge_before(session: Session, *, before: datetime) -> int:
    """Delete records created before `before` (flushed, not committed); how many. A key is
    thus honoured for at least the configured retention, then may be used afresh."""
    result = cast(CursorResult[tuple[()]], session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < before)
        .execution_options(synchronize_session=False)))
    return result.rowcount
