"""Engines and sessions built from settings; SQLite is set up so a transaction is a lock.

SQLite: every transaction starts with `BEGIN IMMEDIATE`, which takes the database's single
write lock at the start rather than at the first write. Two registrations therefore never
read the same line count: the second waits (busy timeout) until the first commits. WAL lets
readers outside transactions carry on meanwhile. PostgreSQL: READ COMMITTED, with the
services taking row locks (`SELECT ... FOR UPDATE`) on the rows a decision depends on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from simkyc.config import Settings
from simkyc.db.idempotency import digest_info
from simkyc.privacy.keyring import Keyring

SQLITE_BUSY_TIMEOUT_S = 60.0


def database_url(settings: Settings) -> str:
    """The configured URL, or the embedded SQLite file under the state directory."""
    if settings.database_url:
        return settings.database_url
    return f"sqlite:///{settings.state_dir / 'simkyc.db'}"


def create_db_engine(url: str | URL, *, pool_size: int = 5, echo: bool = False) -> Engine:
    """An engine for `url`; SQLite files get their folder, WAL and immediate transactions."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, pool_size=pool_size, echo=echo)
    return create_engine(
        parsed, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, echo=echo
    )


def engine_from_settings(settings: Settings) -> Engine:
    """The registry's engine for this deployment."""
    return create_db_engine(database_url(settings), pool_size=settings.database_pool)


def session_factory(engine: Engine, keyring: Keyring | None = None) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (the services return views),
    carrying the keys idempotency records are digested with (db.idempotency; without a
    keyring they cannot store or check one)."""
    info = digest_info(keyring) if keyring is not None else {}
    return sessionmaker(bind=engine, expire_on_commit=False, info=info)


def _sqlite_engine(url: URL, *, pool_size: int, echo: bool) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        echo=echo,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
    )
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control from the sqlite3 module, which would BEGIN only at the first
    # write (too late for a count-then-insert); SQLAlchemy's "begin" event issues it instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
