"""Line caps per jurisdiction profile, refused over the cap with LINE_CAP_EXCEEDED."""

from __future__ import annotations

import pytest
from registry_world import World, iccid
from sqlalchemy import select

from simkyc.errors import LineCapExceeded
from simkyc.privacy.models import AuditEntry
from simkyc.records.models import ServiceType
from simkyc.registry import lines


def test_cn_caps_lines_per_operator(world: World) -> None:
    first, second = world.operator("CN Mobile", "CN"), world.operator("CN Unicom", "CN")
    person = world.applicant("110105194912310021")
    for _ in range(5):
        world.register(first, person)
    with pytest.raises(LineCapExceeded) as refused:
        world.register(first, person)
    assert (refused.value.code, refused.value.cap, refused.value.limit) == (
        "LINE_CAP_EXCEEDED", "max_lines_per_operator", 5)
    assert "at most 5" in refused.value.message
    world.register(second, person)  # the cap is per operator


def test_in_caps_lines_in_total(world: World) -> None:
    ops = [world.operator(f"IN op {i}", "IN") for i in range(3)]
    person = world.applicant("IN-A1234567")
    for i in range(9):
        world.register(ops[i % 2], person, msisdn=world.msisdn("+9198"))
    with pytest.raises(LineCapExceeded) as refused:
        world.register(ops[2], person, msisdn=world.msisdn("+9198"))
    assert (refused.value.cap, refused.value.limit, refused.value.jurisdiction) == (
        "max_lines_total", 9, "IN")


def test_ng_caps_four_per_operator(world: World) -> None:
    mtn, glo = world.operator("MTN NG", "NG"), world.operator("Glo NG", "NG")
    person = world.applicant("NIN-12345678901")
    for _ in range(4):
        world.register(mtn, person, msisdn=world.msisdn("+234803"))
    with pytest.raises(LineCapExceeded) as refused:
        world.register(mtn, person, msisdn=world.msisdn("+234803"))
    assert refused.value.details() == {"cap": "max_lines_per_operator", "limit": 4,
                                       "jurisdiction": "NG"}
    world.register(glo, person, msisdn=world.msisdn("+234805"))


def test_ph_has_no_cap(world: World) -> None:
    globe = world.operator("Globe PH", "PH")
    person = world.applicant("PH-PSN-1234")
    for _ in range(12):
        world.register(globe, person, msisdn=world.msisdn("+63917"))


def test_caps_count_only_lines_in_the_jurisdiction_and_not_cancelled(world: World) -> None:
    cn, ng = world.operator("CN Telecom", "CN"), world.operator("Airtel NG", "NG")
    person = world.applicant("110105194912310021")
    issued = [world.register(cn, person) for _ in range(5)]
    world.register(ng, person, msisdn=world.msisdn("+234802"))  # another jurisdiction
    lines.cancel_line(world.db, actor=cn, line_id=issued[0].id, profiles=world.profiles,
                      keyring=world.keyring, now=world.now)
    world.register(cn, person)  # the cancelled line no longer counts
    with pytest.raises(LineCapExceeded):
        world.register(cn, person)


def test_a_refusal_is_audited_and_leaves_the_session_usable(world: World) -> None:
    cn = world.operator("CN Broadnet", "CN")
    person = world.applicant("110105194912310021")
    issued = [world.register(cn, person) for _ in range(5)]
    session = world.proofed(cn, person)

    def register() -> None:
        lines.register_line(world.db, actor=cn, proofing_id=session.id,
                            msisdn=world.msisdn(), iccid=iccid(),
                            service=ServiceType.BROADBAND, profiles=world.profiles,
                            keyring=world.keyring, now=world.now)

    with pytest.raises(LineCapExceeded):
        register()
    lines.cancel_line(world.db, actor=cn, line_id=issued[0].id, profiles=world.profiles,
                      keyring=world.keyring, now=world.now)
    register()  # the refused attempt did not spend the approved session
    refusals = world.db.execute(select(AuditEntry).where(
        AuditEntry.action == "line.refused")).scalars().all()
    assert len(refusals) == 1
    assert '"cap":"max_lines_per_operator"' in refusals[0].detail
