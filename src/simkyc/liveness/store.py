"""Challenges, nonces, attempt counters and lockouts in the database, so that any process of
the service can redeem a challenge another issued, and a restart forgets nothing.

One open challenge per proofing session: issuing a new one closes the previous. Issuing
counts as an attempt against the session, the person and the device (re-rolling until a
pre-recorded clip happens to fit is limited like failing). Nonces are stored as their
SHA-256 only: a database dump cannot answer a challenge.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import (
    CursorResult,
    Float,
    Integer,
    String,
    Text,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from simkyc.db.base import Base, UTCDateTime
from simkyc.errors import (
    ChallengeAlreadyUsed,
    ChallengeExpired,
    ChallengeForeign,
    ChallengeSuperseded,
    ChallengeUnknown,
    LivenessLocked,
)
from simkyc.liveness.challenge import Action, Challenge, ChallengeBook


class LivenessChallenge(Base):
    """An issued challenge: whose, what to do, until when; answered or closed at most once."""

    __tablename__ = "liveness_challenges"

    nonce_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    proofing_id: Mapped[str] = mapped_column(String(32), index=True)
    actions: Mapped[str] = mapped_column(Text)
    slot_s: Mapped[float | None] = mapped_column(Float)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LivenessAttempt(Base):
    """One attempt (a challenge issued, a failed answer) counted against one key."""

    __tablename__ = "liveness_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(96), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LivenessLockout(Base):
    """A key locked out until a time."""

    __tablename__ = "liveness_lockouts"

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


@dataclass(frozen=True)
class LockoutRule:
    """`max_attempts` attempts within `window_s` for one key lock it for `lockout_s`."""

    max_attempts: int
    window_s: float
    lockout_s: float


@dataclass(frozen=True)
class AttemptKeys:
    """Who an attempt counts against: the proofing session, the person (pseudonym id), and
    the device when the client names one."""

    proofing_id: str
    person_id: str
    device_id: str | None = None

    def keys(self) -> tuple[str, ...]:
        keys = (f"session:{self.proofing_id}", f"person:{self.person_id}")
        if self.device_id is None:
            return keys
        return (*keys, f"device:{hashlib.sha256(self.device_id.encode()).hexdigest()[:32]}")


def nonce_digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode("utf-8")).hexdigest()


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def issue(db: Session, *, book: ChallengeBook, proofing_id: str, now: datetime) -> Challenge:
    """A new challenge for the session (flushed); the session's open one is closed."""
    challenge = book.new(session_id=proofing_id, now=now.timestamp())
    db.execute(update(LivenessChallenge)
               .where(LivenessChallenge.proofing_id == proofing_id,
                      LivenessChallenge.used_at.is_(None),
                      LivenessChallenge.closed_at.is_(None))
               .values(closed_at=now).execution_options(synchronize_session=False))
    db.add(LivenessChallenge(
        nonce_sha256=nonce_digest(challenge.nonce), proofing_id=proofing_id,
        actions=json.dumps([a.value for a in challenge.actions]), slot_s=challenge.slot_s,
        issued_at=now, expires_at=_at(challenge.expires_at)))
    db.flush()
    return challenge


def peek(db: Session, *, nonce: str, proofing_id: str, now: datetime) -> Challenge:
    """The challenge if it can be answered now by this session; each misuse its own error.
    Nothing is changed: a foreign or mistaken attempt does not burn the owner's challenge."""
    row = db.get(LivenessChallenge, nonce_digest(nonce), populate_existing=True)
    if row is None:
        raise ChallengeUnknown("This challenge was never issued; request a new one.")
    if row.proofing_id != proofing_id:
        raise ChallengeForeign("This challenge belongs to another proofing session.")
    if row.used_at is not None:
        raise ChallengeAlreadyUsed("This challenge was already answered; request a new one.")
    if row.closed_at is not None:
        raise ChallengeSuperseded("A newer challenge replaced this one; answer the newest.")
    if now > row.expires_at:
        late = (now - row.expires_at).total_seconds()
        raise ChallengeExpired(f"The challenge expired {late:.0f} s ago; request a new one.")
    return _challenge(row, nonce)


