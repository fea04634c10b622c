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


class LivenessLocked(SimkycError):
    """Too many failed liveness attempts: locked out for a while."""

    code = "LIVENESS_LOCKED"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def details(self) -> dict[str, object]:
        return {"retry_after_s": round(self.retry_after)}
