"""The transparency log: entries append-only (triggers); the integrator folds them into a
Merkle tree with signed checkpoints; verify_log() finds a row changed, deleted, reordered or
inserted and names the first bad index, even against someone who can drop the triggers; a
rewritten history (a fork) fails against a checkpoint signed before it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from registry_world import World, migrated_engine
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from simkyc.auth.actors import SYSTEM
from simkyc.db.engine import session_factory
from simkyc.errors import CheckpointInvalid
from simkyc.privacy import audit
from simkyc.privacy.keyring import Keyring
from simkyc.privacy.merkle import verify_consistency, verify_inclusion
from simkyc.privacy.note import open_note
from simkyc.privacy.proof import check_entry_proof
from simkyc.privacy.tlog import (
    INTEGRATOR_LOCK,
    LogKeys,
    LogVerification,
    consistency_proof,
    entry_proof,
    inclusion_proof,
    integrate,
    latest_checkpoint,
    verify_log,
)

ORIGIN = "simkyc.test/audit"


def keys(world: World) -> LogKeys:
    return LogKeys.from_keyring(world.keyring, origin=ORIGIN)


def busy(world: World, numbers: tuple[str, ...] = ("A-1", "B-2", "C-3")) -> None:
    agent = world.operator(f"Operator {numbers[0]}", "CN")
    for number in numbers:
        world.register(agent, world.applicant(number))


def logged(world: World) -> int:
    """Register three customers and integrate: nine entries in the tree."""
    busy(world)
    done = integrate(world.db, keys=keys(world), now=world.tick())
    assert done is not None
    return done.size


def drop_guards(db: Session) -> None:
    """What an attacker with owner rights would do first (undone by the test's rollback)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
    else:
        db.execute(text("DROP TRIGGER audit_entries_no_update"))
        db.execute(text("DROP TRIGGER audit_entries_no_delete"))


def seq_at(db: Session, index: int) -> int:
    return int(db.execute(text("SELECT seq FROM tlog_leaves WHERE idx = :i"),
                          {"i": index}).scalar_one())


def verdict(world: World) -> LogVerification:
    return verify_log(world.db, keys=keys(world))


def kinds(result: LogVerification) -> set[tuple[str, int | None]]:
    return {(p.kind, p.index) for p in result.problems}


def test_an_intact_log_verifies_and_proves_every_entry(world: World) -> None:
    size = logged(world)
    # Three registrations, each: proofing started, proofing decided, line registered.
    assert size == 9
    result = verdict(world)
    assert result.ok and result.size == 9 and result.checkpoints == 1
    latest = latest_checkpoint(world.db)
    assert latest is not None
    signed = open_note(latest.note, keys(world).verifiers[latest.key_id])
    assert (signed.origin, signed.size) == (ORIGIN, 9)
    for index in range(9):
        proof = entry_proof(world.db, seq=seq_at(world.db, index), keys=keys(world))
        assert check_entry_proof(proof, keys(world).signer.verifier).size == 9
        assert proof.inclusion == tuple(inclusion_proof(world.db, index=index, size=9))
    again = integrate(world.db, keys=keys(world), now=world.tick())
    assert again is not None and (again.before, again.size, again.checkpoint) == (9, 9, None)


def test_the_tree_grows_consistently(world: World) -> None:
    logged(world)
    first = latest_checkpoint(world.db)
    busy(world, ("D-4",))
    integrate(world.db, keys=keys(world), now=world.tick())
    second = latest_checkpoint(world.db)
    assert first is not None and second is not None and second.size == 12
    proof = consistency_proof(world.db, old=first.size, new=second.size)
    assert verify_consistency(old_size=9, new_size=12, old_root=first.root,
                              new_root=second.root, proof=proof)
    assert verdict(world).ok and verdict(world).checkpoints == 2


def test_the_log_refuses_update_delete_and_truncate(world: World) -> None:
    busy(world)
    wipe = ("TRUNCATE audit_entries" if world.db.get_bind().dialect.name == "postgresql"
            else "DELETE FROM audit_entries")
    for statement in ("UPDATE audit_entries SET purpose = 'x'",
                      "DELETE FROM audit_entries", wipe):
        with pytest.raises(DBAPIError, match="append-only"), world.db.begin_nested():
            world.db.execute(text(statement))


def test_verify_names_a_changed_row(world: World) -> None:
    logged(world)
    drop_guards(world.db)
    world.db.execute(text("UPDATE audit_entries SET actor_id = 'someone-else' WHERE seq = :s"),
                     {"s": seq_at(world.db, 4)})
    result = verdict(world)
    assert not result.ok and result.first_bad_index == 4
    assert ("altered", 4) in kinds(result)


def test_verify_names_a_changed_row_with_its_hashes_recomputed(world: World) -> None:
    """The attacker also rewrites the entry's hash and the stored leaf: the signed root
    still disagrees."""
    logged(world)
    drop_guards(world.db)
    world.db.execute(text("UPDATE audit_entries SET actor_id = 'x' WHERE seq = :s"),
                     {"s": seq_at(world.db, 4)})
    world.db.execute(text("DELETE FROM tlog_nodes WHERE level = 0 AND idx = 4"))
    result = verdict(world)
    assert not result.ok and result.first_bad_index == 4


def test_verify_names_a_deleted_row(world: World) -> None:
    logged(world)
    drop_guards(world.db)
    world.db.execute(text("DELETE FROM audit_entries WHERE seq = :s"),
                     {"s": seq_at(world.db, 3)})
    result = verdict(world)
    assert result.first_bad_index == 3 and ("missing_entry", 3) in kinds(result)


def test_verify_names_a_deleted_leaf(world: World) -> None:
    logged(world)
    world.db.execute(text("DELETE FROM tlog_leaves WHERE idx = 6"))
    result = verdict(world)
    assert result.first_bad_index == 6 and ("missing_leaf", 6) in kinds(result)


def test_verify_names_reordered_rows(world: World) -> None:
    logged(world)
    a, b = seq_at(world.db, 2), seq_at(world.db, 5)
    for idx, seq in ((2, -1), (5, a), (2, b)):
        world.db.execute(text("UPDATE tlog_leaves SET seq = :s WHERE idx = :i"),
                         {"s": seq, "i": idx})
    result = verdict(world)
    assert result.first_bad_index == 2 and {("altered", 2), ("altered", 5)} <= kinds(result)


def test_verify_names_a_row_inserted_into_the_tree(world: World) -> None:
    """An entry slipped in at index 4, the later leaves shifted one place."""
    logged(world)
    world.db.execute(text("UPDATE tlog_leaves SET idx = idx + 100 WHERE idx >= 4"))
    world.db.execute(text("UPDATE tlog_leaves SET idx = idx - 99 WHERE idx >= 100"))
    world.db.execute(text(
        "INSERT INTO audit_entries (seq, at, actor_id, actor_role, action, purpose, detail, "
        "prev_hash, hash, txid) VALUES (0, '2026-01-01T00:00:00+00:00', 'ghost', 'admin', "
        "'person.read', 'oversight', '{}', '', '', 0)"))
    world.db.execute(text("INSERT INTO tlog_leaves (idx, seq) VALUES (4, 0)"))
    result = verdict(world)
    assert not result.ok and result.first_bad_index == 4


def test_verify_finds_an_entry_inserted_behind_the_integrator(world: World) -> None:
    logged(world)
    world.db.execute(text(
        "INSERT INTO audit_entries (seq, at, actor_id, actor_role, action, purpose, detail, "
        "prev_hash, hash, txid) VALUES (0, '2026-01-01T00:00:00+00:00', 'ghost', 'admin', "
        "'person.read', 'oversight', '{}', '', '', 0)"))
    result = verdict(world)
    assert not result.ok and {(p.kind, p.seq) for p in result.problems} == {("unlogged", 0)}


def test_a_rewritten_history_is_a_fork(world: World) -> None:
    """Someone with the database and the signing key rebuilds the tree after changing an
    entry: the checkpoint a citizen kept from before cannot be extended to the new one."""
    logged(world)
    kept = latest_checkpoint(world.db)
    assert kept is not None
    drop_guards(world.db)
    world.db.execute(text("UPDATE audit_entries SET actor_id = 'x' WHERE seq = :s"),
                     {"s": seq_at(world.db, 1)})
    for table in ("tlog_checkpoints", "tlog_nodes", "tlog_leaves"):
        world.db.execute(text(f"DELETE FROM {table}"))
    integrate(world.db, keys=keys(world), now=world.tick())
    rewritten = latest_checkpoint(world.db)
    assert rewritten is not None and rewritten.size == kept.size
    assert rewritten.root != kept.root  # two signed trees of one size: a fork
    busy(world, ("D-4",))
    integrate(world.db, keys=keys(world), now=world.tick())
    newer = latest_checkpoint(world.db)
    assert newer is not None
    proof = consistency_proof(world.db, old=kept.size, new=newer.size)
    assert not verify_consistency(old_size=kept.size, new_size=newer.size,
                                  old_root=kept.root, new_root=newer.root, proof=proof)
    # With the kept checkpoint among the stored ones, verify reports it.
    world.db.execute(text("INSERT INTO tlog_checkpoints (size, root, note, key_id, signed_at) "
                          "VALUES (:s, :r, :n, :k, :t)"),
                     {"s": 5, "r": kept.root, "n": kept.note.replace("\n9\n", "\n5\n"),
                      "k": kept.key_id, "t": kept.signed_at})
    assert ("bad_signature", 5) in kinds(verdict(world))


def test_a_proof_for_a_modified_entry_fails(world: World) -> None:
    logged(world)
    proof = entry_proof(world.db, seq=seq_at(world.db, 7), keys=keys(world))
    key = keys(world).signer.verifier
    forged = type(proof)(**{**proof.__dict__, "entry": proof.entry.replace(
        '"actor_role":"agent"', '"actor_role":"admin"')})
    assert forged.entry != proof.entry
    with pytest.raises(CheckpointInvalid):
        check_entry_proof(forged, key)
    latest = latest_checkpoint(world.db)
    assert latest is not None
    assert not verify_inclusion(leaf=b"\x00" * 32, index=7, size=9, proof=proof.inclusion,
                                root=latest.root)


def test_a_late_commit_is_never_passed_and_one_integrator_runs(tmp_path: Path) -> None:
    """PostgreSQL: an entry whose transaction is still open holds back the entries written
    after it (they are folded in only once it commits, in transaction order), and while one
    process holds the integrator's lock another round does nothing."""
    keys_ = LogKeys.from_keyring(Keyring.generate(), origin=ORIGIN)
    now = datetime.now(UTC)

    def entry(db: Session) -> int:
        return audit.append(db, actor=SYSTEM, action=audit.AuditAction.PERSON_READ,
                            purpose=audit.AccessPurpose.OVERSIGHT, subject_id=None,
                            object_id=None, now=now).seq

    with migrated_engine("postgresql", tmp_path) as engine:
        factory = session_factory(engine)
        with factory() as early, factory() as late, factory() as worker:
            first = entry(early)  # open: not committed yet
            second = entry(late)
            late.commit()
            done = integrate(worker, keys=keys_, now=now)
            assert done is not None and done.size == 0  # `second` waits for `first`
            early.commit()
            done = integrate(worker, keys=keys_, now=now)
            assert done is not None and done.size == 2
            order = worker.execute(text("SELECT seq FROM tlog_leaves ORDER BY idx")).scalars()
            assert list(order) == [first, second]
            assert verify_log(worker, keys=keys_).ok
            with engine.connect() as holder:
                holder.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                               {"k": INTEGRATOR_LOCK})
                assert integrate(worker, keys=keys_, now=now) is None
                holder.rollback()
            assert integrate(worker, keys=keys_, now=now) is not None
