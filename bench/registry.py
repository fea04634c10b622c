"""Registrations per second with the caps enforced, on PostgreSQL and on SQLite (the peer).

What it measures
    Wall-clock throughput and per-call latency of `simkyc.registry.lines.register_line`, the
    service the API's POST /v1/lines calls, with `--threads` worker threads, each with its own
    session (and connection). One registration per transaction (no batching): each call locks
    the person, checks numbers and caps, consumes its proofing session, inserts the line,
    appends to the audit chain and commits.

Workload (prepared in bulk, untimed)
    One operator in CN (cap: 5 lines per person per operator) with one agent; `--persons`
    persons with real pseudonyms (HMAC) and real sealed name / birth date (AES-GCM), each with
    `--sessions` approved registration sessions (default 6: one more than the cap, so every
    person's sixth attempt is refused with LINE_CAP_EXCEEDED, which is audited too). The
    attempts are shuffled (fixed seed) so threads interleave persons.

Checks afterwards
    No person holds more lines than the cap, every refusal was a cap refusal, and
    `privacy.audit.verify_chain` passes. On PostgreSQL a sampler reads pg_stat_activity every
    5 ms during the run and prints what the registry's backends were waiting on.

Caveat
    scripts/postgres.sh runs PostgreSQL with fsync, synchronous_commit and full_page_writes
    off: commits cost no disk flush here, so these figures are an upper bound for a durable
    deployment. The client (this process, one GIL) and the server share the machine's cores.

Run
    export URL=$(SIMKYC_PG_DB=simkyc_bench scripts/postgres.sh)
    .venv/bin/python bench/registry.py --url "$URL" [--persons 2000] [--threads 1 4 8]
    (the database is migrated and emptied first; SQLite runs on new temporary files)
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from simkyc.config import default_profiles
from simkyc.db.base import new_id
from simkyc.db.engine import create_db_engine, session_factory
from simkyc.db.migrate import upgrade
from simkyc.db.models import metadata
from simkyc.errors import LineCapExceeded, SimkycError
from simkyc.privacy.audit import verify_chain
from simkyc.privacy.crypto import place, seal
from simkyc.privacy.keyring import Keyring
from simkyc.privacy.models import GENESIS_HASH, AuditHead
from simkyc.privacy.pseudonyms import DocumentIdentity, pseudonym
from simkyc.proofing.models import Outcome, ProofingSession, Purpose
from simkyc.registry import accounts, lines
from simkyc.registry.accounts import Actor
from simkyc.registry.models import Line, LineStatus, Person, Role, ServiceType
from simkyc.registry.numbers import luhn_valid

JURISDICTION, CAP = "CN", 5
NOW = datetime.now(UTC)


@dataclass(frozen=True)
class Attempt:
    """One registration to make: which approved session, which numbers."""

    proofing_id: str
    msisdn: str
    iccid: str


@dataclass(frozen=True)
class RunResult:
    """What one timed run gave."""

    backend: str
    threads: int
    wall_s: float
    cpu_s: float
    outcomes: Counter[str]
    latencies_ms: list[float]
    waits: Counter[str]

    @property
    def attempts(self) -> int:
        return sum(self.outcomes.values())

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def iccid(seed: int) -> str:
    """A valid 19-digit ICCID (89, 16 digits, Luhn check digit)."""
    body = f"89{seed:016d}"
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


def reset(engine: Engine) -> None:
    """An empty, migrated registry (the audit head back at genesis). On PostgreSQL the tables
    are truncated (TRUNCATE passes the audit log's append-only row triggers); a SQLite file
    is expected to be new."""
    upgrade(engine)
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            if table.name not in ("alembic_version", "audit_head"):
                connection.execute(text(f'TRUNCATE "{table.name}" CASCADE'))
        connection.execute(update(AuditHead).values(seq=0, hash=GENESIS_HASH))


def agent(factory: sessionmaker[Session], name: str = "Bench Operator") -> Actor:
    """An operator in the capped jurisdiction and one agent of it."""
    with factory() as db:
        op = accounts.create_operator(db, name=name, jurisdiction=JURISDICTION,
                                      profiles=default_profiles(), now=NOW)
        who = accounts.create_principal(db, role=Role.AGENT, label="bench agent",
                                        operator_id=op.id, now=NOW)
    return Actor(principal_id=who.id, role=Role.AGENT, operator_id=op.id)


def person_row(keyring: Keyring, index: int) -> dict[str, object]:
    """A person with a real pseudonym and really sealed (synthetic) name and birth date."""
    person_id = new_id()
    document = DocumentIdentity("national_id", "CN", f"BENCH{index:012d}")
    return {"id": person_id, "pseudonym": pseudonym(keyring, document),
            "pseudonym_key_id": keyring.pseudonym.active, "created_at": NOW, "updated_at": NOW,
            "template_ct": None,
            "name_ct": seal(keyring, b"SYNTHETIC Name", where=place("persons", "name_ct",
                                                                    person_id)),
            "birth_date_ct": seal(keyring, b"1990-01-01",
                                  where=place("persons", "birth_date_ct", person_id))}


def session_row(actor: Actor, person_id: str) -> dict[str, object]:
    """An approved, unused registration session for the person (valid for an hour)."""
    return {"id": new_id(), "purpose": Purpose.REGISTRATION, "operator_id": actor.operator_id,
            "agent_id": actor.principal_id, "person_id": person_id, "line_id": None,
            "started_at": NOW, "consent_at": NOW, "consent_version": "consent-v1",
            "outcome": Outcome.APPROVED, "reasons": "[]", "decided_at": NOW,
            "decided_by": actor.principal_id, "expires_at": NOW + timedelta(hours=1),
            "template_ct": None}


def prepare(factory: sessionmaker[Session], keyring: Keyring, actor: Actor, *, persons: int,
            sessions: int) -> list[Attempt]:
    """Persons and approved sessions inserted in bulk; the shuffled attempts to make."""
    people = [person_row(keyring, i) for i in range(persons)]
    approved = [session_row(actor, str(p["id"])) for p in people for _ in range(sessions)]
    with factory() as db:
        db.execute(insert(Person), people)
        db.execute(insert(ProofingSession), approved)
        db.commit()
    attempts = [Attempt(str(s["id"]), f"+86139{i:08d}", iccid(i))
                for i, s in enumerate(approved)]
    random.Random(7).shuffle(attempts)
    return attempts


def register(factory: sessionmaker[Session], actor: Actor, keyring: Keyring,
             attempt: Attempt) -> str:
    """One timed registration; its outcome code."""
    with factory() as db:
        try:
            lines.register_line(db, actor=actor, proofing_id=attempt.proofing_id,
                                msisdn=attempt.msisdn, iccid=attempt.iccid,
                                service=ServiceType.MOBILE, profiles=default_profiles(),
                                keyring=keyring, now=datetime.now(UTC))
        except LineCapExceeded:
            return "cap_refused"
        except SimkycError as error:
            return error.code
    return "registered"


def run_workers(factory: sessionmaker[Session], actor: Actor, keyring: Keyring,
                attempts: list[Attempt], threads: int
                ) -> tuple[float, float, Counter[str], list[float]]:
    """Threads pull attempts off one shared iterator until none are left; wall and this
    process's CPU seconds, outcomes, latencies."""
    work, lock = iter(attempts), threading.Lock()
    outcomes, latencies = Counter[str](), list[float]()

    def worker() -> None:
        while True:
            with lock:
                attempt = next(work, None)
            if attempt is None:
                return
            started = time.perf_counter()
            outcome = register(factory, actor, keyring, attempt)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                outcomes[outcome] += 1
                latencies.append(elapsed)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started, cpu = time.perf_counter(), time.process_time()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - started, time.process_time() - cpu, outcomes, latencies


@contextmanager
def wait_sampler(engine: Engine) -> Iterator[Counter[str]]:
    """On PostgreSQL, what the other backends of this database wait on, sampled every 5 ms."""
    waits, stop = Counter[str](), threading.Event()

    def sample() -> None:
        query = text("SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU/running') "
                     "FROM pg_stat_activity WHERE datname = current_database() "
                     "AND pid <> pg_backend_pid() AND state = 'active'")
        with engine.connect() as connection:
            while not stop.wait(0.005):
                for (event,) in connection.execute(query):
                    waits[str(event)] += 1
                connection.rollback()

    sampler = threading.Thread(target=sample, daemon=True)
    if engine.dialect.name == "postgresql":
        sampler.start()
    try:
        yield waits
    finally:
        stop.set()
        if sampler.is_alive():
            sampler.join()


def check(factory: sessionmaker[Session], result: RunResult) -> str:
    """Caps held and the audit chain verifies; raises if not."""
    with factory() as db:
        most = db.execute(select(func.count(Line.id)).where(
            Line.status != LineStatus.CANCELLED).group_by(Line.holder_id)
            .order_by(func.count(Line.id).desc()).limit(1)).scalar_one_or_none() or 0
        chain = verify_chain(db)
    assert most <= CAP, f"a person holds {most} lines (cap {CAP})"
    assert chain.ok, f"audit chain broken: {chain.problems[:5]}"
    unexpected = set(result.outcomes) - {"registered", "cap_refused"}
    assert not unexpected, f"unexpected outcomes: {unexpected}"
    return f"max lines per person {most} <= {CAP}; audit chain ok ({chain.entries} entries)"


def bench(url: str, *, threads: int, persons: int, sessions: int, pool: int) -> RunResult:
    """Reset, prepare (untimed), run the registrations (timed), check."""
    engine = create_db_engine(url, pool_size=pool)
    try:
        reset(engine)
        factory, keyring = session_factory(engine), Keyring.generate()
        actor = agent(factory)
        attempts = prepare(factory, keyring, actor, persons=persons, sessions=sessions)
        with wait_sampler(engine) as waits:
            timings = run_workers(factory, actor, keyring, attempts, threads)
        result = RunResult(engine.dialect.name, threads, *timings, waits)
        print(f"  check: {check(factory, result)}")
        return result
    finally:
        engine.dispose()


def report(result: RunResult) -> None:
    registered = result.outcomes["registered"]
    print(f"{result.backend:10s} threads={result.threads:2d} batch=1/txn "
          f"attempts={result.attempts} registered={registered} "
          f"cap_refused={result.outcomes['cap_refused']} wall={result.wall_s:.1f}s")
    print(f"  {result.attempts / result.wall_s:8.0f} calls/s  {registered / result.wall_s:8.0f} "
          f"lines/s  p50={result.percentile(0.5):.1f} ms  p99={result.percentile(0.99):.1f} ms"
          f"  mean={statistics.fmean(result.latencies_ms):.1f} ms  "
          f"client CPU {1000 * result.cpu_s / result.attempts:.2f} ms/call")
    total = sum(result.waits.values())
    if total:
        top = ", ".join(f"{event} {100 * n / total:.0f}%"
                        for event, n in result.waits.most_common(6))
        print(f"  pg backends (sampled): {top}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--url", required=True, help="PostgreSQL SQLAlchemy URL (emptied!)")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite peer")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--sessions", type=int, default=CAP + 1, help="attempts per person")
    args = parser.parse_args()
    results: dict[tuple[str, int], RunResult] = {}
    with tempfile.TemporaryDirectory() as folder:
        for threads in args.threads:
            sqlite_url = "" if args.no_sqlite else f"sqlite:///{Path(folder) / f'{threads}.db'}"
            for url in (args.url, sqlite_url):
                if url:
                    result = bench(url, threads=threads, persons=args.persons,
                                   sessions=args.sessions, pool=max(threads, 2) + 2)
                    results[(result.backend, threads)] = result
                    report(result)
    ratios(results)


def ratios(results: dict[tuple[str, int], RunResult]) -> None:
    """PostgreSQL lines/s over SQLite lines/s at each thread count."""
    for (backend, threads), pg in sorted(results.items()):
        peer = results.get(("sqlite", threads))
        if backend == "postgresql" and peer is not None:
            ratio = (pg.outcomes["registered"] / pg.wall_s) / (
                peer.outcomes["registered"] / peer.wall_s)
            print(f"ratio postgresql/sqlite lines/s at {threads} threads: {ratio:.2f}x")


if __name__ == "__main__":
    main()
