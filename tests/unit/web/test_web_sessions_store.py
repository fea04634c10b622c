"""The web pages' session store (rows in the database): sessions end at their TTL or the
token's expiry, close ends them, purge deletes the ended ones, no secret lies in clear in the
row, and a portal session's scope is its own proofing session's steps only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from simkyc.auth.cookie_store import WebSessionRow, purge_expired, row_id
from simkyc.auth.cookies import PORTAL_STEPS, Kind, SessionStore
from simkyc.db.engine import create_db_engine, session_factory
from simkyc.db.migrate import upgrade
from simkyc.errors import DecryptionFailed, KeyringInvalid
from simkyc.privacy.keyring import Keyring


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'web.db'}")
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def db(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session:
        yield session


@pytest.fixture
def store() -> SessionStore:
    return SessionStore(keyring=Keyring.generate(), ttl_s=100.0)


def test_a_session_ends_at_its_ttl_or_its_tokens_expiry(store: SessionStore,
                                                       db: Session) -> None:
    sid, session = store.open(db, token="t", kind=Kind.AGENT, now=1000.0)
    assert store.get(db, sid, now=1099.0) == session
    assert store.get(db, sid, now=1100.0) is None
    short, _ = store.open(db, token="c", kind=Kind.CITIZEN, now=1000.0, expires_at=1010.0)
    assert store.get(db, short, now=1010.0) is None
    other, _ = store.open(db, token="u", kind=Kind.AGENT, now=1000.0)
    assert session.csrf != store.get(db, other, now=1000.0).csrf  # type: ignore[union-attr]
    store.close(db, other)
    assert store.get(db, other, now=1000.0) is None
    assert store.get(db, "never-issued", now=1000.0) is None


def test_another_connection_with_the_same_keyring_sees_the_session(
        store: SessionStore, db: Session, sessions: sessionmaker[Session]) -> None:
    """What a second process sees: its own store and connection over the same rows."""
    sid, session = store.open(db, token="t", kind=Kind.PORTAL, now=1000.0, proofing_id="p1")
    elsewhere = SessionStore(keyring=store.keyring, ttl_s=100.0)
    with sessions() as other:
        assert elsewhere.get(other, sid, now=1001.0) == session


def test_the_row_holds_no_cookie_token_or_csrf_in_clear(store: SessionStore,
                                                        db: Session) -> None:
    sid, session = store.open(db, token="secret-api-key-123", kind=Kind.AGENT, now=1000.0)
    row = db.execute(select(WebSessionRow)).scalar_one()
    raw = " ".join(str(getattr(row, c)) for c in ("id", "kind", "proofing_id", "sealed"))
    assert row.id == row_id(sid) and sid not in raw
    assert "secret-api-key-123" not in raw and session.csrf not in raw
    other_keys = SessionStore(keyring=Keyring.generate(), ttl_s=100.0)
    with pytest.raises((DecryptionFailed, KeyringInvalid)):  # not our key: nothing opens
        other_keys.get(db, sid, now=1000.0)


def test_purge_deletes_only_the_ended_sessions(store: SessionStore, db: Session) -> None:
    ended, _ = store.open(db, token="a", kind=Kind.AGENT, now=1000.0, expires_at=1010.0)
    live, _ = store.open(db, token="b", kind=Kind.AGENT, now=1000.0)
    assert purge_expired(db, now=datetime.fromtimestamp(1050.0, UTC)) == 1
    db.commit()
    assert store.get(db, live, now=1050.0) is not None
    assert db.get(WebSessionRow, row_id(ended)) is None


@pytest.mark.parametrize(("path", "reached"), [
    ("/v1/proofing-sessions/abc", True),
    ("/v1/proofing-sessions/abc/document", True),
    ("/v1/proofing-sessions/abc/liveness-challenges", True),
    ("/v1/proofing-sessions/abc/conclude", True),
    ("/v1/proofing-sessions/abc/citizen-token", False),
    ("/v1/proofing-sessions/abc/selfie/x", False),
    ("/v1/proofing-sessions", False),
    ("/v1/lines", False),
])
def test_the_portal_scope_is_its_sessions_evidence_steps(path: str, reached: bool) -> None:
    step = PORTAL_STEPS.fullmatch(path)
    assert (step is not None and step["id"] == "abc") is reached
