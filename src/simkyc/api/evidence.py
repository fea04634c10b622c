"""Evidence held between a proofing session's submit calls, in memory only, with an expiry.

Raw images never land here: only the face samples (embeddings, quality) and the liveness
result derived from them, and the SHA-256 of each image for the evidence record.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from simkyc.documents.crosscheck import Typed
from simkyc.faces.pipeline import FaceSample
from simkyc.liveness.analyzer import LivenessResult
from simkyc.proofing.models import DocumentCheck


@dataclass
class HeldEvidence:
    """What one open proofing session has submitted so far."""

    documents: list[DocumentCheck] = field(default_factory=list)
    typed: Typed | None = None  # the typed document data, compared with the card's text
    document: FaceSample | None = None
    selfie: FaceSample | None = None
    liveness: LivenessResult | None = None
    image_sha256: dict[str, str] = field(default_factory=dict)
    # (kind, Idempotency-Key) -> {"request": fingerprint, "response": the reply}
    replies: dict[tuple[str, str], dict[str, object]] = field(default_factory=dict)
    touched_at: float = 0.0


@dataclass
class EvidenceStore:
    """Per proofing session id; entries unused for `ttl_s` seconds are forgotten."""

    ttl_s: float
    _held: dict[str, HeldEvidence] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, proofing_id: str, *, now: float) -> HeldEvidence:
        """The session's evidence (a fresh, empty entry if none or expired)."""
        with self._lock:
            self._forget_stale(now)
            held = self._held.setdefault(proofing_id, HeldEvidence())
            held.touched_at = now
            return held

    def discard(self, proofing_id: str) -> None:
        """Forget a session's evidence (it has been decided)."""
        with self._lock:
            self._held.pop(proofing_id, None)

    def __len__(self) -> int:
        return len(self._held)

    def _forget_stale(self, now: float) -> None:
        stale = [k for k, v in self._held.items() if now - v.touched_at > self.ttl_s]
        for key in stale:
            del self._held[key]
