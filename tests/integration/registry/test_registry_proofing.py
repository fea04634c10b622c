"""Proofing sessions: consent, one decision, review, the evidence record re-verified later,
and image retention (off by default; sealed and purged when on)."""

from __future__ import annotations

import pytest
from registry_world import World
from sqlalchemy import func, select, text

from simkyc import maintenance
from simkyc.auth.actors import SYSTEM, Actor
from simkyc.auth.models import Role
from simkyc.errors import ConsentMissing, PermissionDenied, ProofingAlreadyDecided
from simkyc.faces.match import Decision as FaceDecision
from simkyc.privacy.models import MediaKind, RetainedMedia
from simkyc.privacy.retention import RetentionPolicy, retain_image
from simkyc.proofing import service as proofing
from simkyc.proofing.evidence import verify_evidence
from simkyc.proofing.models import (
    DocumentCheck,
    FaceCheck,
    LivenessCheck,
    LivenessVerdict,
    Purpose,
)
from simkyc.proofing.schemas import Consent, ProofingView

FACE = FaceCheck(0.81, 0.6, FaceDecision.MATCH, "test-recognizer", "test-calibration")
LIVE = LivenessCheck(LivenessVerdict.LIVE, "liveness-v1")


def test_no_session_without_consent(world: World) -> None:
    agent = world.operator("China Mobile", "CN")
    with pytest.raises(ConsentMissing):
        proofing.start_session(world.db, actor=agent, purpose=Purpose.REGISTRATION,
                               applicant=world.applicant("A-1"),
                               consent=Consent(False, "consent-v1", world.now),
                               keyring=world.keyring, now=world.now)


def test_a_session_is_decided_once_by_its_agent(world: World) -> None:
    agent, other = world.operator("China Mobile", "CN"), world.operator("China Unicom", "CN")
    started = proofing.start_session(
        world.db, actor=agent, purpose=Purpose.REGISTRATION, applicant=world.applicant("A-1"),
        consent=Consent(True, "consent-v1", world.now), keyring=world.keyring, now=world.now)

    def conclude(actor: Actor) -> ProofingView:
        return proofing.conclude(
            world.db, actor=actor, proofing_id=started.id, documents=[], face=FACE,
            liveness=LIVE, keyring=world.keyring, approval_ttl_s=1800, now=world.now)

    with pytest.raises(PermissionDenied):
        conclude(other)
    decided = conclude(agent)
    assert (decided.outcome, decided.reasons) == ("manual_review", ("document_unchecked",))
    with pytest.raises(ProofingAlreadyDecided):
        conclude(agent)


@pytest.mark.parametrize(("liveness", "documents", "outcome", "reasons"), [
    (LivenessVerdict.SPOOF, [DocumentCheck("mrz", True)], "rejected", ("liveness_spoof",)),
    (LivenessVerdict.RETRY, [DocumentCheck("mrz", True)], "manual_review",
     ("liveness_inconclusive",)),
    (LivenessVerdict.LIVE, [DocumentCheck("mrz", False, "BAD_CHECK_DIGIT")], "rejected",
     ("document_invalid",)),
    (LivenessVerdict.LIVE, [DocumentCheck("mrz", True)], "approved", ()),
])
def test_the_decision_is_recorded_with_its_reasons(
    world: World, liveness: LivenessVerdict, documents: list[DocumentCheck], outcome: str,
    reasons: tuple[str, ...],
) -> None:
    agent = world.operator("China Mobile", "CN")
    started = proofing.start_session(
        world.db, actor=agent, purpose=Purpose.REGISTRATION, applicant=world.applicant("A-1"),
        consent=Consent(True, "consent-v1", world.now), keyring=world.keyring, now=world.now)
    decided = proofing.conclude(
        world.db, actor=agent, proofing_id=started.id, documents=documents, face=FACE,
        liveness=LivenessCheck(liveness, "liveness-v1"), keyring=world.keyring,
        approval_ttl_s=1800, now=world.now)
    assert (decided.outcome, decided.reasons) == (outcome, reasons)
    assert (decided.expires_at is not None) == (outcome == "approved")
    assert (decided.model_id, decided.calibration_id) == ("test-recognizer", "test-calibration")


def test_the_evidence_record_reverifies_and_catches_tampering(world: World) -> None:
    agent = world.operator("China Mobile", "CN")
    session = world.proofed(agent, world.applicant("A-1"), face=FaceDecision.REVIEW)
    reviewer = world.staff(agent, Role.REVIEWER)
    reviewed = proofing.review(world.db, actor=reviewer, proofing_id=session.id, approve=True,
                               approval_ttl_s=1800, now=world.now)
    assert reviewed.reasons == ("face_review", "reviewer_approved")
    assert reviewed.evidence_sha256 != session.evidence_sha256
    assert verify_evidence(world.db, proofing_id=session.id).ok
    world.db.execute(text("UPDATE proofing_sessions SET face_score = 0.99 WHERE id = :i"),
                     {"i": session.id})
    assert verify_evidence(world.db, proofing_id=session.id).problems == (
        "record_differs_from_session",)
    world.db.execute(text(
        "UPDATE proofing_sessions SET evidence = replace(evidence, '0.6', '0.9'), "
        "face_score = 0.6 WHERE id = :i"), {"i": session.id})
    assert set(verify_evidence(world.db, proofing_id=session.id).problems) == {
        "hash_mismatch", "record_differs_from_session"}


def test_images_are_kept_only_when_retention_is_on_and_purged(world: World) -> None:
    agent = world.operator("China Mobile", "CN")
    session = world.proofed(agent, world.applicant("A-1"))
    off, on = RetentionPolicy(enabled=False, days=30), RetentionPolicy(enabled=True, days=30)
    assert retain_image(world.db, policy=off, keyring=world.keyring, proofing_id=session.id,
                        kind=MediaKind.SELFIE, image=b"pixels", now=world.now) is None
    kept = retain_image(world.db, policy=on, keyring=world.keyring, proofing_id=session.id,
                        kind=MediaKind.SELFIE, image=b"pixels", now=world.now)
    world.db.commit()
    assert kept is not None
    auditor = world.unbound(Role.AUDITOR)
    assert proofing.read_retained_image(world.db, actor=auditor, keyring=world.keyring,
                                        media_id=kept, now=world.now) == b"pixels"
    world.tick(days=29)
    assert maintenance.purge_images(world.db, actor=SYSTEM, now=world.now) == 0
    world.tick(days=1)
    assert maintenance.purge_images(world.db, actor=SYSTEM, now=world.now) == 1
    assert world.db.execute(select(func.count(RetainedMedia.id))).scalar_one() == 0
