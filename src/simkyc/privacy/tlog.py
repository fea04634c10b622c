"""The transparency log over the audit entries: integrator, checkpoints, proofs, verification.

Writers only insert entries (simkyc.privacy.audit). The integrator - one at a time, by a
PostgreSQL advisory lock (SQLite: one process) - folds committed entries into the RFC 9162
tree in (txid, seq) order: every entry of a transaction below the *horizon* is final (no
transaction still running can write one), so the order never has to change afterwards. It
stores every complete subtree's hash (tlog_nodes), so proofs are O(log n) key lookups, and
signs a C2SP checkpoint per round with the keyring's Ed25519 key.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select, text, tuple_
from sqlalchemy.orm import Session

from simkyc.errors import CheckpointInvalid, ProofUnavailable
from simkyc.privacy.audit import HASHED_FIELDS, AuditRecord, leaf_data, record_of
from simkyc.privacy.keyring import Keyring
from simkyc.privacy.merkle import (
    Frontier,
    Span,
    build_proof,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    needed_spans,
    range_root,
    spans,
)
from simkyc.privacy.models import AuditEntry, TlogCheckpoint, TlogLeaf, TlogNode
from simkyc.privacy.note import Checkpoint, Signer, VerifierKey, open_note
from simkyc.privacy.proof import EntryProof

log = logging.getLogger(__name__)

# pg_try_advisory_xact_lock key of the integrator ("simkylog" in ASCII, as a signed bigint).
INTEGRATOR_LOCK = 0x73696D6B796C6F67
NO_HORIZON = 2**63 - 1
_ENTRY_COLUMNS = [getattr(AuditEntry, name) for name in HASHED_FIELDS]

# A nested loop of primary-key probes: the planner's estimate for unnest (100 rows) makes an
# index scan per row far cheaper than any scan of tlog_nodes.
_PG_LOOKUP = text(
    "SELECT n.level, n.idx, n.hash FROM unnest(CAST(:levels AS smallint[]), "
    "CAST(:idxs AS bigint[])) AS w(level, idx) "
    "JOIN tlog_nodes AS n ON n.level = w.level AND n.idx = w.idx")


@dataclass(frozen=True)
class LogKeys:
    """The log's origin, its signing key (the keyring's active one) and every verifier key
    it has signed with, by keyring id."""

    origin: str
    signer_id: str
    signer: Signer
    verifiers: Mapping[str, VerifierKey]

    @classmethod
    def from_keyring(cls, keyring: Keyring, *, origin: str) -> LogKeys:
        keys = keyring.log_keys()
        verifiers = {key_id: Signer(origin, seed).verifier for key_id, seed in keys.keys.items()}
        return cls(origin=origin, signer_id=keys.active,
                   signer=Signer(origin, keys.active_key), verifiers=verifiers)


@dataclass(frozen=True)
class StoredCheckpoint:
    """A checkpoint as kept: its signed note and the id of the key that signed it."""

    size: int
    root: bytes
    note: str
    key_id: str
    signed_at: datetime


@dataclass(frozen=True)
class Integration:
    """One integrator round: the tree grew from `before` to `size` leaves."""

    before: int
    size: int
    checkpoint: StoredCheckpoint | None


def integrate(session: Session, *, keys: LogKeys, now: datetime,
              batch: int = 20_000) -> Integration | None:
    """Fold every final, not yet integrated entry into the tree and sign a checkpoint (then
    commit). None when another process holds the integrator's lock."""
    if not _take_lock(session):
        session.rollback()
        return None
    horizon = _horizon(session)
    size = tree_size(session)
    frontier = Frontier(size, [_lookup(session, set(spans(0, size)))[s] for s in spans(0, size)])
    cursor = _cursor(session, size)
    while True:
        rows = session.execute(
            select(AuditEntry.txid, *_ENTRY_COLUMNS)
            .where(tuple_(AuditEntry.txid, AuditEntry.seq) > tuple_(*cursor),
                   AuditEntry.txid < horizon)
            .order_by(AuditEntry.txid, AuditEntry.seq).limit(batch)).all()
        if not rows:
            break
        leaves: list[dict[str, int]] = []
        nodes: list[dict[str, Any]] = []
        for row in rows:
            leaves.append({"idx": frontier.size, "seq": row.seq})
            made = frontier.append(leaf_hash(leaf_data(dict(row._mapping))))
            nodes.extend({"level": s.level, "idx": s.index, "hash": h} for s, h in made)
        session.execute(insert(TlogLeaf), leaves)
        session.execute(insert(TlogNode), nodes)
        cursor = (rows[-1].txid, rows[-1].seq)
    checkpoint = None
    if frontier.size > size or latest_checkpoint(session) is None:
        checkpoint = _sign(session, keys=keys, size=frontier.size, root=frontier.root(), now=now)
    session.commit()
    return Integration(before=size, size=frontier.size, checkpoint=checkpoint)


