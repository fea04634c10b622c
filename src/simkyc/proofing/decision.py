"""decide(): the session's outcome from plain inputs - consent, document checks, the face
result, the liveness verdict and (for a SIM swap or re-proof) the match with the holder.

Anything that proves a mismatch or an attack rejects; anything the engines could not judge
sends the case to a reviewer, and so does the card's text (OCR) disagreeing with the typed
data (a misread is possible); only a clean run is approved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from simkyc.faces.match import Decision as FaceDecision
from simkyc.proofing.models import (
    CheckKind,
    DocumentCheck,
    FaceCheck,
    LivenessCheck,
    LivenessVerdict,
    Outcome,
    Reason,
)


@dataclass(frozen=True)
class Decision:
    """The outcome and every reason behind it (rejections first)."""

    outcome: Outcome
    reasons: tuple[Reason, ...]


def decide(
    *, consent: bool, documents: Sequence[DocumentCheck], face: FaceCheck,
    liveness: LivenessCheck, holder: FaceCheck | None = None, holder_required: bool = False,
) -> Decision:
    """Approve, reject or send to manual review; see the module docstring for the rule."""
    reject: list[Reason] = [] if consent else [Reason.CONSENT_MISSING]
    review: list[Reason] = []
    _documents(documents, reject, review)
    _face(face, reject, review, Reason.FACE_NO_MATCH, Reason.FACE_REVIEW)
    if liveness.verdict is LivenessVerdict.SPOOF:
        reject.append(Reason.LIVENESS_SPOOF)
    elif liveness.verdict is LivenessVerdict.RETRY:
        review.append(Reason.LIVENESS_INCONCLUSIVE)
    if holder_required and holder is None:
        review.append(Reason.HOLDER_MISSING)
    elif holder is not None:
        _face(holder, reject, review, Reason.HOLDER_NO_MATCH, Reason.HOLDER_REVIEW)
    outcome = Outcome.REJECTED if reject else Outcome.MANUAL_REVIEW if review else (
        Outcome.APPROVED)
    return Decision(outcome, (*reject, *review))


# Policy findings that are their own reason (any other failed check: the document is invalid).
_POLICY_REASONS = {reason.value.upper(): reason for reason in (
    Reason.DOCUMENT_NOT_ACCEPTED, Reason.DOCUMENT_EXPIRED, Reason.UNDER_MINIMUM_AGE,
    Reason.GUARDIAN_REQUIRED)}


def _documents(documents: Sequence[DocumentCheck], reject: list[Reason],
               review: list[Reason]) -> None:
    validity = [check for check in documents if check.kind is CheckKind.VALIDITY]
    failed = [check.code for check in validity if check.passed is False]
    if failed:
        reasons = {_POLICY_REASONS.get(code or "", Reason.DOCUMENT_INVALID) for code in failed}
        reject.extend(sorted(reasons, key=list(Reason).index))
    elif not validity or any(check.passed is None for check in validity):
        review.append(Reason.DOCUMENT_UNCHECKED)
    if any(check.passed is False for check in documents if check.kind is CheckKind.CROSS_CHECK):
        review.append(Reason.DOCUMENT_TEXT_MISMATCH)


def _face(face: FaceCheck, reject: list[Reason], review: list[Reason], no_match: Reason,
          unsure: Reason) -> None:
    if face.decision is FaceDecision.NO_MATCH:
        reject.append(no_match)
    elif face.decision is FaceDecision.REVIEW:
        review.append(unsure)
