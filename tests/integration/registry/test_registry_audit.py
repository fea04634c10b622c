"""The audit chain: append-only (triggers), and verify_chain() finds any edit or deletion,
even by someone who can drop the triggers."""

from __future__ import annotations

import pytest
from registry_world import World
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from simkyc.privacy.audit import chain_head, verify_chain


def busy(world: World) -> None:
    agent = world.operator("China Mobile", "CN")
    for number in ("A-1", "B-2", "C-3"):
        world.register(agent, world.applicant(number))


def drop_guards(db: Session) -> None:
    """What an attacker with owner rights would do first (undone by the test's rollback)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
    else:
        db.execute(text("DROP TRIGGER audit_entries_no_update"))
        db.execute(text("DROP TRIGGER audit_entries_no_delete"))


def problems(db: Session) -> set[tuple[int, str]]:
    return {(p.seq, p.kind) for p in verify_chain(db).problems}


def test_an_intact_chain_verifies(world: World) -> None:
    busy(world)
    result = verify_chain(world.db)
    # Three registrations, each: proofing started, proofing decided, line registered.
    assert result.ok and result.entries == chain_head(world.db).seq == 9


def test_the_log_refuses_update_delete_and_truncate(world: World) -> None:
    busy(world)
    wipe = ("TRUNCATE audit_entries" if world.db.get_bind().dialect.name == "postgresql"
            else "DELETE FROM audit_entries")
    for statement in ("UPDATE audit_entries SET purpose = 'x' WHERE seq = 2",
                      "DELETE FROM audit_entries WHERE seq = 2", wipe):
        with pytest.raises(DBAPIError, match="append-only"), world.db.begin_nested():
            world.db.execute(text(statement))
    assert verify_chain(world.db).ok


def test_verify_finds_an_edit(world: World) -> None:
    busy(world)
    drop_guards(world.db)
    world.db.execute(text("UPDATE audit_entries SET actor_id = 'someone-else' WHERE seq = 5"))
    assert problems(world.db) == {(5, "altered")}


def test_verify_finds_an_edit_with_a_recomputed_hash(world: World) -> None:
    busy(world)
    drop_guards(world.db)
    world.db.execute(text("UPDATE audit_entries SET hash = :h WHERE seq = 5"), {"h": "ab" * 32})
    assert problems(world.db) == {(5, "altered"), (6, "broken_link")}


def test_verify_finds_a_deletion(world: World) -> None:
    busy(world)
    drop_guards(world.db)
    world.db.execute(text("DELETE FROM audit_entries WHERE seq = 4"))
    assert problems(world.db) == {(4, "gap"), (5, "broken_link")}


def test_verify_finds_the_newest_entries_deleted(world: World) -> None:
    busy(world)
    head = chain_head(world.db)
    drop_guards(world.db)
    world.db.execute(text("DELETE FROM audit_entries WHERE seq >= :s"), {"s": head.seq - 1})
    assert problems(world.db) == {(head.seq, "head_mismatch")}


def test_entries_carry_no_personal_data(world: World) -> None:
    busy(world)
    rows = world.db.execute(text("SELECT * FROM audit_entries")).all()
    dumped = repr(rows)
    for clear in ("A-1", "B-2", "LI Ming", "1990-05-17", "+86138"):
        assert clear not in dumped
