"""One error tree for simkyc: each error has a stable machine-readable code, the HTTP status
the API answers it with, and a human message.

Statuses follow one rule for what a request carries: 400 when it is not what it claims to be
(bytes that are no image or video, a bad argument); 422 when it is well formed but its
content cannot be processed (no face, two documents, a poor photo, an invalid number); 5xx
when the fault is ours (a missing model, a database outage)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar


class SimkycError(Exception):
    """Base of every domain error; `code` is stable API, `status` the HTTP status the API
    answers with, `message` is for people.

    A class that names its `code` names its `status` in the same body, or it cannot be
    defined (there is no default status to fall back on). A class naming neither (TryLater)
    is a family, not an error the API answers with."""

    code = "SIMKYC_ERROR"
    status: ClassVar[int] = 500

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = vars(cls)
        if ("code" in own) != ("status" in own):
            raise TypeError(f"{cls.__name__} must define `code` and `status` together")
        if not (isinstance(cls.status, int) and 400 <= cls.status <= 599):
            raise TypeError(f"{cls.__name__}.status {cls.status!r} is not an HTTP error status")

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def details(self) -> dict[str, object]:
        """Machine-readable extras for the API and the CLI's JSON output."""
        return {}


class InvalidImage(SimkycError):
    """Not an image we can decode: empty, truncated, unknown format."""

    code = "INVALID_IMAGE"
    status = 400


class ImageTooLarge(SimkycError):
    """Over the byte or pixel cap (decompression bombs included)."""

    code = "IMAGE_TOO_LARGE"
    status = 413


class NoFaceFound(SimkycError):
    """No face, or none large or clear enough to use."""

    code = "NO_FACE"
    status = 422


class MultipleFaces(SimkycError):
    """Two or more faces of similar size: we will not guess which one is the applicant."""

    code = "MULTIPLE_FACES"
    status = 422

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
    status = 422

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
    status = 503


class CalibrationMissing(SimkycError):
    """No calibration for the configured (model, population): thresholds cannot be backed."""

    code = "CALIBRATION_MISSING"
    status = 503


class InvalidMedia(SimkycError):
    """Liveness evidence that cannot be decoded: corrupt, empty, unknown container."""

    code = "INVALID_MEDIA"
    status = 400


class MediaTooLarge(SimkycError):
    """Liveness evidence over a cap: bytes, duration, frame count or resolution."""

    code = "MEDIA_TOO_LARGE"
    status = 413


class ChallengeUnknown(SimkycError):
    """A nonce that was never issued."""

    code = "CHALLENGE_UNKNOWN"
    status = 404


class ChallengeExpired(SimkycError):
    """A challenge answered after its expiry."""

    code = "CHALLENGE_EXPIRED"
    status = 410


class ChallengeAlreadyUsed(SimkycError):
    """A challenge can be answered once; this one was."""

    code = "CHALLENGE_ALREADY_USED"
    status = 409


class ChallengeForeign(SimkycError):
    """A nonce issued to another proofing session."""

    code = "CHALLENGE_FOREIGN"
    status = 403


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
    status = 429


class NoDocumentFound(SimkycError):
    """No identity document could be made out in the photo."""

    code = "NO_DOCUMENT"
    status = 422


class NoPortraitFound(SimkycError):
    """A document was found, but no portrait on it."""

    code = "NO_PORTRAIT"
    status = 422


class MultipleDocuments(SimkycError):
    """Two or more documents of similar size: we will not guess which one is the applicant's."""

    code = "MULTIPLE_DOCUMENTS"
    status = 422

    def __init__(self, message: str, count: int) -> None:
        super().__init__(message)
        self.count = count

    def details(self) -> dict[str, object]:
        return {"documents": self.count}


# --- Registry, proofing sessions, privacy (issue 4) -------------------------------------------


