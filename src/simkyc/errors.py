"""One error tree for simkyc: each error has a stable machine-readable code and a human message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class SimkycError(Exception):
    """Base of every domain error; `code` is stable API, `message` is for people."""

    code = "SIMKYC_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def details(self) -> dict[str, object]:
        """Machine-readable extras for the API and the CLI's JSON output."""
        return {}


class InvalidImage(SimkycError):
    """Not an image we can decode: empty, truncated, unknown format."""

    code = "INVALID_IMAGE"


class ImageTooLarge(SimkycError):
    """Over the byte or pixel cap (decompression bombs included)."""

    code = "IMAGE_TOO_LARGE"


class NoFaceFound(SimkycError):
    """No face, or none large or clear enough to use."""

    code = "NO_FACE"


class MultipleFaces(SimkycError):
    """Two or more faces of similar size: we will not guess which one is the applicant."""

    code = "MULTIPLE_FACES"

    def __init__(self, message: str, count: int) -> None:
        super().__init__(message)
        self.count = count

    def details(self) -> dict[str, object]:
        return {"faces": self.count}


@dataclass(frozen=True)
class QualityFinding:
    """One failed quality check: what was measured, the limit, and what the person should do."""

    check: str
    value: float
    limit: float
    advice: str


class PoorQuality(SimkycError):
    """The face is there but not usable; `findings` lists every failed check."""

    code = "POOR_QUALITY"

    def __init__(self, findings: Sequence[QualityFinding]) -> None:
        advice = "; ".join(f.advice for f in findings)
        super().__init__(f"The photo is not good enough: {advice}.")
        self.findings = tuple(findings)

    def details(self) -> dict[str, object]:
        return {
            "findings": [
                {"check": f.check, "value": round(f.value, 3), "limit": f.limit, "advice": f.advice}
                for f in self.findings
            ]
        }


class ModelUnavailable(SimkycError):
    """A configured model file is missing or does not match its pinned checksum."""

    code = "MODEL_UNAVAILABLE"


class CalibrationMissing(SimkycError):
    """No calibration for the configured (model, population): thresholds cannot be backed."""

    code = "CALIBRATION_MISSING"


class InvalidMedia(SimkycError):
    """Liveness evidence that cannot be decoded: corrupt, empty, unknown container."""

    code = "INVALID_MEDIA"


class MediaTooLarge(SimkycError):
    """Liveness evidence over a cap: bytes, duration, frame count or resolution."""

    code = "MEDIA_TOO_LARGE"


class ChallengeUnknown(SimkycError):
    """A nonce that was never issued."""

    code = "CHALLENGE_UNKNOWN"


class ChallengeExpired(SimkycError):
    """A challenge answered after its expiry."""

    code = "CHALLENGE_EXPIRED"


class ChallengeAlreadyUsed(SimkycError):
    """A challenge can be answered once; this one was."""

    code = "CHALLENGE_ALREADY_USED"


class ChallengeForeign(SimkycError):
    """A nonce issued to another proofing session."""

    code = "CHALLENGE_FOREIGN"


class TryLater(SimkycError):
    """A refusal that ends by itself: `retry_after` seconds to wait (the API also sends it as
    Retry-After, never under 1 s, so `retry_after_s` is never under 1 either)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def details(self) -> dict[str, object]:
        return {"retry_after_s": max(1, round(self.retry_after))}


class LivenessLocked(TryLater):
    """Too many failed liveness attempts: locked out for a while."""

    code = "LIVENESS_LOCKED"


class NoDocumentFound(SimkycError):
    """No identity document could be made out in the photo."""

    code = "NO_DOCUMENT"


class NoPortraitFound(SimkycError):
    """A document was found, but no portrait on it."""

    code = "NO_PORTRAIT"


class MultipleDocuments(SimkycError):
    """Two or more documents of similar size: we will not guess which one is the applicant's."""

    code = "MULTIPLE_DOCUMENTS"

    def __init__(self, message: str, count: int) -> None:
        super().__init__(message)
        self.count = count

    def details(self) -> dict[str, object]:
        return {"documents": self.count}


# --- Registry, proofing sessions, privacy (issue 4) -------------------------------------------


class RecordNotFound(SimkycError):
    """A line, person, operator, proofing session or key that does not exist (or is not yours)."""

    code = "NOT_FOUND"

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"No {kind} {ident!r}.")
        self.kind = kind

    def details(self) -> dict[str, object]:
        return {"kind": self.kind}


class InvalidCredentials(SimkycError):
    """An API key or citizen token that is unknown, malformed, revoked or expired."""

    code = "INVALID_CREDENTIALS"


class PermissionDenied(SimkycError):
    """The caller's role (or operator) may not do this."""

    code = "PERMISSION_DENIED"


class InvalidMsisdn(SimkycError):
    """Not an E.164 number (`+`, country code, subscriber number; 8 to 15 digits)."""

    code = "INVALID_MSISDN"


class InvalidIccid(SimkycError):
    """Not an ICCID: 19 or 20 digits starting 89, with a valid Luhn check digit."""

    code = "INVALID_ICCID"


class UnknownJurisdiction(SimkycError):
    """An operator's jurisdiction has no profile in `SIMKYC_JURISDICTION_PROFILES`."""

    code = "UNKNOWN_JURISDICTION"


class LineCapExceeded(SimkycError):
    """Registering one more line would exceed the jurisdiction's cap; `cap` names the rule."""

    code = "LINE_CAP_EXCEEDED"

    def __init__(self, message: str, *, cap: str, limit: int, jurisdiction: str) -> None:
        super().__init__(message)
        self.cap, self.limit, self.jurisdiction = cap, limit, jurisdiction

    def details(self) -> dict[str, object]:
        return {"cap": self.cap, "limit": self.limit, "jurisdiction": self.jurisdiction}


