"""The judge's statements sent through the driver (simkyc.db.driver) read what SQLAlchemy
reads, types included (enums, aware UTC datetimes, bytes), and fail as SQLAlchemy fails
(its IntegrityError, which the judge's re-judging catches); on SQLite, and for lists longer
than MAX_LIST, they go through SQLAlchemy itself."""

from __future__ import annotations

from typing import Any

import pytest
from registry_world import World
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from simkyc.db.driver import MAX_LIST
from simkyc.records.models import Line
from simkyc.registry.statements import statements


def both_ways(db: Session, name: str, params: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """The statement's rows through the driver path and through SQLAlchemy."""
    connection = db.connection()
    statement = getattr(statements(connection.dialect.name == "postgresql"), name)
    sent = statement.rows(connection, params)
    return sent, [tuple(row) for row in connection.execute(statement.statement, params)]


def test_the_driver_reads_what_sqlalchemy_reads(world: World, db: Session) -> None:
    agent = world.operator("Driver reads", "CN")
    person = world.applicant("110105194912310021")
    line = world.register(agent, person)
    proofed = [world.proofed(agent, person).id for _ in range(2)]
    where = {"pids": sorted(proofed), "operator_id": agent.operator_id}
    sent, read = both_ways(db, "sessions", where)
    assert sent == read and len(sent) == 2
    assert all(type(a) is type(b) for row, other in zip(sent, read, strict=True)
               for a, b in zip(row, other, strict=True))  # Purpose, Outcome, datetime
    assert all(row[7].utcoffset().total_seconds() == 0 for row in sent)  # expires_at: UTC
    holder = db.get(Line, line.id)
    assert holder is not None
    standing = {"indexes": [holder.msisdn_index, holder.iccid_index], "now": world.now,
                "persons": [holder.holder_id], "jurisdiction": "CN", "events": 0}
    sent, read = both_ways(db, "standing", standing)
    assert sorted(sent, key=str) == sorted(read, key=str) and sent
    assert both_ways(db, "lock", where)[0] == both_ways(db, "lock", where)[1]


def test_a_number_taken_on_the_wire_is_sqlalchemys_integrity_error(
    world: World, db: Session, engine: Engine
) -> None:
    agent = world.operator("Driver errors", "CN")
    line = world.register(agent, world.applicant("110105194912310021"))
    taken = db.get(Line, line.id)
    assert taken is not None
    row = {column.key: getattr(taken, column.key) for column in Line.__table__.columns
           if getattr(taken, column.key) is not None}
    row["id"] = "f" * 32
    connection = db.connection()
    insert = statements(engine.dialect.name == "postgresql").insert_lines
    with pytest.raises(IntegrityError), db.begin_nested():  # the live-number unique index
        insert.run(connection, [row])


def test_long_lists_go_through_sqlalchemy(world: World, db: Session, engine: Engine) -> None:
    """A bulk batch's lists are not compiled into shapes of their own (too many sizes)."""
    agent = world.operator("Driver bulk", "CN")
    person = world.applicant("110105194912310021")
    proofed = [world.proofed(agent, person).id for _ in range(MAX_LIST + 1)]
    statement = statements(engine.dialect.name == "postgresql").sessions
    where = {"pids": proofed, "operator_id": agent.operator_id}
    assert len(statement.rows(db.connection(), where)) == MAX_LIST + 1
    assert all(shape is not None for shape in statement._shapes.values())
    assert not any(MAX_LIST + 1 in key for key in statement._shapes)