class RecordNotFound(SimkycError):
    """A line, person, operator, proofing session or key that does not exist (or is not yours)."""

    code = "NOT_FOUND"
    status = 404

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"No {kind} {ident!r}.")
        self.kind = kind

    def details(self) -> dict[str, object]:
        return {"kind": self.kind}


class InvalidCredentials(SimkycError):
    """An API key or citizen token that is unknown, malformed, revoked or expired."""

    code = "INVALID_CREDENTIALS"
    status = 401


class PermissionDenied(SimkycError):
    """The caller's role (or operator) may not do this."""

    code = "PERMISSION_DENIED"
    status = 403


class InvalidMsisdn(SimkycError):
    """Not an E.164 number (`+`, country code, subscriber number; 8 to 15 digits)."""

    code = "INVALID_MSISDN"
    status = 422


class InvalidIccid(SimkycError):
    """Not an ICCID: 19 or 20 digits starting 89, with a valid Luhn check digit."""

    code = "INVALID_ICCID"
    status = 422


class UnknownJurisdiction(SimkycError):
    """An operator's jurisdiction has no profile in `SIMKYC_JURISDICTION_PROFILES`."""

    code = "UNKNOWN_JURISDICTION"
    status = 422


class LineCapExceeded(SimkycError):
    """Registering one more line would exceed the jurisdiction's cap; `cap` names the rule."""

    code = "LINE_CAP_EXCEEDED"
    status = 409

    def __init__(self, message: str, *, cap: str, limit: int, jurisdiction: str) -> None:
        super().__init__(message)
        self.cap, self.limit, self.jurisdiction = cap, limit, jurisdiction

    def details(self) -> dict[str, object]:
        return {"cap": self.cap, "limit": self.limit, "jurisdiction": self.jurisdiction}


class TransferForbidden(SimkycError):
    """A number cannot pass from one holder to another; it is cancelled, quarantined, reissued."""

    code = "TRANSFER_FORBIDDEN"
    status = 409

    def __init__(self, message: str, *, quarantine_days: int) -> None:
        super().__init__(message)
        self.quarantine_days = quarantine_days

    def details(self) -> dict[str, object]:
        return {"quarantine_days": self.quarantine_days}


class NumberInUse(SimkycError):
    """The MSISDN or ICCID already belongs to a line that is not cancelled."""

    code = "NUMBER_IN_USE"
    status = 409


class NumberQuarantined(SimkycError):
    """A cancelled number cannot be reissued before its quarantine ends."""

    code = "NUMBER_QUARANTINED"
    status = 409

    def __init__(self, message: str, *, until: str) -> None:
        super().__init__(message)
        self.until = until

    def details(self) -> dict[str, object]:
        return {"until": self.until}


class InvalidLineState(SimkycError):
    """The operation does not apply to a line in its current status."""

    code = "INVALID_LINE_STATE"
    status = 409


class ProofingNotApproved(SimkycError):
    """The proofing session was not approved (rejected, pending or in manual review)."""

    code = "PROOFING_NOT_APPROVED"
    status = 409


class ProofingExpired(SimkycError):
    """An approved proofing session is only good for a short while (SIMKYC_APPROVAL_TTL_S); a
    pending one whose evidence was idle past SIMKYC_PROOFING_IDLE_S is gone too."""

    code = "PROOFING_EXPIRED"
    status = 410


class ProofingAlreadyUsed(SimkycError):
    """An approved proofing session authorises one line operation, once."""

    code = "PROOFING_ALREADY_USED"
    status = 409


class ProofingMismatch(SimkycError):
    """The session was for another purpose, line or person than this operation needs."""

    code = "PROOFING_MISMATCH"
    status = 409


class ProofingAlreadyDecided(SimkycError):
    """A proofing session is decided once (a reviewer settles `manual_review`)."""

    code = "PROOFING_ALREADY_DECIDED"
    status = 409


