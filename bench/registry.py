"""Registrations per second with the caps enforced on PostgreSQL: bulk against single.

What it measures
    Wall-clock throughput of registrations with `--threads` worker threads, each with its own
    session (and connection), at each `--batch` size: 1 calls
    `simkyc.registry.lines.register_line` (what POST /v1/lines runs: one registration per
    transaction, the peer), N > 1 calls `simkyc.registry.batch.register_lines` with N
    registrations per transaction (what POST /v1/lines/batch runs). Either way each attempt
    locks its person, checks numbers and caps, consumes its proofing session, inserts the
    line, appends to the audit chain and commits; the bulk path does it for N at once. The
    ratio printed is each bulk run's lines/s over the single path's at the same threads.

Workload (prepared in bulk, untimed)
    One operator in CN (cap: 5 lines per person per operator) with one agent; `--persons`
    persons with real pseudonyms (HMAC) and real sealed name / birth date (AES-GCM), each with
    `--sessions` approved registration sessions (default 6: one more than the cap, so every
    person's sixth attempt is refused with LINE_CAP_EXCEEDED, which is audited too). The
    attempts are shuffled (fixed seed), so threads and batches interleave persons (and
    concurrent batches contend for the same persons' locks).

Checks afterwards
    No person holds more lines than the cap, every refusal was a cap refusal, and
    `privacy.tlog.verify_log` passes. On PostgreSQL a sampler reads pg_stat_activity every
    25 ms (SAMPLE_S) during the run and prints what the registry's backends were doing (idle,
    waiting for their client, counted too), their CPU and the machine's busy share.

Clients
    `--threads N`: N client threads in this process (one GIL: the client's Python bounds the
    rate); with `--processes` each client is its own process with its own connection, as
    `simkyc serve --workers N` would with N = clients; `--workers W` shares the clients out
    over W processes instead, a thread and a connection per client, as `simkyc serve
    --workers W` on W cores serves that many concurrent clients (16 client processes on 2
    cores spent 1.6-2x the client CPU per registration of 16 clients over 2 processes);
    `--apart` deals each person's attempts to one client (agents serving different
    customers), so clients never queue on one another's person lock; without it the
    shuffled attempts make concurrent clients contend for the same persons (the cap's lock
    serialises them: `Lock:transactionid` in the wait sample).
    With `--count-trips` each run prints the statements per call that SQLAlchemy's events see
    (by kind, and commits): on PostgreSQL the judge's statements go through the driver
    (simkyc.db.driver) and are not among them; bench/registry_profile.py counts every round
    trip on the wire. Off by default, since the listeners cost the clients CPU.

Caveat
    Without SIMKYC_PG_DURABLE=1, scripts/postgres.sh runs PostgreSQL with fsync,
    synchronous_commit and full_page_writes off: commits cost no disk flush, so those
    figures are an upper bound for a durable deployment (where batching gains more: one
    flush per batch). The clients and the server share the machine's cores.

Run (durable: a cluster of its own, fsync on)
    export URL=$(SIMKYC_PG_DIR=/tmp/pg-bench SIMKYC_PG_DURABLE=1 SIMKYC_PG_DB=simkyc_bench \\
                 scripts/postgres.sh)
    .venv/bin/python bench/registry.py --url "$URL" [--persons 1000] [--threads 1 4 16]
        [--batch 1 500] [--processes [--apart]] [--sqlite] [--ceiling 5] [--count-trips]
    (the database's schema is dropped and migrated anew for each run; --sqlite repeats each
    run on a new SQLite file; --ceiling N runs bench/pg_ceiling.py's pgbench for N seconds
    after each single-registration run, at as many clients, and prints the share of it
    the registrations reached)
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import random
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pg_ceiling
from sqlalchemy import Engine, event, func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from simkyc.auth.actors import Actor
from simkyc.auth.models import Role
from simkyc.db.base import new_id
from simkyc.db.engine import create_db_engine, session_factory
from simkyc.db.migrate import upgrade
from simkyc.errors import LineCapExceeded, SimkycError
from simkyc.privacy.crypto import place, seal
from simkyc.privacy.keyring import Keyring
from simkyc.privacy.pseudonyms import DocumentIdentity, pseudonym
from simkyc.privacy.tlog import LogKeys, integrate, verify_log
from simkyc.proofing.models import Outcome, ProofingSession, Purpose
from simkyc.records.models import Line, LineStatus, Person, ServiceType
from simkyc.registry import accounts, batch, lines
from simkyc.registry.batch import Registration
from simkyc.registry.numbers import luhn_valid
from simkyc.rules.profiles import default_profiles

JURISDICTION, CAP = "CN", 5
# The wait sampler's period: every 5 ms it took a visible share of the 2 cores the clients and
# the server share (200 pg_stat_activity scans a second); 25 ms still samples a run thousands
# of times.
SAMPLE_S = 0.025
TICKS_PER_S = os.sysconf("SC_CLK_TCK")
NOW = datetime.now(UTC)


@dataclass(frozen=True)
class Attempt:
    """One registration to make: which approved session, which numbers."""

    proofing_id: str
    msisdn: str
    iccid: str
    person_id: str


@dataclass(frozen=True)
class RunResult:
    """What one timed run gave."""

    backend: str
    threads: int
    batch: int
    wall_s: float
    cpu_s: float
    outcomes: Counter[str]
    latencies_ms: list[float]
    round_trips: Counter[str]  # statements and commits sent during the timed run
    sampled: Sampled
    ceiling: float | None = None  # pgbench's one-row-insert commits/s at as many clients

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
    """An empty, migrated registry. On PostgreSQL the schema is dropped and made anew (the
    audit log refuses TRUNCATE, DELETE and UPDATE); a SQLite file is expected to be new."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)


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
    attempts = [Attempt(str(s["id"]), f"+86139{i:08d}", iccid(i), str(s["person_id"]))
                for i, s in enumerate(approved)]
    random.Random(7).shuffle(attempts)
    return attempts


