"""Web sign-in sessions in the database, so any process behind the load balancer serves any
page's next request and a restart signs nobody out.

The cookie carries a random 256-bit id; the row is keyed by its SHA-256, so the table holds
no usable cookie. The bearer the session stands for (an agent's API key or a citizen's token)
and the session's CSRF token are sealed together with the keyring's data key (AES-256-GCM,
bound to the row), like every other secret at rest. Rows past `expires_at` are refused at
once and deleted by `simkyc admin purge`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import cast

from sqlalchemy import CursorResult, LargeBinary, String, delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from simkyc.db.base import Base, UTCDateTime, enum_column
from simkyc.privacy.crypto import place, seal, unseal
from simkyc.privacy.keyring import Keyring

TABLE = "web_sessions"


class Kind(StrEnum):
    """Who the session is for."""

    AGENT = "agent"
    PORTAL = "portal"
    CITIZEN = "citizen"


class WebSessionRow(Base):
    """One signed-in page: the hash of its cookie, its sealed secrets, its scope and end."""

    __tablename__ = TABLE

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the cookie
    kind: Mapped[Kind] = mapped_column(enum_column(Kind, 16))
    proofing_id: Mapped[str | None] = mapped_column(String(32))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)  # {"token", "csrf"}, sealed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


@dataclass(frozen=True)
class WebSession:
    """One signed-in page: the bearer it stands for (never sent to the browser)."""

    token: str
    csrf: str
    kind: Kind
    expires_at: float
    proofing_id: str | None = None


def row_id(sid: str) -> str:
    """The row of a cookie value (its SHA-256, hex)."""
    return hashlib.sha256(sid.encode("ascii", "replace")).hexdigest()


def _when(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


@dataclass(frozen=True)
class SessionStore:
    """Sessions in the registry's database, read and written in the request's own database
    session (on SQLite a second connection would wait on the request's write lock)."""

    keyring: Keyring
    ttl_s: float

    def open(self, db: Session, *, token: str, kind: Kind, now: float,
             proofing_id: str | None = None,
             expires_at: float | None = None) -> tuple[str, WebSession]:
        """A new session id (the cookie's value) and its session, stored and committed."""
        sid = secrets.token_urlsafe(32)
        ends = min(now + self.ttl_s, expires_at if expires_at is not None else float("inf"))
        session = WebSession(token=token, csrf=secrets.token_urlsafe(32), kind=kind,
                             expires_at=ends, proofing_id=proofing_id)
        key = row_id(sid)
        secret = json.dumps({"token": token, "csrf": session.csrf}).encode()
        db.add(WebSessionRow(
            id=key, kind=kind, proofing_id=proofing_id, created_at=_when(now),
            expires_at=_when(ends),
            sealed=seal(self.keyring, secret, where=place(TABLE, "sealed", key))))
        db.commit()
        return sid, session

    def get(self, db: Session, sid: str, *, now: float) -> WebSession | None:
        """The live session of a cookie value; None if unknown, closed or expired."""
        key = row_id(sid)
        row = db.get(WebSessionRow, key, populate_existing=True)
        if row is None or row.expires_at <= _when(now):
            return None
        secret = json.loads(unseal(self.keyring, row.sealed, where=place(TABLE, "sealed", key)))
        return WebSession(token=secret["token"], csrf=secret["csrf"], kind=row.kind,
                          expires_at=row.expires_at.timestamp(), proofing_id=row.proofing_id)

    def close(self, db: Session, sid: str) -> None:
        """End a session (sign-out, or a new sign-in on the same page), committed."""
        db.execute(delete(WebSessionRow).where(WebSessionRow.id == row_id(sid))
                   .execution_options(synchronize_session=False))
        db.commit()


def purge_expired(session: Session, *, now: datetime) -> int:
    """Delete the sessions that ended by `now` (in the caller's transaction); how many."""
    result = cast(CursorResult[tuple[()]], session.execute(
        delete(WebSessionRow).where(WebSessionRow.expires_at <= now)
        .execution_options(synchronize_session=False)))
    return result.rowcount
