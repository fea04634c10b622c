"""Each single-registration CPU lever on its own: client and backend CPU-ms per registration
with the lever off (the code before it) and on, in one process, in alternating chunks.

What it measures
    For each lever, `--rounds` rounds of `--chunk` sequential single registrations
    (`lines.register_line`, the workload of bench/registry.py) with the lever off and on
    (off first in even rounds, on first in odd ones):
    this process's CPU (time.process_time) and the backend's (/proc/PID/stat of the
    connection's pg_backend_pid(); the server must run on this machine) over each chunk.
    Alternating short chunks in one process lets a shared machine's changing load fall on
    both sides alike, which separate runs of bench/registry_profile.py could not give
    (their spread under load was wider than one lever's effect). Levers:
      ping    off: SQLAlchemy's pool_pre_ping (a `;` round trip per checkout); on: the
              checkout check without a round trip (simkyc.db.engine)
      driver  off: every statement through SQLAlchemy's Connection.execute; on: the
              judge's statements through psycopg (simkyc.db.driver)
    Each lever is measured with the other on (the code of today).

Run
    .venv/bin/python bench/registry_levers.py --url "$URL" [--rounds 10] [--chunk 100]
        [--levers ping driver]
    (the database's schema is dropped and migrated anew)
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

from registry import Attempt, agent, prepare, reset
from registry_profile import backend_cpu_s
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from simkyc.db import driver
from simkyc.db.engine import create_db_engine, session_factory
from simkyc.errors import SimkycError
from simkyc.privacy.keyring import Keyring
from simkyc.records.models import ServiceType
from simkyc.registry import lines
from simkyc.rules.profiles import default_profiles

LEVERS = ("ping", "driver")


@contextmanager
def through_sqlalchemy() -> Iterator[None]:
    """The driver lever off: every DriverStatement falls back to Connection.execute."""
    shape = driver.DriverStatement._shape
    driver.DriverStatement._shape = lambda self, connection, params: None  # type: ignore
    try:
        yield
    finally:
        driver.DriverStatement._shape = shape  # type: ignore[method-assign]


def chunk_cpu(factory: sessionmaker[Session], pid: int, run: Callable[[], None]
              ) -> tuple[float, float]:
    """This process's and the backend's CPU seconds over `run`."""
    client, server = time.process_time(), backend_cpu_s(pid)
    run()
    return time.process_time() - client, backend_cpu_s(pid) - server


def backend(factory: sessionmaker[Session]) -> int:
    with factory() as db:
        return int(db.execute(text("SELECT pg_backend_pid()")).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--url", required=True, help="PostgreSQL SQLAlchemy URL (emptied!)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--chunk", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--levers", nargs="+", choices=LEVERS, default=list(LEVERS))
    args = parser.parse_args()
    setup = create_db_engine(args.url, pool_size=1)
    try:  # the workload, made on a connection of its own
        reset(setup)
        keyring = Keyring.generate()
        actor = agent(session_factory(setup, keyring))
        total = args.warmup * 2 + len(args.levers) * args.rounds * args.chunk * 2
        attempts = iter(prepare(session_factory(setup, keyring), keyring, actor,
                                persons=total, sessions=1))
    finally:
        setup.dispose()
    engine = create_db_engine(args.url, pool_size=1)
    pinging: Engine = create_engine(make_url(args.url), pool_size=1, max_overflow=1,
                                    pool_pre_ping=True)
    try:
        factory = session_factory(engine, keyring)
        old_factory = session_factory(pinging, keyring)
        profiles = default_profiles()

        def register(chosen: sessionmaker[Session], count: int) -> None:
            for attempt in (next(attempts) for _ in range(count)):
                _register(chosen, actor, keyring, profiles, attempt)

        register(factory, args.warmup)
        register(old_factory, args.warmup)
        pids = {id(factory): backend(factory), id(old_factory): backend(old_factory)}
        for lever in args.levers:
            sides: dict[str, list[tuple[float, float]]] = {"off": [], "on": []}
            for round_ in range(args.rounds):
                for side in ("off", "on") if round_ % 2 == 0 else ("on", "off"):
                    chosen = old_factory if (lever, side) == ("ping", "off") else factory
                    with _lever_off(lever) if side == "off" else nullcontext():
                        sides[side].append(chunk_cpu(chosen, pids[id(chosen)], lambda c=chosen:
                                                     register(c, args.chunk)))
            _report(lever, sides, args.chunk)
    finally:
        engine.dispose()
        pinging.dispose()


def _lever_off(lever: str) -> AbstractContextManager[None]:
    if lever == "driver":
        return through_sqlalchemy()
    return nullcontext()  # ping: the pre-pinging engine is the "off" side


def _register(factory: sessionmaker[Session], actor: Any, keyring: Keyring, profiles: Any,
              attempt: Attempt) -> None:
    with factory() as db:
        try:
            lines.register_line(db, actor=actor, proofing_id=attempt.proofing_id,
                                msisdn=attempt.msisdn, iccid=attempt.iccid,
                                service=ServiceType.MOBILE, profiles=profiles,
                                keyring=keyring, now=datetime.now(UTC))
        except SimkycError as error:
            raise SystemExit(f"unexpected refusal: {error.code}") from error


def _report(lever: str, sides: dict[str, list[tuple[float, float]]], chunk: int) -> None:
    """Per side: the sum over its chunks and the median chunk, in CPU-ms per registration."""
    def per(values: list[float]) -> tuple[float, float]:
        return 1000 * sum(values) / (chunk * len(values)), 1000 * statistics.median(values) / chunk
    line = [f"{lever:6s}"]
    for side in ("off", "on"):
        client, client_med = per([c for c, _ in sides[side]])
        server, server_med = per([s for _, s in sides[side]])
        line.append(f"{side}: client {client:.3f} (median {client_med:.3f}), backend "
                    f"{server:.3f} (median {server_med:.3f})")
    off_c = sum(c for c, _ in sides["off"])
    on_c = sum(c for c, _ in sides["on"])
    off_s = sum(s for _, s in sides["off"])
    on_s = sum(s for _, s in sides["on"])
    line.append(f"on/off: client {on_c / off_c:.2f}x, backend {on_s / off_s:.2f}x, "
                f"both {(on_c + on_s) / (off_c + off_s):.2f}x")
    print(" | ".join(line), flush=True)


if __name__ == "__main__":
    main()
