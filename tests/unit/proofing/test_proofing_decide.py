"""decide(): reject on proof of mismatch or attack, review when unsure, else approve."""

from __future__ import annotations

from simkyc.faces.match import Decision as FaceDecision
from simkyc.proofing.decision import Decision, decide
from simkyc.proofing.models import (
    CheckKind,
    DocumentCheck,
    FaceCheck,
    LivenessCheck,
    LivenessVerdict,
    Outcome,
    Reason,
)

OK_DOCS = [DocumentCheck("checksum", True)]
LIVE = LivenessCheck(LivenessVerdict.LIVE, "v1")


def face(decision: FaceDecision) -> FaceCheck:
    return FaceCheck(0.7, 0.6, decision, "m", "c")


def test_a_clean_run_is_approved() -> None:
    result = decide(consent=True, documents=OK_DOCS, face=face(FaceDecision.MATCH),
                    liveness=LIVE)
    assert (result.outcome, result.reasons) == (Outcome.APPROVED, ())


def test_rejections_come_first_and_all_reasons_are_kept() -> None:
    result = decide(consent=False, documents=[DocumentCheck("mrz", None)],
                    face=face(FaceDecision.NO_MATCH),
                    liveness=LivenessCheck(LivenessVerdict.RETRY, "v1"))
    assert result.outcome is Outcome.REJECTED
    assert result.reasons == (Reason.CONSENT_MISSING, Reason.FACE_NO_MATCH,
                              Reason.DOCUMENT_UNCHECKED, Reason.LIVENESS_INCONCLUSIVE)


def test_uncertainty_goes_to_a_reviewer() -> None:
    result = decide(consent=True, documents=OK_DOCS, face=face(FaceDecision.REVIEW),
                    liveness=LIVE)
    assert (result.outcome, result.reasons) == (Outcome.MANUAL_REVIEW, (Reason.FACE_REVIEW,))


def swap(holder: FaceCheck | None) -> Decision:
    return decide(consent=True, documents=OK_DOCS, face=face(FaceDecision.MATCH),
                  liveness=LIVE, holder=holder, holder_required=True)


def test_a_swap_needs_the_holder_match() -> None:
    assert swap(None).reasons == (Reason.HOLDER_MISSING,)
    rejected = swap(face(FaceDecision.NO_MATCH))
    assert (rejected.outcome, rejected.reasons) == (Outcome.REJECTED, (Reason.HOLDER_NO_MATCH,))
    assert swap(face(FaceDecision.MATCH)).outcome is Outcome.APPROVED


def test_a_spoof_is_rejected() -> None:
    result = decide(consent=True, documents=OK_DOCS, face=face(FaceDecision.MATCH),
                    liveness=LivenessCheck(LivenessVerdict.SPOOF, "v1"))
    assert (result.outcome, result.reasons) == (Outcome.REJECTED, (Reason.LIVENESS_SPOOF,))


def test_the_cards_text_disagreeing_goes_to_review_and_an_unread_field_is_only_recorded() -> None:
    def text(passed: bool | None) -> DocumentCheck:
        return DocumentCheck("card_text_name", passed, None, kind=CheckKind.CROSS_CHECK)

    mismatch = decide(consent=True, documents=[*OK_DOCS, text(False)],
                      face=face(FaceDecision.MATCH), liveness=LIVE)
    assert (mismatch.outcome, mismatch.reasons) == (Outcome.MANUAL_REVIEW,
                                                    (Reason.DOCUMENT_TEXT_MISMATCH,))
    unread = decide(consent=True, documents=[*OK_DOCS, text(None), text(True)],
                    face=face(FaceDecision.MATCH), liveness=LIVE)
    assert (unread.outcome, unread.reasons) == (Outcome.APPROVED, ())
    alone = decide(consent=True, documents=[text(True)], face=face(FaceDecision.MATCH),
                   liveness=LIVE)
    assert alone.reasons == (Reason.DOCUMENT_UNCHECKED,)  # text alone validates nothing