class TransferForbidden(SimkycError):
    """A number cannot pass from one holder to another; it is cancelled, quarantined, reissued."""

    code = "TRANSFER_FORBIDDEN"

    def __init__(self, message: str, *, quarantine_days: int) -> None:
        super().__init__(message)
        self.quarantine_days = quarantine_days

    def details(self) -> dict[str, object]:
        return {"quarantine_days": self.quarantine_days}


class NumberInUse(SimkycError):
    """The MSISDN or ICCID already belongs to a line that is not cancelled."""

    code = "NUMBER_IN_USE"


class NumberQuarantined(SimkycError):
    """A cancelled number cannot be reissued before its quarantine ends."""

    code = "NUMBER_QUARANTINED"

    def __init__(self, message: str, *, until: str) -> None:
        super().__init__(message)
        self.until = until

    def details(self) -> dict[str, object]:
        return {"until": self.until}


class InvalidLineState(SimkycError):
    """The operation does not apply to a line in its current status."""

    code = "INVALID_LINE_STATE"


class ProofingNotApproved(SimkycError):
    """The proofing session was not approved (rejected, pending or in manual review)."""

    code = "PROOFING_NOT_APPROVED"


class ProofingExpired(SimkycError):
    """An approved proofing session is only good for a short while (SIMKYC_APPROVAL_TTL_S); a
    pending one whose evidence was idle past SIMKYC_PROOFING_IDLE_S is gone too."""

    code = "PROOFING_EXPIRED"


class ProofingAlreadyUsed(SimkycError):
    """An approved proofing session authorises one line operation, once."""

    code = "PROOFING_ALREADY_USED"


class ProofingMismatch(SimkycError):
    """The session was for another purpose, line or person than this operation needs."""

    code = "PROOFING_MISMATCH"


class ProofingAlreadyDecided(SimkycError):
    """A proofing session is decided once (a reviewer settles `manual_review`)."""

    code = "PROOFING_ALREADY_DECIDED"


class ConsentMissing(SimkycError):
    """No proofing without the applicant's recorded consent."""

    code = "CONSENT_MISSING"


class IdempotencyKeyReused(SimkycError):
    """The idempotency key was already used for a different request."""

    code = "IDEMPOTENCY_KEY_REUSED"


class KeyringInvalid(SimkycError):
    """The key file or SIMKYC_KEYRING is malformed, or a ciphertext names an unknown key."""

    code = "KEYRING_INVALID"


class DecryptionFailed(SimkycError):
    """A ciphertext failed authentication: wrong key, wrong record, or tampered data."""

    code = "DECRYPTION_FAILED"


class EvidenceMissing(SimkycError):
    """A proofing step needs evidence not yet submitted: the document image, a live capture."""

    code = "EVIDENCE_MISSING"


class InvalidBatch(SimkycError):
    """A bulk request with no items, or more than the service takes at once."""

    code = "INVALID_BATCH"


# --- core ---


class ChallengeSuperseded(SimkycError):
    """A newer liveness challenge was issued for the session: only the newest is open."""

    code = "CHALLENGE_SUPERSEDED"


# --- tlog ---
class CheckpointInvalid(SimkycError):
    """A checkpoint note, verifier key or proof file that does not parse or verify."""

    code = "CHECKPOINT_INVALID"


class ProofUnavailable(SimkycError):
    """An inclusion or consistency proof asked for an entry or tree size the log has not
    integrated (yet): ask again against a checkpoint that covers it."""

    code = "PROOF_UNAVAILABLE"


# --- bind ---


class UnknownCountry(SimkycError):
    """A country that is not an ISO 3166-1 code (typed, or read from the document)."""

    code = "UNKNOWN_COUNTRY"


class DocumentCountryMismatch(SimkycError):
    """The typed country disagrees with the issuing state the document itself shows."""

    code = "DOCUMENT_COUNTRY_MISMATCH"


class InvalidDocumentNumber(SimkycError):
    """The document number fails its own validation (a person is never keyed on it)."""

    code = "INVALID_DOCUMENT_NUMBER"


class PersonRecordsSplit(SimkycError):
    """One document matches several person records (made before the country was taken from
    the document): proofing waits until an administrator merges them."""

    code = "PERSON_RECORDS_SPLIT"


class SelfServiceNotProven(SimkycError):
    """Self-service opens only for the holder: live face against their enrolled template,
    typed name and birth date equal to the stored ones. One answer for every failure (and
    for a number with nothing to show), so it tells nothing about whose number it is."""

    code = "SELF_SERVICE_NOT_PROVEN"


class TooManyAttempts(TryLater):
    """Too many attempts in the window (per person, session, device or API key)."""

    code = "TOO_MANY_ATTEMPTS"


class EnginesBusy(SimkycError):
    """The face engines are busy with proofing traffic; an open comparison waits its turn
    only briefly."""

    code = "ENGINES_BUSY"
    retry_after = 1  # seconds (the Retry-After header)

    def details(self) -> dict[str, object]:
        return {"retry_after_s": 1}


class OperatorExists(SimkycError):
    """An operator of that name exists already (names are unique)."""

    code = "OPERATOR_EXISTS"


# --- deploy ---


class ModelsLoading(SimkycError):
    """The process is alive but its models are not loaded yet (or failed to load): not ready
    to serve; a load balancer sends the request to another process."""

    code = "MODELS_LOADING"


class DatabaseUnavailable(SimkycError):
    """The database did not answer (down, restarting, unreachable); nothing was changed by
    the request that got this, and the service recovers by itself when the database does."""

    code = "DATABASE_UNAVAILABLE"
