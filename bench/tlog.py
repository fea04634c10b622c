"""The transparency log on PostgreSQL: integration rate, inclusion-proof latency at scale, and
integration lag under concurrent writers.

What it measures
    1. `--entries N` synthetic audit entries are COPYed in (untimed), then `tlog.integrate`
       folds them all into the Merkle tree (timed: entries/s, one integrator), then
       `tlog.inclusion_proof` is timed for `--proofs` random leaves against the latest
       checkpoint (p50/p99/max, ms; the peer is one primary-key lookup of an audit entry,
       timed the same way, so the ratio says what a proof costs over reading the entry).
    2. `--writers W` threads append audit entries (`audit.append`, one per transaction, as a
       registration does) for `--seconds`, while the integrator runs as in `simkyc serve`
       (`SIMKYC_LOG_INTEGRATE_INTERVAL_S`, default 0.2 s). Lag of an entry = signing time of
       the first checkpoint covering it - its commit time; p50/p99/max.

Run (durable PostgreSQL: fsync on)
    export URL=$(SIMKYC_PG_DIR=/tmp/pg-bench SIMKYC_PG_DURABLE=1 SIMKYC_PG_DB=simkyc_bench \\
                 scripts/postgres.sh)
    .venv/bin/python bench/tlog.py --url "$URL" [--entries 10000000] [--writers 16]
    (the database's schema is dropped and migrated anew)
"""

from __future__ import annotations

import argparse
import hashlib
import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Engine, select, text

from simkyc.auth.actors import SYSTEM
from simkyc.db.engine import create_db_engine, session_factory
from simkyc.db.migrate import upgrade
from simkyc.privacy import audit, tlog
from simkyc.privacy.integrator import Integrator
from simkyc.privacy.keyring import Keyring
from simkyc.privacy.models import AuditEntry, TlogCheckpoint, TlogLeaf

BLOCK = 100_000
STAMP = "2026-01-01T00:00:00.000000+00:00"


def reset(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)


def entry_block(start: int, stop: int) -> Iterator[str]:
    """COPY text rows of synthetic entries start..stop-1 (seq from 1)."""
    for seq in range(start + 1, stop + 1):
        row = {"seq": seq, "at": STAMP, "actor_id": "bench", "actor_role": "agent",
               "operator_id": None, "action": "person.read", "purpose": "oversight",
               "subject_id": f"p{seq % 1_000_003:031d}", "object_id": None, "detail": "{}",
               "prev_hash": ""}
        digest = audit.leaf_data(row)
        yield (f"{seq}\t{STAMP}\tbench\tagent\t\\N\tperson.read\toversight\t"
               f"{row['subject_id']}\t\\N\t{{}}\t\t{hashlib.sha256(digest).hexdigest()}\t0\n")


def fill(engine: Engine, count: int) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        columns = ("seq, at, actor_id, actor_role, operator_id, action, purpose, subject_id, "
                   "object_id, detail, prev_hash, hash, txid")
        with cursor.copy(f"COPY audit_entries ({columns}) FROM STDIN") as copy:
            for start in range(0, count, BLOCK):
                copy.write("".join(entry_block(start, min(start + BLOCK, count))).encode())
        cursor.execute("SELECT setval('audit_entries_seq_seq', %s)", (count,))
        raw.commit()
    finally:
        raw.close()


def percentiles(values: list[float]) -> str:
    a = np.asarray(values)
    return (f"p50={np.percentile(a, 50):.2f} p99={np.percentile(a, 99):.2f} "
            f"max={a.max():.2f}")


def proofs(engine: Engine, keys: tlog.LogKeys, *, entries: int, count: int) -> None:
    factory = session_factory(engine)
    started = time.perf_counter()
    fill(engine, entries)
    print(f"copy {entries} entries: {time.perf_counter() - started:.1f} s (untimed setup)")
    with factory() as db:
        started = time.perf_counter()
        done = tlog.integrate(db, keys=keys, now=datetime.now(UTC), batch=50_000)
        spent = time.perf_counter() - started
    assert done is not None and done.size == entries
    print(f"integrate {entries} entries: {spent:.1f} s = {entries / spent:.0f} entries/s")
    rng = random.Random(7)
    with factory() as db:
        latest = tlog.latest_checkpoint(db)
        assert latest is not None
        picks = [rng.randrange(latest.size) for _ in range(count)]
        timed_proof, timed_read = [], []
        for index in picks[:100]:  # warm-up
            tlog.inclusion_proof(db, index=index, size=latest.size)
        for index in picks:
            t = time.perf_counter()
            tlog.inclusion_proof(db, index=index, size=latest.size)
            timed_proof.append(1000 * (time.perf_counter() - t))
            t = time.perf_counter()
            db.execute(select(AuditEntry).where(AuditEntry.seq == index + 1)).scalar_one()
            timed_read.append(1000 * (time.perf_counter() - t))
    print(f"inclusion proof, tree of {latest.size}: {percentiles(timed_proof)} ms")
    print(f"peer: entry by primary key:       {percentiles(timed_read)} ms")
    print(f"ratio p99 proof / p99 read: "
          f"{np.percentile(timed_proof, 99) / np.percentile(timed_read, 99):.1f}x")


def lag(engine: Engine, keys: tlog.LogKeys, *, writers: int, seconds: float,
        interval: float) -> None:
    factory = session_factory(engine)
    integrator = Integrator(sessions=factory, keys=keys, interval_s=interval,
                            clock=lambda: datetime.now(UTC))
    committed: list[tuple[int, float]] = []
    stop = time.monotonic() + seconds

    def write() -> None:
        mine = []
        with factory() as db:
            while time.monotonic() < stop:
                record = audit.append(db, actor=SYSTEM, action=audit.AuditAction.PERSON_READ,
                                      purpose=audit.AccessPurpose.OVERSIGHT, subject_id=None,
                                      object_id=None, now=datetime.now(UTC))
                db.commit()
                mine.append((record.seq, time.time()))
        committed.extend(mine)

    integrator.start()
    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    time.sleep(3 * interval + 1)
    integrator.stop()
    with factory() as db:
        index = dict(db.execute(select(TlogLeaf.seq, TlogLeaf.idx)).all())
        points = db.execute(select(TlogCheckpoint.size, TlogCheckpoint.signed_at)
                            .order_by(TlogCheckpoint.size)).all()
    sizes = np.asarray([p.size for p in points])
    signed = [p.signed_at.timestamp() for p in points]
    lags = []
    for seq, at in committed:
        first = int(np.searchsorted(sizes, index[seq] + 1))  # first checkpoint size > idx
        lags.append(1000 * (signed[first] - at))
    print(f"{writers} writers, {len(committed)} entries in {seconds:.0f} s "
          f"({len(committed) / seconds:.0f}/s), {len(points)} checkpoints; "
          f"integration lag {percentiles(lags)} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="PostgreSQL SQLAlchemy URL (emptied!)")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--proofs", type=int, default=2000)
    parser.add_argument("--writers", type=int, nargs="+", default=[16])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--interval", type=float, default=0.2)
    args = parser.parse_args()
    keys = tlog.LogKeys.from_keyring(Keyring.generate(), origin="simkyc.bench/audit")
    engine = create_db_engine(args.url, pool_size=max(args.writers) + 4)
    try:
        if args.entries:
            reset(engine)
            proofs(engine, keys, entries=args.entries, count=args.proofs)
        for writers in args.writers:
            reset(engine)
            lag(engine, keys, writers=writers, seconds=args.seconds, interval=args.interval)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
