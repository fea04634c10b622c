"""Engines and sessions built from settings; SQLite is set up so a transaction is a lock.

SQLite: every transaction starts with `BEGIN IMMEDIATE`, which takes the database's single
write lock at the start rather than at the first write. Two registrations therefore never
read the same line count: the second waits (busy timeout) until the first commits. WAL lets
readers outside transactions carry on meanwhile. PostgreSQL: READ COMMITTED, with the
services taking row locks (`SELECT ... FOR UPDATE`) on the rows a decision depends on.

A pooled PostgreSQL connection is checked on checkout without a round trip (`_Liveness`):
one the server closed (restart, `pg_terminate_backend`, an outage) has its socket readable
while idle, so it is replaced before the request uses it; only one idle for longer than
PING_AFTER_IDLE_S is pinged. SQLAlchemy's `pool_pre_ping` sent a round trip on every
checkout instead (bench/registry_profile.py: ~5% of a single registration's client CPU
and one of its nine round trips).
"""

from __future__ import annotations

import select
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from simkyc.config import Settings
from simkyc.db.idempotency import digest_info
from simkyc.privacy.keyring import Keyring

SQLITE_BUSY_TIMEOUT_S = 60.0
# A connection idle longer than this is pinged on checkout: a peer that vanished without
# closing the socket (a host gone, a NAT or firewall that dropped an idle flow: minutes,
# e.g. 350 s on AWS NAT gateways) shows nothing on the socket. Busy pools reuse a
# connection within milliseconds and never pay the ping.
PING_AFTER_IDLE_S = 10.0
_IDLE_SINCE = "simkyc.idle_since"  # connection record info: monotonic time of its checkin


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
    engine = create_engine(parsed, pool_size=pool_size, max_overflow=pool_size, echo=echo)
    liveness = _Liveness(engine.dialect)
    event.listen(engine.pool, "checkin", liveness.checkin)
    event.listen(engine.pool, "checkout", liveness.checkout)
    return engine


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


class _Liveness:
    """Checkout check of a pooled connection: replaced (DisconnectionError: the pool opens a
    new one, and a database that is down surfaces as the connect's OperationalError, the
    API's 503 DATABASE_UNAVAILABLE) when the driver knows it broken or its socket has
    something to read while idle (the server's goodbye: a FATAL message and end of file);
    pinged first when it was idle longer than PING_AFTER_IDLE_S."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect

    def checkin(self, _dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def checkout(self, dbapi_connection: Any, record: ConnectionPoolEntry,
                 _proxy: PoolProxiedConnection) -> None:
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is None:  # new: connected just now
            return
        closed = _closed_by_peer(dbapi_connection)
        if closed:
            raise DisconnectionError("the server closed this pooled connection")
        if closed is None or time.monotonic() - idle_since > PING_AFTER_IDLE_S:
            try:
                self.dialect.do_ping(dbapi_connection)
            except self.dialect.loaded_dbapi.Error as error:
                raise DisconnectionError(f"ping failed: {error}") from error


def _closed_by_peer(dbapi_connection: Any) -> bool | None:
    """Whether an idle connection is known dead without a round trip: the driver says so,
    or its socket is readable (an idle client connection is sent nothing but the server's
    termination; nothing here LISTENs). None: a driver that shows no socket (then ping)."""
    if getattr(dbapi_connection, "closed", False) or getattr(dbapi_connection, "broken",
                                                             False):
        return True
    if not hasattr(dbapi_connection, "fileno"):
        return None
    try:
        fd = dbapi_connection.fileno()
    except Exception:  # the driver's error for a connection without a socket
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))