def register(factory: sessionmaker[Session], actor: Actor, keyring: Keyring,
             chunk: list[Attempt]) -> list[str]:
    """One timed call: `register_line` for a chunk of one, else `register_lines`; the
    outcome code of each attempt."""
    with factory() as db:
        if len(chunk) == 1:
            return [_single(db, actor, keyring, chunk[0])]
        items = [Registration(a.proofing_id, a.msisdn, a.iccid) for a in chunk]
        done = batch.register_lines(db, actor=actor, items=items, profiles=default_profiles(),
                                    keyring=keyring, now=datetime.now(UTC))
    return [_code(o.error) if o.error else "registered" for o in done]


def _single(db: Session, actor: Actor, keyring: Keyring, attempt: Attempt) -> str:
    try:
        lines.register_line(db, actor=actor, proofing_id=attempt.proofing_id,
                            msisdn=attempt.msisdn, iccid=attempt.iccid,
                            service=ServiceType.MOBILE, profiles=default_profiles(),
                            keyring=keyring, now=datetime.now(UTC))
    except SimkycError as error:
        return _code(error)
    return "registered"


def _code(error: SimkycError) -> str:
    return "cap_refused" if isinstance(error, LineCapExceeded) else error.code


def run_workers(factory: sessionmaker[Session], actor: Actor, keyring: Keyring,
                attempts: list[Attempt], *, threads: int, size: int
                ) -> tuple[float, float, Counter[str], list[float]]:
    """Threads pull chunks of `size` attempts off one shared list until none are left; wall
    and this process's CPU seconds, outcomes, per-call latencies."""
    chunks = iter([attempts[i:i + size] for i in range(0, len(attempts), size)])
    lock = threading.Lock()
    outcomes, latencies = Counter[str](), list[float]()

    def worker() -> None:
        while True:
            with lock:
                chunk = next(chunks, None)
            if chunk is None:
                return
            started = time.perf_counter()
            codes = register(factory, actor, keyring, chunk)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                outcomes.update(codes)
                latencies.append(elapsed)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started, cpu = time.perf_counter(), time.process_time()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - started, time.process_time() - cpu, outcomes, latencies


