"""A single registration's round trips to the database stay within budget: on PostgreSQL
counted on the wire (libpq's trace: the judge's statements go through the driver, past
SQLAlchemy's events), on SQLite with SQLAlchemy's events (a count, not a timing: speed is
measured in bench/)."""

from __future__ import annotations

from typing import Any

from registry_world import World, iccid
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from simkyc.db.wire import wire_round_trips
from simkyc.records.models import ServiceType
from simkyc.registry import lines

# the holders' locks, the sessions (with the operator), the numbers and the holder's counts
# (one statement, which on PostgreSQL also draws the audit entry's number; SQLite reads
# max(seq) apart); the line, the session spent, the audit entry (and one more, the enrolled
# template, when the session carries one). 11 before the holders' locks and the numbers
# were each read in one statement, 9 before the operator came with the sessions and the
# counts and the entry's number with the numbers.
BUDGET = {"postgresql": 6, "sqlite": 7}
SAVEPOINTS = ("SAVEPOINT", "RELEASE", "ROLLBACK")  # the test's transaction, not the service's


def test_a_single_registration_sends_at_most_6_statements(world: World, engine: Engine,
                                                           db: Session) -> None:
    agent = world.operator("Round trips", "CN")
    proofed = world.proofed(agent, world.applicant("110105194912310021"))
    sent: list[str] = []

    def register() -> None:
        lines.register_line(db, actor=agent, proofing_id=proofed.id, msisdn=world.msisdn(),
                            iccid=iccid(), service=ServiceType.MOBILE,
                            profiles=world.profiles, keyring=world.keyring, now=world.now)

    if engine.dialect.name == "postgresql":
        raw = db.connection().connection.driver_connection
        sent = [trip for trip in wire_round_trips(raw, register)
                if not trip.strip('Query "').upper().startswith(SAVEPOINTS)]
        assert len(sent) <= BUDGET["postgresql"], sent
        return

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.upper().startswith(SAVEPOINTS):
            sent.append(" ".join(statement.split()[:4]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        register()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(sent) <= BUDGET[engine.dialect.name], sent
