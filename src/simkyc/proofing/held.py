"""What a pending proofing session holds between its steps, in the database: the typed data
and document checks from its start, the document and selfie face samples, the liveness
result, the images' SHA-256. Any process of the service can take the next step, a restart
loses nothing, and a missing or idle-expired session is PROOFING_EXPIRED, never an empty
default (an empty default once turned an expired document into "unchecked").

Personal data and face samples are sealed with the keyring (AES-GCM, bound to row and
column); pixels are never held here (retained images, when retention is on, are
simkyc.privacy.retention's). Each step writes only its own columns, so two steps racing
cannot undo each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, LargeBinary, String, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from simkyc.db.base import Base, UTCDateTime
from simkyc.documents.crosscheck import Typed
from simkyc.errors import ProofingExpired
from simkyc.faces.pipeline import FaceSample
from simkyc.liveness.analyzer import Verdict
from simkyc.privacy.crypto import place, seal, unseal
from simkyc.privacy.keyring import Keyring
from simkyc.proofing import codec
from simkyc.proofing.models import DocumentCheck

TABLE = "proofing_state"


class ProofingState(Base):
    """One row per pending proofing session (`id` is the session's id)."""

    __tablename__ = TABLE

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    typed_ct: Mapped[bytes] = mapped_column(LargeBinary)
    checks_ct: Mapped[bytes] = mapped_column(LargeBinary)
    text_checks_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    document_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    selfie_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    liveness_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    selfie_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


SEALED = (ProofingState.typed_ct, ProofingState.checks_ct, ProofingState.text_checks_ct,
          ProofingState.document_ct, ProofingState.selfie_ct, ProofingState.liveness_ct)


@dataclass(frozen=True)
class HeldLiveness:
    """The liveness verdict and the capture's best frames (the live probe)."""

    verdict: Verdict
    best: tuple[FaceSample, ...]


@dataclass(frozen=True)
class Held:
    """Everything a pending session has submitted so far."""

    typed: Typed
    checks: tuple[DocumentCheck, ...]  # from the typed data and the policy, at start
    text_checks: tuple[DocumentCheck, ...]  # the card's text vs the typed data
    document: FaceSample | None
    selfie: FaceSample | None
    liveness: HeldLiveness | None
    images: dict[str, str]  # image kind -> SHA-256

    @property
    def documents(self) -> list[DocumentCheck]:
        """Every document check, for the decision and the evidence record."""
        return [*self.checks, *self.text_checks]


@dataclass(frozen=True)
class HeldStore:
    """The store of held evidence: the keyring that seals it and how long it lives idle."""

    keyring: Keyring
    idle_s: float

    def open(self, db: Session, *, proofing_id: str, typed: Typed,
             checks: list[DocumentCheck], now: datetime) -> None:
        """Hold a new session's typed data and checks (flushed; a retried start replays
        its kept reply and never comes here)."""
        db.add(ProofingState(
            id=proofing_id, typed_ct=self._seal("typed_ct", proofing_id,
                                                codec.typed_to_json(typed)),
            checks_ct=self._seal("checks_ct", proofing_id, codec.checks_to_json(checks)),
            created_at=now, expires_at=self._until(now)))
        db.flush()

    def alive(self, db: Session, *, proofing_id: str, now: datetime) -> None:
        """PROOFING_EXPIRED when the session's evidence is no longer held (nothing unsealed:
        for the steps that need none of it)."""
        until = db.scalar(select(ProofingState.expires_at)
                          .where(ProofingState.id == proofing_id))
        if until is None or until <= now:
            raise _expired()

    def load(self, db: Session, *, proofing_id: str, now: datetime) -> Held:
        """The session's held evidence; PROOFING_EXPIRED when none is held any more."""
        row = db.get(ProofingState, proofing_id, populate_existing=True)
        if row is None or row.expires_at <= now:
            raise _expired()
        document, selfie, liveness = (
            self._open(col, proofing_id, value) if value is not None else None
            for col, value in (("document_ct", row.document_ct), ("selfie_ct", row.selfie_ct),
                               ("liveness_ct", row.liveness_ct)))
        text = (self._open("text_checks_ct", proofing_id, row.text_checks_ct)
                if row.text_checks_ct is not None else [])
        held_liveness = None
        if liveness is not None:
            verdict, best = codec.liveness_from_json(liveness)
            held_liveness = HeldLiveness(verdict, best)
        images = {k: v for k, v in (("document", row.document_sha256),
                                    ("selfie", row.selfie_sha256)) if v is not None}
        return Held(
            typed=codec.typed_from_json(self._open("typed_ct", proofing_id, row.typed_ct)),
            checks=tuple(codec.checks_from_json(
                self._open("checks_ct", proofing_id, row.checks_ct))),
            text_checks=tuple(codec.checks_from_json(text)),
            document=None if document is None else codec.sample_from_json(document),
            selfie=None if selfie is None else codec.sample_from_json(selfie),
            liveness=held_liveness, images=images)

    def put_document(self, db: Session, *, proofing_id: str, sample: FaceSample,
                     sha256: str, text_checks: list[DocumentCheck] | None,
                     now: datetime) -> None:
        """The document's portrait (replacing an earlier one) and, for a card read by OCR,
        its text checks (replacing those of an earlier card photo)."""
        values: dict[str, Any] = {
            "document_ct": self._seal("document_ct", proofing_id,
                                      codec.sample_to_json(sample)),
            "document_sha256": sha256}
        if text_checks is not None:
            values["text_checks_ct"] = self._seal("text_checks_ct", proofing_id,
                                                  codec.checks_to_json(text_checks))
        self._update(db, proofing_id=proofing_id, now=now, values=values)

    def put_selfie(self, db: Session, *, proofing_id: str, sample: FaceSample, sha256: str,
                   now: datetime) -> None:
        """The selfie (replacing an earlier one)."""
        self._update(db, proofing_id=proofing_id, now=now, values={
            "selfie_ct": self._seal("selfie_ct", proofing_id, codec.sample_to_json(sample)),
            "selfie_sha256": sha256})

    def put_liveness(self, db: Session, *, proofing_id: str, verdict: Verdict,
                     best: tuple[FaceSample, ...], now: datetime) -> None:
        """The latest liveness verdict and its best frames."""
        self._update(db, proofing_id=proofing_id, now=now, values={
            "liveness_ct": self._seal("liveness_ct", proofing_id,
                                      codec.liveness_to_json(verdict, best))})

    def touch(self, db: Session, *, proofing_id: str, now: datetime) -> None:
        """Keep the session alive (a challenge was issued)."""
        self._update(db, proofing_id=proofing_id, now=now, values={})

    def _update(self, db: Session, *, proofing_id: str, now: datetime,
                values: dict[str, Any]) -> None:
        result = cast(CursorResult[tuple[()]], db.execute(
            update(ProofingState)
            .where(ProofingState.id == proofing_id, ProofingState.expires_at > now)
            .values(**values, expires_at=self._until(now))
            .execution_options(synchronize_session=False)))
        if result.rowcount != 1:
            raise _expired()

    def _until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.idle_s)

    def _seal(self, column: str, proofing_id: str, value: Any) -> bytes:
        return seal(self.keyring, codec.dump(value), where=place(TABLE, column, proofing_id))

    def _open(self, column: str, proofing_id: str, sealed: bytes) -> Any:
        return codec.load(unseal(self.keyring, sealed, where=place(TABLE, column, proofing_id)))


def discard(db: Session, *, proofing_id: str) -> None:
    """Forget a decided session's held evidence (flushed)."""
    db.execute(delete(ProofingState).where(ProofingState.id == proofing_id)
               .execution_options(synchronize_session=False))


def purge(db: Session, *, now: datetime) -> int:
    """Delete the held evidence of sessions idle past their expiry (flushed): how many."""
    result = cast(CursorResult[tuple[()]], db.execute(
        delete(ProofingState).where(ProofingState.expires_at <= now)
        .execution_options(synchronize_session=False)))
    return result.rowcount


def _expired() -> ProofingExpired:
    return ProofingExpired("this proofing session expired (no step within "
                           "SIMKYC_PROOFING_IDLE_S) and its evidence is gone: start a new "
                           "session.")