def run_processes(url: str, actor: Actor, keyring: Keyring, attempts: list[Attempt], *,
                  clients: int, size: int, apart: bool, trips: Counter[str],
                  count_trips: bool, workers: int = 0
                  ) -> tuple[float, float, Counter[str], list[float]]:
    """Each client its own process (own engine, one connection): no GIL shared between
    clients; or with `workers` W the clients shared out over W processes, a thread and a
    connection per client (16 concurrent clients served by `simkyc serve --workers W` on W
    cores, instead of 16 worker processes time-sharing them). Attempts are dealt
    round-robin, or with `apart` each person's to one client (agents serving different
    customers: no client waits on another's lock of a person); the processes start
    together (a barrier) and the wall time is the slowest one's."""
    if apart:
        owner = {p: i % clients for i, p in enumerate(dict.fromkeys(a.person_id
                                                                     for a in attempts))}
        dealt = [[a for a in attempts if owner[a.person_id] == i] for i in range(clients)]
    else:
        dealt = [attempts[i::clients] for i in range(clients)]
    processes = min(workers, clients) if workers else clients
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(processes + 1), context.Queue()
    procs = [context.Process(target=_client, args=(
        ClientJob(url, actor, keyring, dealt[i::processes], size, count_trips), barrier,
        results)) for i in range(processes)]
    for proc in procs:
        proc.start()
    barrier.wait()
    started = time.perf_counter()
    parts = [results.get() for _ in procs]
    for *_, sent in parts:
        trips.update(sent)
    wall = time.perf_counter() - started
    for proc in procs:
        proc.join()
    outcomes, latencies = Counter[str](), list[float]()
    for codes, timings, *_ in parts:
        outcomes.update(codes)
        latencies.extend(timings)
    return wall, sum(cpu for _, _, cpu, _ in parts), outcomes, latencies


@dataclass(frozen=True)
class ClientJob:
    """What one client process registers (one list of attempts per client it runs, each
    client a thread with its own connection), and where."""

    url: str
    actor: Actor
    keyring: Keyring
    clients: list[list[Attempt]]
    size: int
    count_trips: bool


def _client(job: ClientJob, barrier: Any, results: Any) -> None:
    engine = create_db_engine(job.url, pool_size=len(job.clients))
    try:
        factory = session_factory(engine)
        connections = [engine.connect() for _ in job.clients]  # connect before the start
        for connection in connections:
            connection.close()
        parts: list[tuple[float, float, Counter[str], list[float]]] = []

        def client(attempts: list[Attempt]) -> None:
            parts.append(run_workers(factory, job.actor, job.keyring, attempts, threads=1,
                                     size=job.size))

        threads = [threading.Thread(target=client, args=(a,)) for a in job.clients]
        with round_trips(engine, counting=job.count_trips) as sent:
            barrier.wait()
            cpu = time.process_time()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            cpu = time.process_time() - cpu
        outcomes, latencies = Counter[str](), list[float]()
        for _, _, codes, timings in parts:
            outcomes.update(codes)
            latencies.extend(timings)
        results.put((outcomes, latencies, cpu, sent))
    finally:
        engine.dispose()


@contextmanager
def round_trips(engine: Engine, *, counting: bool = True) -> Iterator[Counter[str]]:
    """Statements (by their first word) and commits sent through `engine` inside the block,
    counted with SQLAlchemy's events: what one registration costs in round trips. Off unless
    `counting`: the listeners cost the client ~0.3 ms of CPU per registration
    (bench/registry_profile.py, 2.65 vs 2.2-2.5 ms), so a timed run counts nothing."""
    sent = Counter[str]()
    if not counting:
        yield sent
        return

    def statement(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if "pg_stat_activity" not in sql:  # the wait sampler's own query
            sent[sql.split(None, 1)[0].upper()] += 1

    def commit(_conn: Any) -> None:
        sent["COMMIT"] += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)


