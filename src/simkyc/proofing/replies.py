"""Idempotency for the evidence uploads of a proofing session (/document, /selfie,
/liveness-challenges, /liveness): the first reply under a key is kept in the database, sealed
(a card's OCR readings are personal data), so a retry on any process gets it back without
judging the evidence again. Kept as long as the session's held evidence."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import TypeVar, cast

from pydantic import BaseModel
from sqlalchemy import CursorResult, LargeBinary, String, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from simkyc.db.base import Base, UTCDateTime
from simkyc.errors import IdempotencyKeyReused
from simkyc.privacy.crypto import place, seal, unseal
from simkyc.privacy.keyring import Keyring

M = TypeVar("M", bound=BaseModel)
TABLE = "proofing_replies"


class StepReply(Base):
    """The reply to one keyed step of one session."""

    __tablename__ = TABLE

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # session, step and key
    proofing_id: Mapped[str] = mapped_column(String(32), index=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    response_ct: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


def _id(proofing_id: str, step: str, key: str) -> str:
    return hashlib.sha256(f"{proofing_id}\0{step}\0{key}".encode()).hexdigest()


def _fingerprint(request: str) -> str:
    return hashlib.sha256(request.encode("utf-8")).hexdigest()


def replay(db: Session, *, keyring: Keyring, proofing_id: str, step: str, key: str | None,
           request: str, kind: type[M]) -> M | None:
    """The reply kept for this key (None if new or no key); the key of another request is
    IDEMPOTENCY_KEY_REUSED."""
    if key is None:
        return None
    row = db.get(StepReply, _id(proofing_id, step, key), populate_existing=True)
    if row is None:
        return None
    if row.request_sha256 != _fingerprint(request):
        raise IdempotencyKeyReused(f"idempotency key {key!r} was used for another request.")
    text = unseal(keyring, row.response_ct, where=place(TABLE, "response_ct", row.id))
    return kind.model_validate_json(text)


def remember(db: Session, *, keyring: Keyring, proofing_id: str, step: str, key: str | None,
             request: str, reply: BaseModel, now: datetime, keep_s: float) -> None:
    """Keep the reply under the key (flushed, in the step's own transaction)."""
    if key is None:
        return
    row_id = _id(proofing_id, step, key)
    sealed = seal(keyring, reply.model_dump_json().encode(),
                  where=place(TABLE, "response_ct", row_id))
    db.add(StepReply(id=row_id, proofing_id=proofing_id, request_sha256=_fingerprint(request),
                     response_ct=sealed, expires_at=now + timedelta(seconds=keep_s)))
    db.flush()


def is_duplicate(error: IntegrityError) -> bool:
    """Whether a flush failed because a concurrent twin stored its reply first."""
    return TABLE in str(error.statement or "") or TABLE in str(error)


def discard(db: Session, *, proofing_id: str) -> None:
    """Forget a decided session's replies (flushed)."""
    db.execute(delete(StepReply).where(StepReply.proofing_id == proofing_id)
               .execution_options(synchronize_session=False))


def purge(db: Session, *, now: datetime) -> int:
    """Delete replies past their expiry (flushed): how many."""
    result = cast(CursorResult[tuple[()]], db.execute(
        delete(StepReply).where(StepReply.expires_at <= now)
        .execution_options(synchronize_session=False)))
    return result.rowcount
