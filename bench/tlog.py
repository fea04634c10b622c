"""The transparency log on PostgreSQL: inclusion-proof latency at scale, integration rate, and
integration lag under concurrent writers.

What it measures
    1. Proof latency (`--tree N`, default 10 million). A BENCHMARK FIXTURE, not the product's
       write path: the Merkle tree of N synthetic leaves (leaf i = SHA-256(0x00 ||
       "bench-leaf-<i>")) is computed here and COPYed straight into `tlog_nodes` (every
       complete subtree, as the integrator stores them), with a checkpoint signed over its
       root (untimed setup; about 2N rows). Then `tlog.inclusion_proof` is timed for
       `--proofs` random leaves against that checkpoint, and in the same loop, the same way,
       the peer: one plain primary-key read (`tlog_nodes` by (level, idx), a random leaf).
       p50/p99/max in ms for both and the ratio of the p99s. A sample of the proofs is checked
       against the signed root (RFC 9162 2.1.3.2), so the fixture is a real tree.
    2. Integration rate (`--integrate N`, default 0 = skipped): N synthetic audit entries
       COPYed into `audit_entries` (untimed), then `tlog.integrate` folds them (timed).
    3. Lag: `--writers W` threads append audit entries (`audit.append`, one per transaction,
       as a registration does) for `--seconds`, while the integrator runs as in `simkyc
       serve` (`--interval`, default 0.2 s). Lag of an entry = signing time of the first
       checkpoint covering it - its commit time; p50/p99/max.

Run (durable PostgreSQL: fsync on; a cluster of its own, not the tests' one)
    export URL=$(SIMKYC_PG_DIR=/tmp/pg-bench SIMKYC_PG_DURABLE=1 SIMKYC_PG_DB=simkyc_bench \\
                 scripts/postgres.sh)
    .venv/bin/python bench/tlog.py --url "$URL" [--tree 10000000] [--writers 1 16]
    (the database's schema is dropped and migrated anew for each part)
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
from sqlalchemy import Engine, bindparam, select, text

from simkyc.auth.actors import SYSTEM
from simkyc.db.engine import create_db_engine, session_factory
from simkyc.db.migrate import upgrade
from simkyc.privacy import audit, merkle, tlog
from simkyc.privacy.integrator import Integrator
from simkyc.privacy.keyring import Keyring
from simkyc.privacy.models import TlogCheckpoint, TlogLeaf, TlogNode

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


def tree_rows(count: int, stack: list[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """BENCHMARK FIXTURE: every complete subtree (level, idx, hash) of a tree of `count`
    synthetic leaves, as the integrator's Frontier stores them; `stack` ends as the frontier
    (the hashes the root folds)."""
    sha = hashlib.sha256
    for i in range(count):
        h = sha(b"\x00bench-leaf-%d" % i).digest()
        yield 0, i, h
        level, j = 0, i
        while j & 1:
            h = sha(b"\x01" + stack.pop() + h).digest()
            level, j = level + 1, j >> 1
            yield level, j, h
        stack.append(h)


def build_tree(engine: Engine, keys: tlog.LogKeys, count: int) -> None:
    """BENCHMARK FIXTURE: the tree of `count` synthetic leaves written straight into
    tlog_nodes by COPY (primary key dropped during the copy, then rebuilt), and a checkpoint
    signed over its root."""
    frontier: list[bytes] = []
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("ALTER TABLE tlog_nodes DROP CONSTRAINT pk_tlog_nodes")
        with cursor.copy("COPY tlog_nodes (level, idx, hash) FROM STDIN (FORMAT BINARY)"
                         ) as copy:
            copy.set_types(["int2", "int8", "bytea"])
            for row in tree_rows(count, frontier):
                copy.write_row(row)
        cursor.execute("ALTER TABLE tlog_nodes ADD CONSTRAINT pk_tlog_nodes "
                       "PRIMARY KEY (level, idx)")
        raw.commit()
    finally:
        raw.close()
    with session_factory(engine)() as db:
        tlog._sign(db, keys=keys, size=count, root=merkle.fold(frontier), now=datetime.now(UTC))
        db.execute(text("ANALYZE tlog_nodes"))
        db.commit()


def proof_latency(engine: Engine, keys: tlog.LogKeys, *, size: int, count: int) -> None:
    started = time.perf_counter()
    build_tree(engine, keys, size)
    print(f"fixture: tree of {size} leaves ({2 * size - size.bit_count()} nodes) built "
          f"and copied in {time.perf_counter() - started:.0f} s (untimed setup)")
    rng = random.Random(7)
    with session_factory(engine)() as db:
        latest = tlog.latest_checkpoint(db)
        assert latest is not None and latest.size == size
        picks = [(rng.randrange(size), rng.randrange(size)) for _ in range(count)]
        for index, _ in picks[:100]:  # warm-up; and each checked against the signed root
            path = tlog.inclusion_proof(db, index=index, size=size)
            leaf = merkle.leaf_hash(b"bench-leaf-%d" % index)
            assert merkle.verify_inclusion(leaf=leaf, index=index, size=size, proof=path,
                                           root=latest.root), f"bad proof for leaf {index}"
        peer = select(TlogNode.hash).where(TlogNode.level == 0, TlogNode.idx == bindparam("i"))
        timed_proof, timed_read = [], []
        for index, other in picks:
            t = time.perf_counter()
            tlog.inclusion_proof(db, index=index, size=size)
            timed_proof.append(1000 * (time.perf_counter() - t))
            t = time.perf_counter()
            db.execute(peer, {"i": other}).scalar_one()
            timed_read.append(1000 * (time.perf_counter() - t))
    print(f"inclusion proof, tree of {size}: {percentiles(timed_proof)} ms "
          f"({count} random leaves)")
    print(f"peer: one node by primary key:   {percentiles(timed_read)} ms")
    print(f"ratio p99 proof / p99 read: "
          f"{np.percentile(timed_proof, 99) / np.percentile(timed_read, 99):.1f}x")


def integration_rate(engine: Engine, keys: tlog.LogKeys, *, entries: int) -> None:
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
    parser.add_argument("--tree", type=int, default=10_000_000,
                        help="leaves of the proof-latency fixture (0: skip)")
    parser.add_argument("--proofs", type=int, default=2000)
    parser.add_argument("--integrate", type=int, default=0,
                        help="entries to COPY and integrate, timed (0: skip)")
    parser.add_argument("--writers", type=int, nargs="+", default=[16],
                        help="writer threads of each lag run (0: skip)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--interval", type=float, default=0.2)
    args = parser.parse_args()
    keys = tlog.LogKeys.from_keyring(Keyring.generate(), origin="simkyc.bench/audit")
    engine = create_db_engine(args.url, pool_size=max(args.writers) + 4)
    try:
        if args.tree:
            reset(engine)
            proof_latency(engine, keys, size=args.tree, count=args.proofs)
        if args.integrate:
            reset(engine)
            integration_rate(engine, keys, entries=args.integrate)
        for writers in (w for w in args.writers if w > 0):
            reset(engine)
            lag(engine, keys, writers=writers, seconds=args.seconds, interval=args.interval)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
