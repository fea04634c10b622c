"""SIM swap: a fresh approved session for the line, whose live face matches the holder's
enrolled template (compared 1:1 with that holder only)."""

from __future__ import annotations

import numpy as np
import pytest
from registry_world import MODEL, World, iccid, unit_vector

from simkyc.auth.actors import Actor
from simkyc.auth.models import Role
from simkyc.errors import (
    ProofingAlreadyUsed,
    ProofingExpired,
    ProofingMismatch,
    ProofingNotApproved,
)
from simkyc.faces.calibration import Calibration, CalibrationPoint, RejectPoint
from simkyc.faces.policy import FacePolicy
from simkyc.privacy.templates import Template
from simkyc.proofing import service as proofing
from simkyc.proofing.models import Purpose
from simkyc.registry import lines
from simkyc.registry.schemas import LineView

HOLDER = Template(MODEL, unit_vector(1))
# The deployment's policy: accept at 0.6 (the FaceCheck threshold the world reports), reject
# below 0.3; calibrated on enough pairs for both sides.
POLICY = FacePolicy(
    Calibration("test-calibration", MODEL, "p", "yunet",
                (CalibrationPoint(1e-3, 0.6, 0.1, True),), 10_000, 1_000_000, "2026-12-04",
                "synthetic", "none", (RejectPoint(0.005, 0.3, 0.95, True),)),
    fmr_target=1e-3, false_reject_target=0.005)
STRANGER = Template(MODEL, unit_vector(2))


def near(template: Template, seed: int) -> Template:
    """The same face on another day: the template plus a little noise."""
    noisy = template.embedding + 0.2 * unit_vector(seed) / np.sqrt(2)
    return Template(template.model_id, (noisy / np.linalg.norm(noisy)).astype(np.float32))


def swap(world: World, agent: Actor, line: LineView, proofing_id: str) -> LineView:
    return lines.swap_sim(world.db, actor=agent, line_id=line.id, proofing_id=proofing_id,
                          iccid=iccid(), keyring=world.keyring, now=world.now)


@pytest.fixture
def held(world: World) -> tuple[Actor, LineView]:
    agent = world.operator("CN Mobile", "CN")
    return agent, world.register(agent, world.applicant("A-1"), probe=HOLDER)


def test_the_holder_swaps_with_a_matching_fresh_session(
    world: World, held: tuple[Actor, LineView]
) -> None:
    agent, line = held
    session = world.proofed(agent, world.applicant("A-1"), purpose=Purpose.SIM_SWAP,
                            line_id=line.id, probe=near(HOLDER, 3))
    assert session.outcome == "approved"
    assert session.holder_score is not None and session.holder_score > 0.9
    swapped = swap(world, agent, line, session.id)
    assert swapped.iccid != line.iccid and swapped.msisdn == line.msisdn
    with pytest.raises(ProofingAlreadyUsed):
        swap(world, agent, line, session.id)


def test_another_face_is_rejected(world: World, held: tuple[Actor, LineView]) -> None:
    agent, line = held
    session = world.proofed(agent, world.applicant("A-1"), purpose=Purpose.SIM_SWAP,
                            line_id=line.id, probe=STRANGER, face_policy=POLICY)
    assert (session.outcome, session.reasons) == ("rejected", ("holder_no_match",))
    with pytest.raises(ProofingNotApproved):
        swap(world, agent, line, session.id)


def blend(template: Template, other: Template, cosine: float) -> Template:
    """A template whose cosine with `template` is `cosine`."""
    away = other.embedding - float(other.embedding @ template.embedding) * template.embedding
    away /= np.linalg.norm(away)
    mixed = cosine * template.embedding + np.sqrt(1 - cosine**2) * away
    return Template(template.model_id, (mixed / np.linalg.norm(mixed)).astype(np.float32))


@pytest.mark.parametrize("face_policy", [POLICY, None])
def test_a_holder_between_the_thresholds_is_reviewed_not_refused(
    world: World, held: tuple[Actor, LineView], face_policy: FacePolicy | None
) -> None:
    # Cosine 0.45: below the accept threshold (0.6) but above the reject threshold (0.3).
    # The old holder check compared the raw threshold and refused this holder outright.
    agent, line = held
    session = world.proofed(agent, world.applicant("A-1"), purpose=Purpose.SIM_SWAP,
                            line_id=line.id, probe=blend(HOLDER, STRANGER, 0.45),
                            face_policy=face_policy)
    assert (session.outcome, session.reasons) == ("manual_review", ("holder_review",))


def test_only_the_holder_can_be_proofed_for_the_line(
    world: World, held: tuple[Actor, LineView]
) -> None:
    agent, line = held
    with pytest.raises(ProofingMismatch):
        world.proofed(agent, world.applicant("B-2"), purpose=Purpose.SIM_SWAP,
                      line_id=line.id, probe=HOLDER)


def test_a_registration_session_does_not_swap(
    world: World, held: tuple[Actor, LineView]
) -> None:
    agent, line = held
    session = world.proofed(agent, world.applicant("A-1"), probe=HOLDER)
    with pytest.raises(ProofingMismatch):
        swap(world, agent, line, session.id)


def test_the_swap_session_expires(world: World, held: tuple[Actor, LineView]) -> None:
    agent, line = held
    session = world.proofed(agent, world.applicant("A-1"), purpose=Purpose.SIM_SWAP,
                            line_id=line.id, probe=near(HOLDER, 4))
    world.tick(minutes=31)
    with pytest.raises(ProofingExpired):
        swap(world, agent, line, session.id)


def test_without_a_live_template_a_reviewer_decides(
    world: World, held: tuple[Actor, LineView]
) -> None:
    agent, line = held
    session = world.proofed(agent, world.applicant("A-1"), purpose=Purpose.SIM_SWAP,
                            line_id=line.id)
    assert (session.outcome, session.reasons) == ("manual_review", ("holder_match_missing",))
    reviewer = world.staff(agent, Role.REVIEWER)
    approved = proofing.review(world.db, actor=reviewer, proofing_id=session.id, approve=True,
                               approval_ttl_s=1800, now=world.now)
    assert approved.outcome == "approved"
    assert swap(world, agent, line, session.id).iccid != line.iccid
