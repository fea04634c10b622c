"""Pooled connections the server closed are replaced before a request uses them, with no
round trip per checkout (simkyc.db.engine): a backend killed by the server between
requests (`pg_terminate_backend`, what a restart or an administrator does) costs the next
request nothing visible, on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_world import World, iccid, log_verdict, migrated_engine
from sqlalchemy import Engine, NullPool, create_engine, text

from simkyc.db import engine as engines
from simkyc.db.engine import session_factory
from simkyc.db.wire import wire_round_trips
from simkyc.privacy.keyring import Keyring
from simkyc.records.models import ServiceType
from simkyc.registry import lines
from simkyc.rules.profiles import default_profiles


@pytest.fixture(scope="module")
def pg_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One pooled connection, so every request reuses the one the server may have killed."""
    folder: Path = tmp_path_factory.mktemp("connections")
    with migrated_engine("postgresql", folder, pool_size=1) as engine:
        engine.pool.dispose()
        yield engine


def backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def terminate(engine: Engine, pid: int) -> None:
    """Kill that backend from another connection, waiting (up to 10 s) until it is gone."""
    admin = create_engine(engine.url, poolclass=NullPool)
    try:
        with admin.connect() as connection:
            assert connection.execute(text("SELECT pg_terminate_backend(:pid, 10000)"),
                                      {"pid": pid}).scalar_one()
    finally:
        admin.dispose()


def test_a_connection_the_server_terminated_is_replaced_without_an_error(
    pg_engine: Engine
) -> None:
    first = backend_pid(pg_engine)
    terminate(pg_engine, first)
    second = backend_pid(pg_engine)  # no error: the dead one was replaced on checkout
    assert second != first
    assert backend_pid(pg_engine) == second  # and the new one is pooled, not re-made


def test_a_registration_after_its_pooled_connection_was_killed_goes_through(
    pg_engine: Engine, keyring: Keyring
) -> None:
    factory = session_factory(pg_engine, keyring)
    with factory() as db:
        world = World(db=db, keyring=keyring, profiles=default_profiles())
        agent = world.operator("killed-connection", "CN")
        person = world.applicant("killed-110105194912310021")
        proofing_ids = [world.proofed(agent, person).id for _ in range(3)]

    def register(i: int) -> str:
        with factory() as db:
            line = lines.register_line(
                db, actor=agent, proofing_id=proofing_ids[i], msisdn=f"+86136{i:08d}",
                iccid=iccid(60_000 + i), service=ServiceType.MOBILE, profiles=world.profiles,
                keyring=keyring, now=world.now)
        return line.id

    with pg_engine.connect() as connection:  # the pool's one connection, warm
        raw = connection.connection.driver_connection
    # on the wire, a registration on a pooled connection: BEGIN, the judge's 6 statements,
    # COMMIT; no ping on checkout
    trips = wire_round_trips(raw, lambda: register(0))
    assert (trips[0], trips[-1], len(trips)) == ('Query "BEGIN"', 'Query "COMMIT"', 8), trips
    terminate(pg_engine, backend_pid(pg_engine))
    assert register(1)  # not DATABASE_UNAVAILABLE, not a 503: the next request just works
    assert register(2)
    with factory() as db:
        assert log_verdict(db, keyring).ok


def test_a_connection_idle_longer_than_the_limit_is_pinged(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A peer that vanished without closing the socket shows nothing on it: only a ping
    finds out, sent when the connection sat idle past PING_AFTER_IDLE_S (and only then)."""
    pings: list[object] = []
    ping = pg_engine.dialect.do_ping
    monkeypatch.setattr(pg_engine.dialect, "do_ping",
                        lambda connection: pings.append(connection) or ping(connection))
    backend_pid(pg_engine)
    backend_pid(pg_engine)
    assert not pings  # busy: no round trip on checkout
    monkeypatch.setattr(engines, "PING_AFTER_IDLE_S", 0.0)
    backend_pid(pg_engine)
    assert len(pings) == 1
