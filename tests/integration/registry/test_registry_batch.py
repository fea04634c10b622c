"""Bulk registration: each item judged by the single path's rules, answered on its own, in
one transaction; idempotent per item; caps and the audit chain hold."""

from __future__ import annotations

import pytest
from registry_world import World, iccid, log_verdict, unit_vector
from sqlalchemy import func, select

from simkyc.auth.actors import Actor
from simkyc.errors import InvalidBatch
from simkyc.privacy.models import AuditEntry
from simkyc.privacy.templates import Template
from simkyc.records.models import Line, Person
from simkyc.registry.batch import Outcome, Registration, register_lines


def run(world: World, agent: Actor, items: list[Registration]) -> list[Outcome]:
    return register_lines(world.db, actor=agent, items=items, profiles=world.profiles,
                          keyring=world.keyring, now=world.now)


def codes(outcomes: list[Outcome]) -> list[str]:
    return [o.error.code if o.error else "ok" for o in outcomes]


def test_the_cap_holds_inside_one_batch_and_refusals_are_audited(world: World) -> None:
    agent = world.operator("CN Mobile", "CN")
    person, other = world.applicant("110105194912310021"), world.applicant("11010519491231002X")
    items = [Registration(world.proofed(agent, who).id, world.msisdn(), iccid())
             for who in [person] * 7 + [other]]
    assert codes(run(world, agent, items)) == ["ok"] * 5 + ["LINE_CAP_EXCEEDED"] * 2 + ["ok"]
    refusals = world.db.execute(select(func.count(AuditEntry.seq)).where(
        AuditEntry.action == "line.refused")).scalar_one()
    assert refusals == 2
    more = Registration(world.proofed(agent, person).id, world.msisdn(), iccid())
    assert codes(run(world, agent, [more])) == ["LINE_CAP_EXCEEDED"]  # counted from the table
    assert log_verdict(world.db, world.keyring).ok


def test_each_item_is_refused_for_its_own_reason(world: World) -> None:
    agent, rival = world.operator("CN Mobile", "CN"), world.operator("CN Unicom", "CN")
    alice, bob = world.applicant("110105194912310021"), world.applicant("11010519491231002X")
    taken = world.register(agent, alice)
    spent = world.proofed(agent, bob).id
    items = [
        Registration(spent, world.msisdn(), iccid()),
        Registration(spent, world.msisdn(), iccid()),  # the same session again
        Registration(world.proofed(agent, bob).id, taken.msisdn, iccid()),  # alice's number
        Registration(world.proofed(agent, alice).id, world.msisdn(), taken.iccid),
        Registration(world.proofed(agent, bob).id, "12345", iccid()),
        Registration(world.proofed(rival, bob).id, world.msisdn(), iccid()),  # not ours
        Registration("no-such-session", world.msisdn(), iccid()),
    ]
    assert codes(run(world, agent, items)) == [
        "ok", "PROOFING_ALREADY_USED", "TRANSFER_FORBIDDEN", "NUMBER_IN_USE",
        "INVALID_MSISDN", "NOT_FOUND", "NOT_FOUND"]


def test_numbers_are_unique_within_a_batch_too(world: World) -> None:
    agent = world.operator("CN Mobile", "CN")
    alice, bob = world.applicant("110105194912310021"), world.applicant("11010519491231002X")
    msisdn = world.msisdn()
    items = [Registration(world.proofed(agent, who).id, msisdn, iccid()) for who in (alice, bob)]
    assert codes(run(world, agent, items)) == ["ok", "TRANSFER_FORBIDDEN"]


def test_a_retried_batch_replays_each_keyed_item(world: World) -> None:
    agent = world.operator("CN Mobile", "CN")
    person = world.applicant("110105194912310021")
    items = [Registration(world.proofed(agent, person).id, world.msisdn(), iccid(),
                          idempotency_key=f"bulk-{i}") for i in range(3)]
    first = run(world, agent, items)
    again = run(world, agent, [*items, items[0]])  # and a duplicate inside the batch
    assert [o.line.id for o in again if o.line] == [o.line.id for o in first if o.line] + [
        first[0].line.id if first[0].line else ""]
    assert world.db.execute(select(func.count(Line.id))).scalar_one() == 3
    changed = Registration(items[1].proofing_id, world.msisdn(), items[1].iccid,
                           idempotency_key="bulk-1")
    assert codes(run(world, agent, [changed])) == ["IDEMPOTENCY_KEY_REUSED"]


def test_a_key_from_the_single_path_replays_in_a_batch(world: World) -> None:
    agent = world.operator("CN Mobile", "CN")
    line = world.register(agent, world.applicant("110105194912310021"), key="k-1")
    item = Registration(line.approved_by, line.msisdn, line.iccid, idempotency_key="k-1")
    (outcome,) = run(world, agent, [item])
    assert outcome.line == line


def test_the_live_template_is_enrolled(world: World) -> None:
    agent = world.operator("CN Mobile", "CN")
    person = world.applicant("110105194912310021")
    session = world.proofed(agent, person, probe=Template("test-recognizer", unit_vector(3)))
    (outcome,) = run(world, agent, [Registration(session.id, world.msisdn(), iccid())])
    assert outcome.line is not None
    holder = world.db.execute(select(Person.template_ct).join(
        Line, Line.holder_id == Person.id).where(Line.id == outcome.line.id)).scalar_one()
    assert holder is not None


def test_a_batch_has_a_size(world: World) -> None:
    agent = world.operator("CN Mobile", "CN")
    with pytest.raises(InvalidBatch, match="1-1000"):
        run(world, agent, [])
