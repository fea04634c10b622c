"""Where a single registration's CPU goes: client (this process) and server (its PostgreSQL
backend) CPU-ms per registration, round trips per registration (on the wire, from libpq's
trace), and a cProfile of the calls.

What it measures
    `--calls` single registrations (`simkyc.registry.lines.register_line`, what POST /v1/lines
    runs), one after another on one connection, on the workload of bench/registry.py (approved
    sessions of distinct persons, real pseudonyms and sealed data). CPU is counted, not timed:
    this process's CPU time (time.process_time) and the backend's (utime + stime in
    /proc/PID/stat of pg_backend_pid(), so the server must run on this machine), each over the
    calls. Counters rather than wall time: the figures hold on a shared machine. WAL per
    registration from pg_stat_wal (records, full-page images, bytes, writes and syncs:
    cluster-wide, so on a cluster of its own); `--checkpoint` issues a CHECKPOINT first, so
    the figures are those right after one (each page's first change logged whole).

Run
    export URL=$(SIMKYC_PG_DIR=/tmp/pg-bench SIMKYC_PG_DURABLE=1 SIMKYC_PG_DB=simkyc_bench \\
                 scripts/postgres.sh)
    .venv/bin/python bench/registry_profile.py --url "$URL" [--calls 2000] [--profile 25]
        [--checkpoint]
    (the database's schema is dropped and migrated anew)
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from registry import Attempt, agent, prepare, reset
from sqlalchemy import Engine, NullPool, create_engine, text
from sqlalchemy.engine import make_url

from simkyc.db.engine import create_db_engine, session_factory
from simkyc.db.wire import wire_round_trips
from simkyc.errors import SimkycError
from simkyc.privacy.keyring import Keyring
from simkyc.records.models import ServiceType
from simkyc.registry import lines
from simkyc.rules.profiles import default_profiles

TICK_S = 1 / os.sysconf("SC_CLK_TCK")
TRIP_CALLS = 100  # registrations whose round trips are counted, after the timed ones


def backend_cpu_s(pid: int) -> float:
    """A local process's user + system CPU seconds (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_S


def wal_counters(engine: Engine) -> dict[str, float]:
    """The cluster's WAL counters now: bytes by LSN and pg_stat_wal's records, full-page
    images and bytes (cluster-wide: run it on a cluster of its own)."""
    with engine.connect() as connection:
        row = connection.execute(text(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0'), wal_records, wal_fpi, "
            "wal_bytes, wal_write, wal_sync FROM pg_stat_wal")).one()
    names = ("lsn_bytes", "records", "fpi", "bytes", "writes", "syncs")
    return {name: float(value) for name, value in zip(names, row, strict=True)}


def wire_trips(engine: Engine, run: Callable[[], object]) -> Counter[str]:
    """The round trips `run` makes on the pool's one connection, by kind (`simkyc.db.wire`):
    a simple Query (BEGIN, COMMIT, the pool's ping ";") by its text, an extended-protocol
    statement as "statement". Counted on the wire, since the judge's statements go through
    the driver, past SQLAlchemy's events."""
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
    assert raw is not None
    return Counter("statement" if trip == "Sync" else trip.removeprefix("Query ").strip('"')
                   or "?" for trip in wire_round_trips(raw, run))


def measure(url: str, engine: Engine, run: Callable[[], Counter[str]],
            run_counted: Callable[[], Counter[str]], *, calls: int, pid: int,
            checkpoint: bool) -> None:
    """Run the timed calls and print their CPU and WAL per registration, then the round
    trips per registration of `run_counted` (TRIP_CALLS more registrations, on the wire). The
    WAL counters are read on a connection of their own (a rollback on the registering one
    would make psycopg forget its prepared statements)."""
    counters = create_engine(make_url(url), poolclass=NullPool)
    try:
        if checkpoint:
            with counters.connect() as connection:
                connection.execute(text("CHECKPOINT"))
        wal = wal_counters(counters)
        cpu, server = time.process_time(), backend_cpu_s(pid)
        outcomes = run()
        cpu, server = time.process_time() - cpu, backend_cpu_s(pid) - server
        wal = {name: value - wal[name] for name, value in wal_counters(counters).items()}
        sent = wire_trips(engine, run_counted)  # apart: tracing costs CPU
    finally:
        counters.dispose()
    print(f"{calls} single registrations: {dict(outcomes)}")
    print(f"  client CPU {1000 * cpu / calls:.2f} ms/registration, server (backend) CPU "
          f"{1000 * server / calls:.2f} ms/registration")
    trips = ", ".join(f"{name} {n / TRIP_CALLS:.1f}" for name, n in sent.most_common())
    print(f"  round trips per registration: {sum(sent.values()) / TRIP_CALLS:.1f} ({trips})")
    print("  WAL per registration (pg_stat_wal): " + ", ".join(
        f"{name} {value / calls:.2f}" for name, value in wal.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--url", required=True, help="PostgreSQL SQLAlchemy URL (emptied!)")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--checkpoint", action="store_true",
                        help="CHECKPOINT before the timed calls: each page's first change after "
                        "it is logged whole (full_page_writes), as after every checkpoint")
    parser.add_argument("--profile", type=int, default=0,
                        help="print this many functions of a cProfile run (by own time)")
    args = parser.parse_args()
    engine = create_db_engine(args.url, pool_size=1)
    try:
        reset(engine)
        factory, keyring = session_factory(engine), Keyring.generate()
        actor = agent(factory)
        total = args.warmup + args.calls * (2 if args.profile else 1) + TRIP_CALLS
        attempts = prepare(factory, keyring, actor, persons=total, sessions=1)
        profiles = default_profiles()
        with factory() as db:
            pid = int(db.execute(text("SELECT pg_backend_pid()")).scalar_one())

        def run(chunk: list[Attempt]) -> Counter[str]:
            outcomes = Counter[str]()
            for attempt in chunk:
                with factory() as db:
                    try:
                        lines.register_line(
                            db, actor=actor, proofing_id=attempt.proofing_id,
                            msisdn=attempt.msisdn, iccid=attempt.iccid,
                            service=ServiceType.MOBILE, profiles=profiles, keyring=keyring,
                            now=datetime.now(UTC))
                        outcomes["registered"] += 1
                    except SimkycError as error:
                        outcomes[error.code] += 1
            return outcomes

        run(attempts[:args.warmup])
        timed = attempts[args.warmup:args.warmup + args.calls]
        counted = attempts[-TRIP_CALLS:]
        measure(args.url, engine, lambda: run(timed), lambda: run(counted), calls=len(timed),
                pid=pid, checkpoint=args.checkpoint)
        if args.profile:
            more = attempts[args.warmup + args.calls:-TRIP_CALLS]
            profiler = cProfile.Profile(time.process_time)
            profiler.runcall(run, more)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(args.profile)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
