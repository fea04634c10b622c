"""Citizen self-service: a token from a proofing session, every line under their ID (masked),
"not mine" disputes in the operator's queue, re-proof or suspension at the deadline, and the
list of who accessed their data."""

from __future__ import annotations

import pytest
from registry_world import MODEL, World, unit_vector

from simkyc.auth.actors import SYSTEM, Actor
from simkyc.auth.keys import authenticate
from simkyc.errors import (
    InvalidCredentials,
    PermissionDenied,
    ProofingMismatch,
    RecordNotFound,
)
from simkyc.privacy.templates import Template
from simkyc.proofing.models import Purpose
from simkyc.records.models import LineStatus
from simkyc.records.persons import Applicant
from simkyc.registry import disputes, selfservice

FACE = Template(MODEL, unit_vector(11))
REPROOF_HOURS = 72.0


def citizen(world: World, agent: Actor, applicant: Applicant) -> Actor:
    """Proof the citizen for self-service, take the token, authenticate with it."""
    session = world.proofed(agent, applicant, purpose=Purpose.SELF_SERVICE, probe=FACE)
    issued = selfservice.issue_citizen_token(world.db, proofing_id=session.id, ttl_s=900,
                                             now=world.now)
    return authenticate(world.db, token=issued.token, now=world.now)


def test_a_citizen_sees_every_line_under_their_id_masked(world: World) -> None:
    mobile, telecom = world.operator("China Mobile", "CN"), world.operator("China Telecom", "CN")
    alice = world.applicant("A-1")
    first = world.register(mobile, alice, msisdn="+8613812345678", probe=FACE)
    world.tick(days=3)
    world.register(telecom, alice, msisdn="+8618987654321")
    world.register(telecom, world.applicant("B-2"))  # someone else's
    me = citizen(world, mobile, alice)
    listed = selfservice.my_lines(world.db, actor=me, keyring=world.keyring, now=world.now)
    assert [(x.msisdn_masked, x.operator, x.status) for x in listed] == [
        ("+*********5678", "China Mobile", LineStatus.ACTIVE),
        ("+*********4321", "China Telecom", LineStatus.ACTIVE),
    ]
    assert listed[0].since == first.created_at and listed[0].id == first.id
    assert all("1234" not in x.msisdn_masked for x in listed)


def test_the_citizen_token_expires_and_is_single_use(world: World) -> None:
    agent = world.operator("China Mobile", "CN")
    alice = world.applicant("A-1")
    world.register(agent, alice, probe=FACE)
    session = world.proofed(agent, alice, purpose=Purpose.SELF_SERVICE, probe=FACE)
    issued = selfservice.issue_citizen_token(world.db, proofing_id=session.id, ttl_s=900,
                                             now=world.now)
    with pytest.raises(ProofingMismatch):  # a registration session is not a login
        selfservice.issue_citizen_token(
            world.db, proofing_id=world.proofed(agent, alice).id, ttl_s=900, now=world.now)
    world.tick(seconds=901)
    with pytest.raises(InvalidCredentials):
        authenticate(world.db, token=issued.token, now=world.now)


def test_not_mine_then_reproof_keeps_the_line(world: World) -> None:
    agent = world.operator("China Mobile", "CN")
    alice = world.applicant("A-1")
    line = world.register(agent, alice, probe=FACE)
    me = citizen(world, agent, alice)
    keys = world.keyring
    dispute = selfservice.dispute_line(world.db, actor=me, line_id=line.id,
                                       reproof_hours=REPROOF_HOURS, keyring=keys, now=world.now)
    assert selfservice.dispute_line(world.db, actor=me, line_id=line.id,
                                    reproof_hours=REPROOF_HOURS, keyring=keys,
                                    now=world.now) == dispute
    queue = disputes.dispute_queue(world.db, actor=agent, keyring=keys, now=world.now)
    assert [(d.id, d.msisdn, d.status) for d in queue] == [(dispute.id, line.msisdn, "open")]
    mine = selfservice.my_lines(world.db, actor=me, keyring=keys, now=world.now)
    assert mine[0].status == "disputed"
    world.tick(hours=70)
    reproof = world.proofed(agent, alice, purpose=Purpose.DISPUTE_REPROOF, line_id=line.id,
                            probe=FACE)
    closed = disputes.resolve_dispute(world.db, actor=agent, dispute_id=dispute.id,
                                      proofing_id=reproof.id, keyring=keys, now=world.now)
    assert closed.status == "reproofed"
    world.tick(hours=10)
    assert disputes.apply_dispute_deadlines(world.db, actor=SYSTEM, now=world.now) == 0
    mine = selfservice.my_lines(world.db, actor=me, keyring=keys, now=world.now)
    assert mine[0].status == "active"


def test_not_mine_without_reproof_is_suspended_at_the_deadline(world: World) -> None:
    agent = world.operator("China Mobile", "CN")
    alice = world.applicant("A-1")
    kept, lost = world.register(agent, alice, probe=FACE), world.register(agent, alice)
    me = citizen(world, agent, alice)
    selfservice.dispute_line(world.db, actor=me, line_id=lost.id, reproof_hours=REPROOF_HOURS,
                             keyring=world.keyring, now=world.now)
    world.tick(hours=71)
    assert disputes.apply_dispute_deadlines(world.db, actor=SYSTEM, now=world.now) == 0
    world.tick(hours=1)
    assert disputes.apply_dispute_deadlines(world.db, actor=SYSTEM, now=world.now) == 1
    mine = selfservice.my_lines(world.db, actor=me, keyring=world.keyring, now=world.now)
    statuses = {x.id: x.status for x in mine}
    assert statuses == {kept.id: LineStatus.ACTIVE, lost.id: LineStatus.SUSPENDED}
    assert disputes.dispute_queue(world.db, actor=agent, keyring=world.keyring, now=world.now) == []
    with pytest.raises(PermissionDenied):
        disputes.apply_dispute_deadlines(world.db, actor=me, now=world.now)


def test_a_citizen_disputes_only_their_own_lines(world: World) -> None:
    agent = world.operator("China Mobile", "CN")
    bobs = world.register(agent, world.applicant("B-2"))
    world.register(agent, world.applicant("A-1"), probe=FACE)
    me = citizen(world, agent, world.applicant("A-1"))
    with pytest.raises(RecordNotFound):
        selfservice.dispute_line(world.db, actor=me, line_id=bobs.id,
                                 reproof_hours=REPROOF_HOURS, keyring=world.keyring, now=world.now)


def test_the_citizen_lists_who_accessed_their_data(world: World) -> None:
    agent = world.operator("China Mobile", "CN")
    alice = world.applicant("A-1")
    world.register(agent, alice, probe=FACE)
    world.register(agent, world.applicant("B-2"))
    me = citizen(world, agent, alice)
    accesses = selfservice.my_accesses(world.db, actor=me, now=world.now)
    seen = [(a.action, a.actor_role, a.operator_id, a.purpose) for a in accesses]
    assert ("line.registered", "agent", agent.operator_id, "registration") in seen
    assert ("proofing.started", "agent", agent.operator_id, "registration") in seen
    assert ("selfservice.token_issued", "citizen", None, "self_service") in seen
    assert all(a.actor_id for a in accesses)
    assert len([a for a in accesses if a.action == "line.registered"]) == 1  # not Bob's
    again = selfservice.my_accesses(world.db, actor=me, now=world.now)
    assert again[0].action == "selfservice.accesses_viewed"