def redeem(db: Session, *, nonce: str, proofing_id: str, now: datetime) -> Challenge:
    """Mark the challenge answered (flushed); a conditional UPDATE, so of two concurrent
    answers exactly one wins, on either backend."""
    challenge = peek(db, nonce=nonce, proofing_id=proofing_id, now=now)
    result = cast(CursorResult[tuple[()]], db.execute(
        update(LivenessChallenge)
        .where(LivenessChallenge.nonce_sha256 == nonce_digest(nonce),
               LivenessChallenge.used_at.is_(None), LivenessChallenge.closed_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)))
    if result.rowcount != 1:
        peek(db, nonce=nonce, proofing_id=proofing_id, now=now)  # says why
        raise ChallengeAlreadyUsed("This challenge was already answered; request a new one.")
    return challenge


def _challenge(row: LivenessChallenge, nonce: str) -> Challenge:
    return Challenge(
        nonce=nonce, session_id=row.proofing_id,
        actions=tuple(Action(a) for a in json.loads(row.actions)),
        issued_at=row.issued_at.timestamp(), expires_at=row.expires_at.timestamp(),
        slot_s=row.slot_s)


def gate(db: Session, *, keys: Sequence[str], rule: LockoutRule, now: datetime,
         adding: int) -> LivenessLocked | None:
    """Why these keys may not make an attempt now (None: they may). A key is refused while
    locked out, or when `adding` more attempts would pass the rule's limit within its window:
    then it is locked out (flushed; the caller commits, then raises the error).

    Issuing a challenge adds 1 (the (max+1)-th challenge in the window is refused); answering
    one adds 0 (the challenge was counted when it was issued)."""
    until = db.execute(select(func.max(LivenessLockout.until))
                       .where(LivenessLockout.key.in_(list(keys)),
                              LivenessLockout.until > now)).scalar_one_or_none()
    if until is None:
        since = now - timedelta(seconds=rule.window_s)
        counts = db.execute(select(LivenessAttempt.key, func.count())
                            .where(LivenessAttempt.key.in_(list(keys)),
                                   LivenessAttempt.at > since)
                            .group_by(LivenessAttempt.key)).all()
        over = [key for key, count in counts if count + adding > rule.max_attempts]
        if not over:
            return None
        until = now + timedelta(seconds=rule.lockout_s)
        for key in over:
            _lock(db, key=key, until=until)
        db.execute(delete(LivenessAttempt).where(LivenessAttempt.key.in_(over))
                   .execution_options(synchronize_session=False))
    wait = (until - now).total_seconds()
    return LivenessLocked(
        f"Too many liveness attempts; try again in {max(wait / 60, 1):.0f} minutes.",
        retry_after=wait)


def count_attempt(db: Session, *, keys: Sequence[str], now: datetime) -> None:
    """Count one attempt against every key (flushed)."""
    db.add_all([LivenessAttempt(key=key, at=now) for key in keys])
    db.flush()


def _lock(db: Session, *, key: str, until: datetime) -> None:
    """Insert or extend a lockout (one statement: two processes may lock the same key)."""
    dialect = db.get_bind().dialect.name
    maker = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = maker(LivenessLockout).values(key=key, until=until)
    db.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"until": until}))


def purge(db: Session, *, now: datetime, keep_s: float) -> int:
    """Delete challenges, attempts and lockouts that can no longer matter (flushed): how
    many rows. Answered/expired challenges are kept `keep_s` so a replay gets its own error."""
    before = now - timedelta(seconds=keep_s)
    total = 0
    for stmt in (delete(LivenessChallenge).where(LivenessChallenge.expires_at < before),
                 delete(LivenessAttempt).where(LivenessAttempt.at < before),
                 delete(LivenessLockout).where(LivenessLockout.until < now)):
        result = cast(CursorResult[tuple[()]],
                      db.execute(stmt.execution_options(synchronize_session=False)))
        total += result.rowcount
    return total
