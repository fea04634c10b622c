"""The proofing flow: open a session, take its document, selfie, liveness challenge and
answer, and conclude - the one object the API routes and the web pages both call.

Nothing lives in this process between two steps: what a session holds (typed data, checks,
face samples, liveness), its challenges, attempt counters, lockouts and the replies kept
for idempotent retries are in the database (simkyc.proofing.held, simkyc.liveness.store,
simkyc.proofing.replies), so the next step may run on any process. Inference runs with an
engine checked out of a pool and no database transaction open (on SQLite every transaction
would hold the write lock for the seconds the engines take).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from simkyc.auth.actors import Actor
from simkyc.config import Settings
from simkyc.documents.crosscheck import TextCheck, Typed
from simkyc.documents.reading import DocumentReader
from simkyc.errors import PermissionDenied, ProofingAlreadyDecided
from simkyc.faces.pipeline import FaceSample
from simkyc.liveness import store as challenges
from simkyc.liveness.analyzer import LivenessResult, Verdict
from simkyc.liveness.challenge import Challenge, ChallengeBook
from simkyc.liveness.store import AttemptKeys, LockoutRule
from simkyc.privacy.keyring import Keyring
from simkyc.privacy.models import MediaKind
from simkyc.privacy.retention import RetentionPolicy, retain_image
from simkyc.proofing import held as held_store
from simkyc.proofing import replies
from simkyc.proofing import service as proofing
from simkyc.proofing.documents import DocumentKind, document_checks, text_checks
from simkyc.proofing.engines import EnginePool
from simkyc.proofing.held import Held, HeldStore
from simkyc.proofing.identity import keyed_document
from simkyc.proofing.models import DocumentCheck, Outcome, Purpose
from simkyc.proofing.schemas import (
    CardFieldOut,
    ChallengeOut,
    Consent,
    FaceSubmitted,
    LivenessOut,
    ProofingView,
)
from simkyc.proofing.verdicts import face_check, liveness_check
from simkyc.records.idempotent import once
from simkyc.records.operators import operator_profile
from simkyc.records.persons import Applicant
from simkyc.records.signin import sign_in_limits

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class TypedDocument:
    """The applicant's document data as the agent typed it."""

    kind: DocumentKind
    country: str | None
    number: str
    name: str
    birth_date: date
    expiry: date | None = None
    mrz: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Opened:
    """A session just opened (or replayed), with its document checks."""

    view: ProofingView
    checks: list[DocumentCheck]


@dataclass(frozen=True)
class LivenessMedia:
    """A liveness answer: a clip, or a burst of stills with their times."""

    video: bytes | None = None
    stills: Sequence[tuple[bytes, float]] | None = None


