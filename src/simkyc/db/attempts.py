"""Attempt counters in the database (never in one process's memory): one row per attempt in a
named bucket (`selfservice:person:<pseudonym>`, `faces_verify:key:<key id>`...), counted
over a sliding window, so every process behind a load balancer sees the same count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import CursorResult, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from simkyc.db.base import Base, UTCDateTime, new_id
from simkyc.errors import TooManyAttempts


class Attempt(Base):
    """One attempt counted against a bucket."""

    __tablename__ = "attempts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    bucket: Mapped[str] = mapped_column(String(128), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


@dataclass(frozen=True)
class Limit:
    """At most `attempts` in any `window_s` seconds."""

    attempts: int
    window_s: float


def count_attempt(session: Session, *, buckets: Sequence[str], limit: Limit, now: datetime,
                  what: str) -> None:
    """Refuse (TOO_MANY_ATTEMPTS, with when to retry) if any bucket is at its limit, else
    count one attempt in each (flushed; the caller commits, failed or not)."""
    since = now - timedelta(seconds=limit.window_s)
    for bucket in buckets:
        times = session.execute(select(Attempt.at).where(
            Attempt.bucket == bucket, Attempt.at > since).order_by(Attempt.at)).scalars().all()
        if len(times) >= limit.attempts:
            oldest = times[len(times) - limit.attempts]
            retry = (oldest + timedelta(seconds=limit.window_s) - now).total_seconds()
            raise TooManyAttempts(
                f"Too many {what} ({limit.attempts} in {limit.window_s:g} s); try again in "
                f"{max(1, round(retry))} s.", retry_after=retry)
    session.add_all(Attempt(bucket=b, at=now) for b in buckets)
    session.flush()


def purge_attempts(session: Session, *, before: datetime) -> int:
    """Delete attempts older than `before` (flushed); how many."""
    result = cast(CursorResult[tuple[()]], session.execute(
        delete(Attempt).where(Attempt.at < before).execution_options(
            synchronize_session=False)))
    return result.rowcount
