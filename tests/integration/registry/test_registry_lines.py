"""Registration rules besides caps: transfers refused, numbers quarantined, approved sessions
expire and are single-use, idempotency keys replay."""

from __future__ import annotations

import pytest
from registry_world import MODEL, World, iccid, unit_vector
from sqlalchemy import func, select

from simkyc.auth.actors import Actor
from simkyc.errors import (
    IdempotencyKeyReused,
    InvalidIccid,
    InvalidMsisdn,
    NumberInUse,
    NumberQuarantined,
    ProofingAlreadyUsed,
    ProofingExpired,
    ProofingMismatch,
    ProofingNotApproved,
    RecordNotFound,
    TransferForbidden,
)
from simkyc.faces.match import Decision as FaceDecision
from simkyc.privacy.templates import Template
from simkyc.proofing.models import Purpose
from simkyc.records.models import Line, LineStatus, ServiceType
from simkyc.registry import lines
from simkyc.registry.schemas import LineView


def register(world: World, agent: Actor, proofing_id: str, msisdn: str, *,
             key: str | None = None, sim: str | None = None) -> LineView:
    return lines.register_line(
        world.db, actor=agent, proofing_id=proofing_id, msisdn=msisdn, iccid=sim or iccid(),
        service=ServiceType.MOBILE, profiles=world.profiles, keyring=world.keyring,
        now=world.now, idempotency_key=key)


def test_a_number_held_by_someone_else_cannot_be_transferred(world: World) -> None:
    agent = world.operator("CN Mobile", "CN")
    alice, bob = world.applicant("A-1"), world.applicant("B-2")
    line = world.register(agent, alice, msisdn="+8613800000001")
    with pytest.raises(TransferForbidden) as refused:
        world.register(agent, bob, msisdn="+8613800000001")
    assert refused.value.code == "TRANSFER_FORBIDDEN"
    assert "cancels the line" in refused.value.message
    assert refused.value.details() == {"quarantine_days": 90}
    with pytest.raises(TransferForbidden):
        lines.request_transfer(world.db, actor=agent, line_id=line.id, profiles=world.profiles,
                               now=world.now)


def test_a_cancelled_number_is_reissued_only_after_quarantine(world: World) -> None:
    agent = world.operator("CN Mobile", "CN")
    alice, bob = world.applicant("A-1"), world.applicant("B-2")
    line = world.register(agent, alice, msisdn="+8613800000001")
    lines.cancel_line(world.db, actor=agent, line_id=line.id, profiles=world.profiles,
                      keyring=world.keyring, now=world.now)
    session = world.proofed(agent, bob)
    with pytest.raises(NumberQuarantined) as quarantined:
        register(world, agent, session.id, "+8613800000001")
    assert quarantined.value.until.startswith("2026-05-30")
    world.tick(days=91)
    reissued = world.register(agent, bob, msisdn="+86 138-0000-0001")
    assert reissued.msisdn == "+8613800000001" and reissued.id != line.id


def test_numbers_are_validated_and_unique(world: World) -> None:
    agent = world.operator("CN Mobile", "CN")
    alice = world.applicant("A-1")
    session = world.proofed(agent, alice)
    with pytest.raises(InvalidMsisdn):
        register(world, agent, session.id, "13800000001")
    with pytest.raises(InvalidIccid):
        register(world, agent, session.id, "+8613800000001", sim="8986000000000000001")
    sim = iccid()
    register(world, agent, session.id, "+8613800000001", sim=sim)
    with pytest.raises(NumberInUse):
        register(world, agent, world.proofed(agent, alice).id, "+8613800000002", sim=sim)


def test_an_approval_expires_after_30_minutes(world: World) -> None:
    agent = world.operator("CN Mobile", "CN")
    session = world.proofed(agent, world.applicant("A-1"))
    world.tick(minutes=30)
    with pytest.raises(ProofingExpired) as expired:
        register(world, agent, session.id, world.msisdn())
    assert expired.value.code == "PROOFING_EXPIRED"


def test_an_approval_is_used_once(world: World) -> None:
    agent = world.operator("CN Mobile", "CN")
    session = world.proofed(agent, world.applicant("A-1"))
    world.tick(minutes=29)
    register(world, agent, session.id, world.msisdn())
    with pytest.raises(ProofingAlreadyUsed):
        register(world, agent, session.id, world.msisdn())


def test_another_operators_approval_registers_nothing(world: World) -> None:
    mobile, unicom = world.operator("CN Mobile", "CN"), world.operator("CN Unicom", "CN")
    session = world.proofed(mobile, world.applicant("A-1"))
    with pytest.raises(RecordNotFound):
        register(world, unicom, session.id, world.msisdn())
    register(world, mobile, session.id, world.msisdn())  # still unused, still good at home


def test_only_an_approved_registration_session_registers(world: World) -> None:
    agent = world.operator("CN Mobile", "CN")
    alice = world.applicant("A-1")
    rejected = world.proofed(agent, alice, face=FaceDecision.NO_MATCH)
    assert rejected.outcome == "rejected" and rejected.reasons == ("face_no_match",)
    with pytest.raises(ProofingNotApproved):
        register(world, agent, rejected.id, world.msisdn())
    review = world.proofed(agent, alice, face=FaceDecision.REVIEW)
    with pytest.raises(ProofingNotApproved):
        register(world, agent, review.id, world.msisdn())
    face = Template(MODEL, unit_vector(11))
    world.register(agent, alice, probe=face)  # a holder, with a template to sign in with
    self_service = world.proofed(agent, alice, purpose=Purpose.SELF_SERVICE, probe=face)
    with pytest.raises(ProofingMismatch):
        register(world, agent, self_service.id, world.msisdn())


def test_a_retry_with_the_same_key_returns_the_same_line(world: World) -> None:
    agent = world.operator("CN Mobile", "CN")
    session = world.proofed(agent, world.applicant("A-1"))
    sim = iccid()
    first = register(world, agent, session.id, "+8613800000001", key="k-1", sim=sim)
    world.tick(hours=2)  # replays even after the approval would have expired
    again = register(world, agent, session.id, "+86 13800000001", key="k-1", sim=sim)
    assert again == first
    count = world.db.execute(select(func.count(Line.id))).scalar_one()
    assert count == 1
    with pytest.raises(IdempotencyKeyReused):
        register(world, agent, session.id, "+8613800000002", key="k-1", sim=sim)


def test_cancel_is_idempotent_with_a_key(world: World) -> None:
    agent = world.operator("CN Mobile", "CN")
    line = world.register(agent, world.applicant("A-1"))
    first = lines.cancel_line(world.db, actor=agent, line_id=line.id, profiles=world.profiles,
                              keyring=world.keyring, now=world.now, idempotency_key="cancel-1")
    again = lines.cancel_line(world.db, actor=agent, line_id=line.id, profiles=world.profiles,
                              keyring=world.keyring, now=world.now, idempotency_key="cancel-1")
    assert first == again and first.status is LineStatus.CANCELLED