@dataclass(frozen=True)
class Step:
    """One keyed step of a session: its reply is kept under (session, name, key) for a
    request fingerprint."""

    proofing_id: str
    name: str
    key: str | None
    request: str


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ProofingFlow:
    """Built per request from what the app holds (settings, keyring, engines, the document
    reader: None when SIMKYC_DOCUMENT_OCR is off)."""

    settings: Settings
    keyring: Keyring
    engines: EnginePool
    book: ChallengeBook
    documents: DocumentReader | None = None

    @property
    def held(self) -> HeldStore:
        return HeldStore(self.keyring, self.settings.proofing_idle_s)

    @property
    def rule(self) -> LockoutRule:
        s = self.settings
        return LockoutRule(s.lockout_failures, s.lockout_window_s, s.lockout_s)

    # --- start -------------------------------------------------------------------------

    def start(self, db: Session, *, actor: Actor, purpose: Purpose, typed: TypedDocument,
              consent: Consent, now: datetime, line_id: str | None = None,
              device_id: str | None = None, key: str | None = None,
              request: dict[str, object] | None = None) -> Opened:
        """Open a session for an applicant who consented; the typed data is checked at once
        and held with the session. A keyed retry (same `request`) gets the same session.
        The person is keyed on the validated document (proofing.identity), never on the
        typed country alone; self-service sign-ins are limited per person and `device_id`."""
        keyed = keyed_document(kind=typed.kind, number=typed.number,
                               typed_country=typed.country,
                               mrz=list(typed.mrz) if typed.mrz else None, today=now.date())
        profile = operator_profile(db, actor, self.settings.jurisdiction_profiles)
        checks = document_checks(kind=typed.kind, number=typed.number,
                                 birth_date=typed.birth_date, today=now.date(),
                                 profile=profile, expiry=typed.expiry,
                                 mrz=list(typed.mrz) if typed.mrz else None)

        def act() -> ProofingView:
            applicant = Applicant(keyed.identity, typed.name, typed.birth_date,
                                  legacy=keyed.legacy)
            view = proofing.start_session(
                db, actor=actor, purpose=purpose, applicant=applicant, consent=consent,
                keyring=self.keyring, now=now, line_id=line_id, device_id=device_id,
                sign_in=sign_in_limits(self.settings))
            self.held.open(db, proofing_id=view.id, now=now, checks=checks, typed=Typed(
                typed.number, typed.name, typed.birth_date, typed.expiry,
                resident_id=typed.kind is DocumentKind.CN_RESIDENT_ID))
            return view

        view = once(db, actor=actor, key=key, operation="proofing.start",
                    request=request or {}, kind=ProofingView, now=now, act=act)
        return Opened(view, checks)

    # --- evidence ----------------------------------------------------------------------

    def document(self, db: Session, *, actor: Actor, proofing_id: str, image: bytes,
                 card: bool, now: datetime, key: str | None = None) -> FaceSubmitted:
        """The document: a card photo (portrait found, flattened, upright; its text read and
        compared with the typed data when OCR is on) or a portrait already cut out.
        Self-service proves the holder on the card itself (portrait and text), never on a
        portrait the caller cut out."""
        view = self.pending(db, actor=actor, proofing_id=proofing_id)
        if not card and view.purpose is Purpose.SELF_SERVICE:
            db.rollback()
            raise PermissionDenied("self-service needs a photo of the whole card "
                                   "(source=card): its text is read and compared with the "
                                   "typed data.")
        digest = sha256(image)
        request = f"{digest}/{card}"
        step = Step(proofing_id, "document", key, request)
        if (kept := self._replay(db, step, FaceSubmitted)) is not None:
            return kept
        held = self.held.load(db, proofing_id=proofing_id, now=now)
        db.rollback()
        sample, fields = self._read_document(image, held.typed if card else None, card=card,
                                             today=now.date())
        out = _submitted("document", digest, sample)
        if fields is not None:
            out.card_text = [CardFieldOut(**check.to_dict()) for check in fields.fields]
            if fields.consistent is not None:  # a PRC card's details against its number
                out.card_text.append(CardFieldOut(
                    field="consistent", status="match" if fields.consistent else "mismatch",
                    read=None, source="cn_card"))
            out.mrz = None if fields.text.mrz is None else fields.text.mrz.status.value

        def write() -> None:
            self.held.put_document(
                db, proofing_id=proofing_id, sample=sample, sha256=digest, now=now,
                text_checks=text_checks(fields.fields, consistent=fields.consistent)
                if fields is not None else None)
            self._retain(db, proofing_id, MediaKind.DOCUMENT, image, now)

        return self._commit_step(db, step, out, now=now, write=write)

    def selfie(self, db: Session, *, actor: Actor, proofing_id: str, image: bytes,
               now: datetime, key: str | None = None) -> FaceSubmitted:
        """A frontal selfie (the liveness capture's reference; resubmitting replaces it)."""
        self.pending(db, actor=actor, proofing_id=proofing_id)
        digest = sha256(image)
        request = f"{digest}/False"
        step = Step(proofing_id, "selfie", key, request)
        if (kept := self._replay(db, step, FaceSubmitted)) is not None:
            return kept
        self.held.alive(db, proofing_id=proofing_id, now=now)  # PROOFING_EXPIRED first
        db.rollback()
        with self.engines.checkout() as engines:
            sample = engines.pipeline.encoder.sample(image)
        out = _submitted("selfie", digest, sample)

        def write() -> None:
            self.held.put_selfie(db, proofing_id=proofing_id, sample=sample, sha256=digest,
                                 now=now)
            self._retain(db, proofing_id, MediaKind.SELFIE, image, now)

        return self._commit_step(db, step, out, now=now, write=write)

    def challenge(self, db: Session, *, actor: Actor, proofing_id: str, now: datetime,
                  device_id: str | None = None, key: str | None = None) -> ChallengeOut:
        """A new challenge; the session's open one is closed. Issuing counts as an attempt
        against the session, the person and the device: re-rolling is limited too."""
        view = self.pending(db, actor=actor, proofing_id=proofing_id)
        request = f"{device_id}"
        step = Step(proofing_id, "challenge", key, request)
        if (kept := self._replay(db, step, ChallengeOut)) is not None:
            return kept
        self.held.alive(db, proofing_id=proofing_id, now=now)
        keys = AttemptKeys(proofing_id, view.person_id, device_id).keys()
        self._gate(db, keys=keys, now=now, adding=1)
        issued = challenges.issue(db, book=self.book, proofing_id=proofing_id, now=now)
        out = ChallengeOut(nonce=issued.nonce, actions=[a.value for a in issued.actions],
                           prompts=issued.prompts(), slot_s=issued.slot_s,
                           expires_at=now + timedelta(seconds=self.book.ttl_s))

        def write() -> None:
            challenges.count_attempt(db, keys=keys, now=now)
            self.held.touch(db, proofing_id=proofing_id, now=now)

        return self._commit_step(db, step, out, now=now, write=write)

    def liveness(self, db: Session, *, actor: Actor, proofing_id: str, nonce: str,
                 media: LivenessMedia, now: datetime, fps: float = 10.0,
                 device_id: str | None = None, key: str | None = None) -> LivenessOut:
        """Judge the evidence answering the session's open challenge. The lockout and the
        challenge are checked before anything is decoded; the challenge is redeemed once."""
        view = self.pending(db, actor=actor, proofing_id=proofing_id)
        request = f"{nonce}/{device_id}/{fps}"
        step = Step(proofing_id, "liveness", key, request)
        if (kept := self._replay(db, step, LivenessOut)) is not None:
            return kept
        keys = AttemptKeys(proofing_id, view.person_id, device_id).keys()
        self._gate(db, keys=keys, now=now, adding=0)
        challenge = challenges.peek(db, nonce=nonce, proofing_id=proofing_id, now=now)
        held = self.held.load(db, proofing_id=proofing_id, now=now)
        db.rollback()
        result = self._judge(held, challenge, media)
        # The reasons as codes (the API route says them in the reader's language); a reply
        # kept for a replay holds no sentence in any language.
        out = LivenessOut(verdict=result.verdict.value, reasons=[],
                          reason_keys=[r.key() for r in result.reasons],
                          frames_analysed=result.frames_analysed,
                          actions_seen=[{"action": a, "t": round(t, 3)}
                                        for a, t in result.actions_seen])

        def write() -> None:
            challenges.redeem(db, nonce=nonce, proofing_id=proofing_id, now=now)
            if result.verdict is not Verdict.LIVE and device_id is not None:
                challenges.count_attempt(db, keys=keys[2:], now=now)  # the device's
            self.held.put_liveness(db, proofing_id=proofing_id, verdict=result.verdict,
                                   best=result.best, now=now)
            if media.video is not None:
                self._retain(db, proofing_id, MediaKind.LIVENESS, media.video, now)

        return self._commit_step(db, step, out, now=now, write=write)

    # --- conclude ----------------------------------------------------------------------

    def conclude(self, db: Session, *, actor: Actor, proofing_id: str,
                 now: datetime) -> ProofingView:
        """Decide from the held document checks, the face match and the liveness verdict;
        the held evidence is then forgotten (the evidence record keeps what was decided)."""
        self.pending(db, actor=actor, proofing_id=proofing_id)
        held = self.held.load(db, proofing_id=proofing_id, now=now)
        face, probe = face_check(self.engines.first.pipeline, held)
        view = proofing.conclude(
            db, actor=actor, proofing_id=proofing_id, documents=held.documents, face=face,
            liveness=liveness_check(held), keyring=self.keyring,
            approval_ttl_s=self.settings.approval_ttl_s, now=now, probe=probe,
            images=held.images, face_policy=self.engines.first.pipeline.policy)
        held_store.discard(db, proofing_id=proofing_id)
        replies.discard(db, proofing_id=proofing_id)
        db.commit()
        return view

    # --- parts -------------------------------------------------------------------------

    def pending(self, db: Session, *, actor: Actor, proofing_id: str) -> ProofingView:
        """The session, if it is pending and the caller is the agent who started it."""
        view = proofing.get_session(db, actor=actor, proofing_id=proofing_id)
        db.rollback()
        if view.agent_id != actor.principal_id:
            raise PermissionDenied("only the agent who started a session submits its evidence.")
        if view.outcome is not Outcome.PENDING:
            raise ProofingAlreadyDecided(f"the session is already {view.outcome.value}.")
        return view

    def _read_document(self, image: bytes, typed: Typed | None, *, card: bool, today: date
                       ) -> tuple[FaceSample, TextCheck | None]:
        """The portrait with a face engine checked out of the pool; the text (OCR, by the
        process's one document reader; ONNX Runtime's run() is thread-safe) outside it.

        Holding the engine through the OCR too bounds a worker's heavy jobs to its engines
        and lowered its peak memory (2 workers of one engine: 718 instead of 815 MB), but it
        left cores idle while one job held a worker's only engine: 20.1 instead of 31.5
        proofings a minute (bench/cluster.py, quiet machine, 2026-12-05). Throughput wins.
        What bounds the memory instead is the reader's slots (one reading per engine at
        once, taken before the engine): a one-core worker's peaks fell from 850-930 MB to
        636-660 MB with no loss of proofings (bench/cluster.py --balancer, 2026-12-05)."""
        from simkyc.documents.portrait import extract_portrait

        reader = self.documents if card and typed is not None else None
        ahead = None
        # One of the reader's slots is taken before an engine (never while holding one): a
        # worker reads at most as many documents at once as it has engines.
        with reader.slots if reader is not None else nullcontext():
            try:
                with self.engines.checkout() as engines:
                    encoder = engines.pipeline.encoder
                    if not card:
                        return encoder.sample(image), None
                    pixels = encoder.decoder.decode(image).pixels
                    if reader is not None and typed is not None:
                        # The MRZ search starts beside the portrait, as DocumentReader.read
                        # runs it (the evaluation and the benchmark measure the same order).
                        ahead = reader.look_ahead(pixels, today=today, typed=typed)
                    found = extract_portrait(pixels, encoder)
                if reader is None or typed is None:
                    return found.sample, None
                return found.sample, reader.text(pixels, card=found.card, typed=typed,
                                                 today=today, ahead=ahead)
            finally:
                if ahead is not None:
                    ahead.cancel()  # a no-op once taken

    def _judge(self, held: Held, challenge: Challenge,
               media: LivenessMedia) -> LivenessResult:
        """Decode and judge, with the selfie's embedding as the identity reference (the
        capture must be the selfie's person, through the face policy)."""
        selfie = held.selfie.embedding if held.selfie is not None else None
        with self.engines.checkout() as engines:
            frames = engines.liveness.decode(video=media.video, stills=media.stills)
            return engines.liveness.judge(challenge, frames, selfie=selfie)

    def _gate(self, db: Session, *, keys: Sequence[str], now: datetime, adding: int) -> None:
        refused = challenges.gate(db, keys=keys, rule=self.rule, now=now, adding=adding)
        if refused is not None:
            db.commit()  # the lockout stands for every process
            raise refused

    def _replay(self, db: Session, step: Step, kind: type[M]) -> M | None:
        return replies.replay(db, keyring=self.keyring, proofing_id=step.proofing_id,
                              step=step.name, key=step.key, request=step.request, kind=kind)

    def _commit_step(self, db: Session, step: Step, out: M, *, now: datetime,
                     write: Callable[[], None]) -> M:
        """Write the step's evidence and its reply in one transaction; a concurrent retry
        with the same key that stored first wins, and its reply is returned."""
        try:
            write()
            replies.remember(db, keyring=self.keyring, proofing_id=step.proofing_id,
                             step=step.name, key=step.key, request=step.request, reply=out,
                             now=now, keep_s=self.settings.proofing_idle_s)
            db.commit()
        except IntegrityError as error:
            db.rollback()
            kept = self._replay(db, step, type(out))
            if kept is None or not replies.is_duplicate(error):
                raise
            return kept
        return out

    def _retain(self, db: Session, proofing_id: str, kind: MediaKind, image: bytes,
                now: datetime) -> None:
        retain_image(db, policy=RetentionPolicy.from_settings(self.settings),
                     keyring=self.keyring, proofing_id=proofing_id, kind=kind, image=image,
                     now=now)


def _submitted(kind: str, digest: str, sample: FaceSample) -> FaceSubmitted:
    return FaceSubmitted(kind=kind, image_sha256=digest,
                         detector_score=sample.quality.detector_score,
                         sharpness=sample.quality.sharpness)