class ConsentMissing(SimkycError):
    """No proofing without the applicant's recorded consent."""

    code = "CONSENT_MISSING"
    status = 422


class IdempotencyKeyReused(SimkycError):
    """The idempotency key was already used for a different request."""

    code = "IDEMPOTENCY_KEY_REUSED"
    status = 422


class KeyringInvalid(SimkycError):
    """The key file or SIMKYC_KEYRING is malformed, or a ciphertext names an unknown key."""

    code = "KEYRING_INVALID"
    status = 500


class DecryptionFailed(SimkycError):
    """A ciphertext failed authentication: wrong key, wrong record, or tampered data."""

    code = "DECRYPTION_FAILED"
    status = 500


class EvidenceMissing(SimkycError):
    """A proofing step needs evidence not yet submitted: the document image, a live capture."""

    code = "EVIDENCE_MISSING"
    status = 409


class InvalidBatch(SimkycError):
    """A bulk request with no items, or more than the service takes at once."""

    code = "INVALID_BATCH"
    status = 422


# --- core ---


class ChallengeSuperseded(SimkycError):
    """A newer liveness challenge was issued for the session: only the newest is open."""

    code = "CHALLENGE_SUPERSEDED"
    status = 409


# --- tlog ---
class CheckpointInvalid(SimkycError):
    """A checkpoint note, verifier key or proof file that does not parse or verify."""

    code = "CHECKPOINT_INVALID"
    status = 422


class ProofUnavailable(SimkycError):
    """An inclusion or consistency proof asked for an entry or tree size the log has not
    integrated (yet): ask again against a checkpoint that covers it."""

    code = "PROOF_UNAVAILABLE"
    status = 404


# --- bind ---


class UnknownCountry(SimkycError):
    """A country that is not an ISO 3166-1 code (typed, or read from the document)."""

    code = "UNKNOWN_COUNTRY"
    status = 422


class DocumentCountryMismatch(SimkycError):
    """The typed country disagrees with the issuing state the document itself shows."""

    code = "DOCUMENT_COUNTRY_MISMATCH"
    status = 422


class InvalidDocumentNumber(SimkycError):
    """The document number fails its own validation (a person is never keyed on it)."""

    code = "INVALID_DOCUMENT_NUMBER"
    status = 422


class PersonRecordsSplit(SimkycError):
    """One document matches several person records (made before the country was taken from
    the document): proofing waits until an administrator merges them."""

    code = "PERSON_RECORDS_SPLIT"
    status = 409


class SelfServiceNotProven(SimkycError):
    """Self-service opens only for the holder: live face against their enrolled template,
    typed name and birth date equal to the stored ones. One answer for every failure (and
    for a number with nothing to show), so it tells nothing about whose number it is."""

    code = "SELF_SERVICE_NOT_PROVEN"
    status = 403


class TooManyAttempts(TryLater):
    """Too many attempts in the window (per person, session, device or API key)."""

    code = "TOO_MANY_ATTEMPTS"
    status = 429


class EnginesBusy(SimkycError):
    """The face engines are busy with proofing traffic; an open comparison waits its turn
    only briefly."""

    code = "ENGINES_BUSY"
    status = 503
    retry_after = 1  # seconds (the Retry-After header)

    def details(self) -> dict[str, object]:
        return {"retry_after_s": 1}


class OperatorExists(SimkycError):
    """An operator of that name exists already (names are unique)."""

    code = "OPERATOR_EXISTS"
    status = 409


# --- deploy ---


class ModelsLoading(SimkycError):
    """The process is alive but its models are not loaded yet (or failed to load): not ready
    to serve; a load balancer sends the request to another process."""

    code = "MODELS_LOADING"
    status = 503


class DatabaseUnavailable(SimkycError):
    """The database did not answer (down, restarting, unreachable); nothing was changed by
    the request that got this, and the service recovers by itself when the database does."""

    code = "DATABASE_UNAVAILABLE"
    status = 503