def _take_lock(session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: one process, and BEGIN IMMEDIATE serialises writers anyway
    stmt = text("SELECT pg_try_advisory_xact_lock(:key)")
    return bool(session.execute(stmt, {"key": INTEGRATOR_LOCK}).scalar_one())


def _horizon(session: Session) -> int:
    """Entries with a txid below this are final. PostgreSQL: the oldest transaction still
    running in this database (pg_stat_activity's 32-bit backend_xid, widened to 64 bits next
    to the snapshot's xmax), else the next transaction id. Our own transaction does not hold
    it back (tests integrate inside their own rolled-back transaction; the serving
    integrator writes nothing before it reads)."""
    if session.get_bind().dialect.name != "postgresql":
        return NO_HORIZON
    session.execute(text("SELECT pg_stat_clear_snapshot()"))
    xmax, own = session.execute(text(
        "SELECT pg_snapshot_xmax(pg_current_snapshot())::text, "
        "pg_current_xact_id_if_assigned()::text")).one()
    busy = session.execute(text(
        "SELECT backend_xid::text FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL")).scalars()
    base = int(xmax)
    limit = max(base, int(own) + 1) if own is not None else base
    return min([limit, *(_widen(int(x), base) for x in busy)])


def _widen(xid32: int, near: int) -> int:
    """The 64-bit transaction id whose low 32 bits are `xid32`, closest to `near`."""
    wide = (near & ~0xFFFFFFFF) | xid32
    if wide > near + 2**31:
        wide -= 2**32
    elif wide < near - 2**31:
        wide += 2**32
    return wide


def tree_size(session: Session) -> int:
    """How many entries the tree holds."""
    last = session.execute(select(TlogLeaf.idx).order_by(TlogLeaf.idx.desc()).limit(1)).scalar()
    return 0 if last is None else last + 1


def _cursor(session: Session, size: int) -> tuple[int, int]:
    """(txid, seq) of the newest leaf's entry: integration resumes after it."""
    if size == 0:
        return (-1, -1)
    row = session.execute(select(TlogLeaf.seq, AuditEntry.txid)
                          .join(AuditEntry, AuditEntry.seq == TlogLeaf.seq, isouter=True)
                          .where(TlogLeaf.idx == size - 1)).one()
    return (row.txid if row.txid is not None else 0, row.seq)


def _lookup(session: Session, wanted: set[Span]) -> dict[Span, bytes]:
    """The stored hashes of these spans, in one query of at most ~2 log2(n) primary-key
    reads. PostgreSQL: one statement of constant text (two arrays unnested and joined on the
    key), so its plan is prepared once per connection and each span is an index probe;
    SQLite: an IN list per level."""
    if not wanted:
        return {}
    if session.get_bind().dialect.name == "postgresql":
        ordered = sorted(wanted)
        rows = session.execute(_PG_LOOKUP, {"levels": [s.level for s in ordered],
                                            "idxs": [s.index for s in ordered]})
    else:
        by_level: dict[int, list[int]] = {}
        for span in wanted:
            by_level.setdefault(span.level, []).append(span.index)
        rows = session.execute(select(TlogNode.level, TlogNode.idx, TlogNode.hash).where(or_(*[
            (TlogNode.level == level) & TlogNode.idx.in_(idxs)
            for level, idxs in by_level.items()])))
    found = {Span(level, idx): bytes(h) for level, idx, h in rows}
    if len(found) != len(wanted):  # beyond the integrated tree (or nodes lost: see verify)
        raise ProofUnavailable("the log has not integrated a tree that large (yet).")
    return found


def _sign(session: Session, *, keys: LogKeys, size: int, root: bytes,
          now: datetime) -> StoredCheckpoint:
    note = keys.signer.sign(Checkpoint(origin=keys.origin, size=size, root=root))
    stored = StoredCheckpoint(size=size, root=root, note=note, key_id=keys.signer_id,
                              signed_at=now)
    session.execute(insert(TlogCheckpoint), [asdict(stored)])
    return stored


def latest_checkpoint(session: Session) -> StoredCheckpoint | None:
    """The newest signed checkpoint, None before the first integration."""
    row = session.execute(select(TlogCheckpoint).order_by(TlogCheckpoint.size.desc())
                          .limit(1)).scalar()
    return None if row is None else _stored(row)


def _stored(row: TlogCheckpoint) -> StoredCheckpoint:
    return StoredCheckpoint(size=row.size, root=bytes(row.root), note=row.note,
                            key_id=row.key_id, signed_at=row.signed_at)


def inclusion_proof(session: Session, *, index: int, size: int) -> list[bytes]:
    """The hashes proving leaf `index` is in the tree of `size` leaves (RFC 9162 2.1.3), in
    one query: a size beyond the integrated tree lacks nodes and is refused."""
    if not 0 <= index < size:
        raise ProofUnavailable(f"leaf {index} is not in a tree of size {size}.")
    return build_proof(inclusion_ranges(index, size), lambda w: _lookup(session, w))


def consistency_proof(session: Session, *, old: int, new: int) -> list[bytes]:
    """The hashes proving the tree of `new` leaves extends the one of `old` (RFC 9162 2.1.4);
    like inclusion proofs, one query."""
    if not 0 < old <= new:
        raise ProofUnavailable(f"no consistency proof from size {old} to {new}.")
    return build_proof(consistency_ranges(old, new), lambda w: _lookup(session, w))


def leaf_indexes(session: Session, seqs: Sequence[int]) -> dict[int, int]:
    """Leaf index by entry number, for the entries already integrated."""
    if not seqs:
        return {}
    rows = session.execute(select(TlogLeaf.seq, TlogLeaf.idx).where(TlogLeaf.seq.in_(seqs)))
    return {seq: idx for seq, idx in rows}


def entry_proofs(session: Session, *, entries: Sequence[AuditRecord], keys: LogKeys
                 ) -> dict[int, EntryProof]:
    """Inclusion proofs against the latest checkpoint for those of `entries` it covers (by
    entry number), with the spans of all of them fetched in one query."""
    latest = latest_checkpoint(session)
    if latest is None or latest.size == 0:
        return {}
    indexes = {s: i for s, i in leaf_indexes(session, [e.seq for e in entries]).items()
               if i < latest.size}
    ranges = {seq: inclusion_ranges(i, latest.size) for seq, i in indexes.items()}
    found = _lookup(session, needed_spans([r for rs in ranges.values() for r in rs]))
    vkey = keys.verifiers[latest.key_id].encode()
    return {e.seq: EntryProof(
        entry=e.leaf.decode("utf-8"), index=indexes[e.seq], tree_size=latest.size,
        inclusion=tuple(range_root(a, b, found) for a, b in ranges[e.seq]),
        checkpoint=latest.note, vkey=vkey) for e in entries if e.seq in indexes}


def entry_proof(session: Session, *, seq: int, keys: LogKeys) -> EntryProof:
    """One entry's proof against the latest checkpoint (`simkyc audit export-proof`)."""
    record = session.execute(select(AuditEntry).where(AuditEntry.seq == seq)).scalar()
    if record is None:
        raise ProofUnavailable(f"no audit entry {seq}.")
    proofs = entry_proofs(session, entries=[record_of(record)], keys=keys)
    if seq not in proofs:
        raise ProofUnavailable(f"entry {seq} is not in a signed checkpoint yet.")
    return proofs[seq]


@dataclass(frozen=True)
class LogProblem:
    """What is wrong, and where: a leaf index, or an entry number for entries not in the tree.

    Kinds: `missing_leaf` (a leaf index absent), `missing_entry` (a leaf whose entry is gone),
    `altered` (an entry that no longer hashes to its leaf), `unlogged` (an entry behind the
    integrator that no leaf holds: inserted afterwards), `checkpoint_mismatch` (a signed root
    the entries do not give: rewritten history, a fork), `bad_signature`, `beyond_tree`."""

    kind: str
    index: int | None = None
    seq: int | None = None


@dataclass(frozen=True)
class LogVerification:
    """The verdict on the whole log; `first_bad_index` names the earliest broken leaf."""

    ok: bool
    size: int
    checkpoints: int
    first_bad_index: int | None
    problems: tuple[LogProblem, ...]


def verify_log(session: Session, *, keys: LogKeys, batch: int = 5000) -> LogVerification:
    """Recompute every leaf from its entry and the tree from the leaves; check each stored
    checkpoint's signature and root (so checkpoints are consistent with one another), and look
    for entries the integrator passed but no leaf holds."""
    problems: list[LogProblem] = []
    checkpoints = [_stored(c) for c in session.execute(
        select(TlogCheckpoint).order_by(TlogCheckpoint.size)).scalars()]
    pending = iter(checkpoints)
    due = next(pending, None)
    frontier = Frontier()
    while due is not None and due.size == 0:
        problems.extend(_check_checkpoint(due, frontier.root(), keys))
        due = next(pending, None)
    for idx, leaf in _walk_leaves(session, batch):
        while frontier.size < idx:  # leaves missing: count them so later indexes stay put
            problems.append(LogProblem("missing_leaf", index=frontier.size))
            frontier.append(b"\x00" * 32)
        problems.extend(_check_leaf(idx, leaf))
        frontier.append(leaf_hash(leaf_data(leaf)) if leaf["seq"] is not None
                        else bytes(leaf["stored"] or b""))
        while due is not None and due.size == frontier.size:
            problems.extend(_check_checkpoint(due, frontier.root(), keys))
            due = next(pending, None)
    for rest in ([due] if due else []) + list(pending):
        problems.append(LogProblem("beyond_tree", index=rest.size))
    problems.extend(_unlogged(session, frontier.size))
    indexes = [p.index for p in problems if p.index is not None and p.kind != "beyond_tree"]
    return LogVerification(ok=not problems, size=frontier.size, checkpoints=len(checkpoints),
                           first_bad_index=min(indexes, default=None),
                           problems=tuple(problems))


def _walk_leaves(session: Session, batch: int) -> Iterator[tuple[int, dict[str, Any]]]:
    node = TlogNode.__table__.alias("leaf_node")
    stmt = (select(TlogLeaf.idx, node.c.hash.label("stored"), AuditEntry.hash.label("hash"),
                   *_ENTRY_COLUMNS)
            .select_from(TlogLeaf)
            .join(AuditEntry, AuditEntry.seq == TlogLeaf.seq, isouter=True)
            .join(node, (node.c.level == 0) & (node.c.idx == TlogLeaf.idx), isouter=True)
            .order_by(TlogLeaf.idx).execution_options(yield_per=batch))
    for row in session.execute(stmt):
        yield row.idx, dict(row._mapping)


def _check_leaf(idx: int, leaf: Mapping[str, Any]) -> list[LogProblem]:
    if leaf["seq"] is None:
        return [LogProblem("missing_entry", index=idx)]
    data = leaf_data(leaf)
    stored = None if leaf["stored"] is None else bytes(leaf["stored"])
    if stored != leaf_hash(data) or leaf["hash"] != hashlib.sha256(data).hexdigest():
        return [LogProblem("altered", index=idx, seq=leaf["seq"])]
    return []


def _check_checkpoint(stored: StoredCheckpoint, root: bytes, keys: LogKeys) -> list[LogProblem]:
    key = keys.verifiers.get(stored.key_id)
    try:
        if key is None:
            raise CheckpointInvalid(f"no verifier key {stored.key_id!r}")
        signed = open_note(stored.note, key)
    except CheckpointInvalid:
        return [LogProblem("bad_signature", index=stored.size)]
    if (signed.size, signed.root, signed.origin) != (stored.size, root, keys.origin):
        return [LogProblem("checkpoint_mismatch", index=stored.size)]
    return []


def _unlogged(session: Session, size: int) -> list[LogProblem]:
    """Entries at or before the integrator's cursor that no leaf holds."""
    if size == 0:
        return []
    cursor = _cursor(session, size)
    stmt = (select(AuditEntry.seq).join(TlogLeaf, TlogLeaf.seq == AuditEntry.seq, isouter=True)
            .where(TlogLeaf.idx.is_(None),
                   tuple_(AuditEntry.txid, AuditEntry.seq) <= tuple_(*cursor))
            .order_by(AuditEntry.seq).limit(100))
    return [LogProblem("unlogged", seq=seq) for seq in session.execute(stmt).scalars()]