@dataclass
class Sampled:
    """What the sampler saw during a run: backend wait events, the backends' CPU seconds (by
    /proc, first and last sight of each backend pid) and the machine's busy share of its
    cores (/proc/stat)."""

    waits: Counter[str] = field(default_factory=Counter)
    backend_cpu: dict[int, tuple[float, float]] = field(default_factory=dict)
    machine_busy: float = 0.0

    def backend_cpu_s(self) -> float:
        return sum(last - first for first, last in self.backend_cpu.values())


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot (/proc/stat's cpu line)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def process_cpu_s(pid: int) -> float | None:
    """A local process's user + system CPU seconds, None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S


@contextmanager
def wait_sampler(engine: Engine) -> Iterator[Sampled]:
    """On PostgreSQL, what the other backends of this database do (a wait event, running, or
    idle waiting for their client: `client:idle`, `client:idle in transaction`) and their
    CPU, sampled every SAMPLE_S; on any backend, the machine's busy share over the block.
    Counting the idle ones too matters: an active backend at 16 clients is mostly in the WAL
    flush, but most backends are not active, they wait for their client's Python."""
    sampled, stop = Sampled(), threading.Event()

    def sample() -> None:
        query = text("SELECT pid, CASE WHEN state = 'active' THEN coalesce(wait_event_type "
                     "|| ':' || wait_event, 'CPU/running') ELSE 'client:' || state END "
                     "FROM pg_stat_activity WHERE datname = current_database() "
                     "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
        with engine.connect() as connection:
            while not stop.wait(SAMPLE_S):
                for pid, event in connection.execute(query):
                    sampled.waits[str(event)] += 1
                    if (cpu := process_cpu_s(pid)) is not None:
                        first = sampled.backend_cpu.get(pid, (cpu, cpu))[0]
                        sampled.backend_cpu[pid] = (first, cpu)
                connection.rollback()

    sampler = threading.Thread(target=sample, daemon=True)
    if engine.dialect.name == "postgresql":
        sampler.start()
    busy, total = machine_ticks()
    try:
        yield sampled
    finally:
        stop.set()
        if sampler.is_alive():
            sampler.join()
        now_busy, now_total = machine_ticks()
        sampled.machine_busy = (now_busy - busy) / max(1, now_total - total)


def check(factory: sessionmaker[Session], result: RunResult) -> str:
    """Caps held and the audit chain verifies; raises if not."""
    with factory() as db:
        most = db.execute(select(func.count(Line.id)).where(
            Line.status != LineStatus.CANCELLED).group_by(Line.holder_id)
            .order_by(func.count(Line.id).desc()).limit(1)).scalar_one_or_none() or 0
        keys = LogKeys.from_keyring(Keyring.generate(), origin="simkyc.bench/audit")
        integrate(db, keys=keys, now=datetime.now(UTC))
        chain = verify_log(db, keys=keys)
    assert most <= CAP, f"a person holds {most} lines (cap {CAP})"
    assert chain.ok, f"audit log broken: {chain.problems[:5]}"
    unexpected = set(result.outcomes) - {"registered", "cap_refused"}
    assert not unexpected, f"unexpected outcomes: {unexpected}"
    return f"max lines per person {most} <= {CAP}; audit log ok ({chain.size} entries)"


def bench(url: str, *, threads: int, size: int, persons: int, sessions: int,
          pool: int, processes: bool = False, apart: bool = False,
          count_trips: bool = False, workers: int = 0) -> RunResult:
    """Reset, prepare (untimed), run the registrations (timed), check."""
    engine = create_db_engine(url, pool_size=pool)
    try:
        reset(engine)
        factory, keyring = session_factory(engine), Keyring.generate()
        actor = agent(factory)
        attempts = prepare(factory, keyring, actor, persons=persons, sessions=sessions)
        trips = Counter[str]()
        with wait_sampler(engine) as sampled:
            if processes:
                engine.dispose()  # the clients fork: no pooled connection crosses over
                timings = run_processes(url, actor, keyring, attempts, clients=threads,
                                        size=size, apart=apart, trips=trips,
                                        count_trips=count_trips, workers=workers)
            else:
                with round_trips(engine, counting=count_trips) as trips:
                    timings = run_workers(factory, actor, keyring, attempts, threads=threads,
                                          size=size)
        result = RunResult(engine.dialect.name, threads, size, *timings, trips, sampled)
        print(f"  check: {check(factory, result)}")
        return result
    finally:
        engine.dispose()


def lines_per_s(result: RunResult) -> float:
    return result.outcomes["registered"] / result.wall_s


def report(result: RunResult) -> None:
    registered = result.outcomes["registered"]
    print(f"{result.backend:10s} threads={result.threads:2d} batch={result.batch}/txn "
          f"attempts={result.attempts} registered={registered} "
          f"cap_refused={result.outcomes['cap_refused']} wall={result.wall_s:.2f}s")
    print(f"  {result.attempts / result.wall_s:8.0f} attempts/s {lines_per_s(result):8.0f} "
          f"lines/s  per call: p50={result.percentile(0.5):.1f} ms "
          f"p99={result.percentile(0.99):.1f} ms  client CPU "
          f"{1000 * result.cpu_s / result.attempts:.2f} ms/attempt")
    waits = result.sampled.waits
    if total := sum(waits.values()):
        top = ", ".join(f"{name} {100 * n / total:.0f}%" for name, n in waits.most_common(7))
        print(f"  pg backends (sampled; client:* = idle, waiting for its client): {top}")
        print(f"  pg backends' CPU {1000 * result.sampled.backend_cpu_s() / result.attempts:.2f}"
              f" ms/attempt (/proc, sampled pids)")
    print(f"  machine busy {100 * result.sampled.machine_busy:.0f}% of its "
          f"{os.cpu_count()} cores (/proc/stat, all processes)")
    if result.ceiling is not None:
        print(f"  pgbench one-row-insert ceiling at {result.threads} clients: "
              f"{result.ceiling:.0f} commits/s; registrations reach "
              f"{100 * result.attempts / result.wall_s / result.ceiling:.1f}% of it")
    calls = len(result.latencies_ms)
    if not result.round_trips:
        return
    trips = ", ".join(f"{name} {n / calls:.1f}" for name, n in result.round_trips.most_common())
    print(f"  round trips per call (SQLAlchemy events): "
          f"{sum(result.round_trips.values()) / calls:.1f} ({trips})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--url", required=True, help="PostgreSQL SQLAlchemy URL (emptied!)")
    parser.add_argument("--sqlite", action="store_true", help="also run each on SQLite")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 500],
                        help="registrations per transaction (1: the single-line service)")
    parser.add_argument("--processes", action="store_true",
                        help="each client (--threads) its own process instead of a thread")
    parser.add_argument("--apart", action="store_true",
                        help="with --processes: each person's attempts go to one client")
    parser.add_argument("--persons", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=CAP + 1, help="attempts per person")
    parser.add_argument("--workers", type=int, default=0,
                        help="with --processes: the clients shared out over this many "
                        "processes (a thread and a connection per client), as `simkyc serve "
                        "--workers N` serves concurrent clients; 0: a process per client")
    parser.add_argument("--count-trips", action="store_true",
                        help="count round trips per call (SQLAlchemy events; they cost the "
                        "clients CPU, so the rate is then a little lower)")
    parser.add_argument("--ceiling", type=float, default=0, metavar="SECONDS",
                        help="after each PostgreSQL single-registration run, pgbench's "
                        "one-row-insert commits/s at as many clients for this long")
    args = parser.parse_args()
    results: dict[tuple[str, int, int], RunResult] = {}
    with tempfile.TemporaryDirectory() as folder:
        for threads, size in itertools.product(args.threads, args.batch):
            sqlite_url = f"sqlite:///{Path(folder) / f'{threads}-{size}.db'}"
            for url in (args.url, sqlite_url) if args.sqlite else (args.url,):
                result = bench(url, threads=threads, size=size, persons=args.persons,
                               sessions=args.sessions, pool=max(threads, 2) + 2,
                               processes=args.processes, apart=args.apart,
                               count_trips=args.count_trips, workers=args.workers)
                if args.ceiling and size == 1 and result.backend == "postgresql":
                    result = replace(result, ceiling=pg_ceiling.ceiling(
                        url, clients=threads, seconds=args.ceiling))
                results[(result.backend, threads, size)] = result
                report(result)
                if args.processes and args.workers:
                    print(f"  clients served by {min(args.workers, threads)} processes")
    ratios(results)


def ratios(results: dict[tuple[str, int, int], RunResult]) -> None:
    """Each run's lines/s over the single-line service's on the same backend and threads."""
    for (backend, threads, size), run in sorted(results.items()):
        peer = results.get((backend, threads, 1))
        if size != 1 and peer is not None:
            print(f"ratio {backend} batch={size}/batch=1 lines/s at {threads} threads: "
                  f"{lines_per_s(run) / lines_per_s(peer):.1f}x "
                  f"({lines_per_s(run):.0f} vs {lines_per_s(peer):.0f})")


if __name__ == "__main__":
    main()
