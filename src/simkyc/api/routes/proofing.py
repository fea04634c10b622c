"""Proofing sessions: open one, submit the document, a selfie and liveness evidence, conclude.

Evidence between the calls is held in memory (api.evidence); only what `conclude` records is
persisted. Every route checks the session through the service with the caller as actor, so
another operator's session is refused before anything is read or held.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile, status
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from simkyc.api import capture
from simkyc.api.deps import (
    AgentDep,
    IdempotencyKey,
    NowDep,
    ServicesDep,
    SessionDep,
    StaffDep,
    read_upload,
)
from simkyc.api.evidence import HeldEvidence
from simkyc.api.idempotency import once
from simkyc.api.schemas import (
    CardFieldOut,
    ChallengeOut,
    DocumentCheckOut,
    DocumentSource,
    FaceSubmitted,
    KeyOut,
    LivenessOut,
    ProofingCreate,
    ProofingPublic,
)
from simkyc.api.state import Services
from simkyc.documents.crosscheck import TextCheck, Typed
from simkyc.errors import (
    IdempotencyKeyReused,
    MediaTooLarge,
    PermissionDenied,
    ProofingAlreadyDecided,
)
from simkyc.faces.pipeline import FaceSample
from simkyc.proofing import service as proofing
from simkyc.proofing.documents import (
    TEXT_CHECK_PREFIX,
    document_checks,
    text_checks,
)
from simkyc.proofing.identity import keyed_document
from simkyc.proofing.models import Outcome, Purpose
from simkyc.proofing.schemas import Consent, ProofingView
from simkyc.registry import selfservice
from simkyc.registry.accounts import Actor, operator_profile
from simkyc.registry.persons import Applicant
from simkyc.registry.signin import sign_in_limits

router = APIRouter(prefix="/v1/proofing-sessions", tags=["proofing"])


def _public(view: ProofingView, held: HeldEvidence | None = None) -> ProofingPublic:
    checks = [DocumentCheckOut(name=c.name, passed=c.passed, code=c.code, message=c.message)
              for c in (held.documents if held else [])]
    return ProofingPublic(**view.model_dump(), document_checks=checks)


def _open(services: Services, *, db: SessionDep, actor: Actor, proofing_id: str,
          now: float) -> HeldEvidence:
    """The held evidence of a pending session the caller may work on."""
    view = proofing.get_session(db, actor=actor, proofing_id=proofing_id)
    # End the read: on SQLite every transaction holds the write lock, and the engines that
    # run next take seconds.
    db.rollback()
    if view.agent_id != actor.principal_id:
        raise PermissionDenied("only the agent who started a session submits its evidence.")
    if view.outcome is not Outcome.PENDING:
        raise ProofingAlreadyDecided(f"the session is already {view.outcome.value}.")
    return services.evidence.get(proofing_id, now=now)


async def _opened(services: Services, *, db: SessionDep, actor: Actor, proofing_id: str,
                  now: datetime) -> HeldEvidence:
    """`_open` off the event loop (it queries the database)."""
    return await run_in_threadpool(lambda: _open(services, db=db, actor=actor,
                                                 proofing_id=proofing_id,
                                                 now=now.timestamp()))


@router.post("", status_code=status.HTTP_201_CREATED)
def create_session(body: ProofingCreate, *, db: SessionDep, me: AgentDep, now: NowDep,
                   services: ServicesDep, key: IdempotencyKey = None) -> ProofingPublic:
    """Open a session for an applicant who consented; the typed document data is checked."""
    typed = body.applicant
    keyed = keyed_document(kind=typed.document_kind, number=typed.number,
                           typed_country=typed.country, mrz=typed.mrz, today=now.date())
    applicant = Applicant(keyed.identity, typed.name, typed.birth_date, legacy=keyed.legacy)

    def act() -> ProofingView:
        return proofing.start_session(
            db, actor=me, purpose=body.purpose, applicant=applicant,
            consent=Consent(body.consent.given, body.consent.version, now),
            keyring=services.keyring, now=now, line_id=body.line_id, device_id=body.device_id,
            sign_in=sign_in_limits(services.settings))

    view = once(db, actor=me, key=key, operation="proofing.start",
                request=body.model_dump(mode="json"), kind=ProofingView, now=now, act=act)
    profile = operator_profile(db, me, services.settings.jurisdiction_profiles)
    held = services.evidence.get(view.id, now=now.timestamp())
    held.documents = document_checks(kind=typed.document_kind, number=typed.number,
                                     birth_date=typed.birth_date, today=now.date(),
                                     profile=profile, expiry=typed.expiry, mrz=typed.mrz)
    held.typed = Typed(typed.number, typed.name, typed.birth_date, typed.expiry)
    return _public(view, held)


@router.get("/{proofing_id}")
def get_session(proofing_id: str, *, db: SessionDep, me: StaffDep) -> ProofingPublic:
    """A session's state and decision (staff of its operator, auditors, admins)."""
    return _public(proofing.get_session(db, actor=me, proofing_id=proofing_id))


async def _face(kind: str, proofing_id: str, image: UploadFile, *, db: SessionDep,
                me: Actor, now: NowDep, services: Services, key: str | None,
                card: bool = False) -> tuple[HeldEvidence, FaceSubmitted, FaceSample | None]:
    """The image judged and its summary; for a keyed retry, the first summary (no sample:
    the first request's is held already)."""
    held = await _opened(services, db=db, actor=me, proofing_id=proofing_id, now=now)
    data = await read_upload(image, services.settings.max_image_bytes)
    digest = capture.sha256(data)
    fingerprint = f"{digest}/{card}"
    if (kept := _replay(held, kind, key, fingerprint)) is not None:
        return held, FaceSubmitted.model_validate(kept), None
    text = None
    if card:
        sample, text = await capture.card_document(services, data, held.typed,
                                                   today=now.date())
    else:
        sample = await capture.face_sample(services, data)
    held.image_sha256[kind] = digest
    out = FaceSubmitted(kind=kind, image_sha256=digest,
                        detector_score=sample.quality.detector_score,
                        sharpness=sample.quality.sharpness)
    if text is not None:
        _record_text(held, text)
        out.card_text = [CardFieldOut(**check.to_dict()) for check in text.fields]
    _keep(held, kind, key, fingerprint, out)
    return held, out, sample


def _record_text(held: HeldEvidence, text: TextCheck) -> None:
    """The card's text checks replace those of an earlier card photo."""
    kept = [c for c in held.documents if not c.name.startswith(TEXT_CHECK_PREFIX)]
    held.documents = kept + text_checks(text.fields)


def _replay(held: HeldEvidence, kind: str, key: str | None, fingerprint: str) -> object:
    """The reply kept for this key (None if new); the key of another request is refused."""
    kept = held.replies.get((kind, key)) if key else None
    if kept is None:
        return None
    if kept["request"] != fingerprint:
        raise IdempotencyKeyReused(f"idempotency key {key!r} was used for another request.")
    return kept["response"]


def _keep(held: HeldEvidence, kind: str, key: str | None, fingerprint: str,
          out: BaseModel) -> None:
    """Keep the reply for retries with the same key (in memory, with the held evidence)."""
    if key:
        held.replies[(kind, key)] = {"request": fingerprint, "response": out.model_dump()}


@router.post("/{proofing_id}/document")
async def submit_document(proofing_id: str, image: Annotated[UploadFile, File()],
                          *, db: SessionDep, me: AgentDep, now: NowDep, services: ServicesDep,
                          source: Annotated[DocumentSource, Form()] = DocumentSource.CARD,
                          key: IdempotencyKey = None) -> FaceSubmitted:
    """The document: a photo or scan of the card (its portrait is found, flattened and turned
    upright), or `source=portrait` for a portrait already cut out (an e-passport chip's
    image, a scanner's crop). The live capture must match it; resubmitting replaces it.
    A card's text is read (OCR) and each typed field reported match / mismatch / unreadable;
    a mismatch sends the session to manual review, an unreadable field is only recorded."""
    if source is DocumentSource.PORTRAIT:
        await run_in_threadpool(_no_portrait_for_self_service, db, me, proofing_id)
    held, out, sample = await _face("document", proofing_id, image, db=db, me=me, now=now,
                                    services=services, key=key,
                                    card=source is DocumentSource.CARD)
    if sample is not None:
        held.document = sample
    return out


def _no_portrait_for_self_service(db: SessionDep, me: Actor, proofing_id: str) -> None:
    """Self-service proves the holder on the card itself (portrait and text), never on a
    portrait the caller cut out."""
    view = proofing.get_session(db, actor=me, proofing_id=proofing_id)
    db.rollback()
    if view.purpose is Purpose.SELF_SERVICE:
        raise PermissionDenied("self-service needs a photo of the whole card (source=card): "
                               "its text is read and compared with the typed data.")


@router.post("/{proofing_id}/selfie")
async def submit_selfie(proofing_id: str, image: Annotated[UploadFile, File()],
                        *, db: SessionDep, me: AgentDep, now: NowDep,
                        services: ServicesDep, key: IdempotencyKey = None) -> FaceSubmitted:
    """A frontal selfie (the liveness capture's reference; resubmitting replaces it)."""
    held, out, sample = await _face("selfie", proofing_id, image, db=db, me=me, now=now,
                                    services=services, key=key)
    if sample is not None:
        held.selfie = sample
    return out


@router.post("/{proofing_id}/liveness-challenges", status_code=status.HTTP_201_CREATED)
async def request_challenge(proofing_id: str, *, db: SessionDep, me: AgentDep, now: NowDep,
                            services: ServicesDep, key: IdempotencyKey = None) -> ChallengeOut:
    """A random sequence of actions to perform on camera, answerable once before expiry."""
    held = await _opened(services, db=db, actor=me, proofing_id=proofing_id, now=now)
    if (kept := _replay(held, "challenge", key, "")) is not None:
        return ChallengeOut.model_validate(kept)
    challenge = await capture.issue_challenge(services, proofing_id=proofing_id,
                                              now=now.timestamp())
    out = ChallengeOut(nonce=challenge.nonce, actions=[a.value for a in challenge.actions],
                       prompts=challenge.prompts(), slot_s=challenge.slot_s,
                       expires_at=now + timedelta(seconds=services.liveness.book.ttl_s))
    _keep(held, "challenge", key, "", out)
    return out


@router.post("/{proofing_id}/liveness")
async def submit_liveness(
    proofing_id: str, nonce: Annotated[str, Form()], *, db: SessionDep, me: AgentDep,
    now: NowDep, services: ServicesDep, video: Annotated[UploadFile | None, File()] = None,
    stills: Annotated[list[UploadFile] | None, File()] = None,
    fps: Annotated[float, Form(gt=0, le=120)] = 10.0,
    device_id: Annotated[str | None, Form(max_length=128)] = None,
    key: IdempotencyKey = None,
) -> LivenessOut:
    """The evidence answering a challenge: a video, or a burst of stills taken at `fps`."""
    held = await _opened(services, db=db, actor=me, proofing_id=proofing_id, now=now)
    fingerprint = f"{nonce}/{device_id}/{fps}"
    if (kept := _replay(held, "liveness", key, fingerprint)) is not None:
        return LivenessOut.model_validate(kept)
    limit = services.settings.liveness_max_bytes
    clip = await read_upload(video, limit, MediaTooLarge) if video is not None else None
    burst = [(await read_upload(s, limit, MediaTooLarge), i / fps)
             for i, s in enumerate(stills or [])]
    result = await capture.judge_liveness(
        services, held, proofing_id=proofing_id, nonce=nonce, device_id=device_id,
        video=clip, stills=burst if clip is None else None, now=now.timestamp())
    held.liveness = result
    out = LivenessOut(verdict=result.verdict.value, reasons=list(result.reasons),
                      frames_analysed=result.frames_analysed,
                      actions_seen=[{"action": a, "t": round(t, 3)}
                                    for a, t in result.actions_seen])
    _keep(held, "liveness", key, fingerprint, out)
    return out


@router.post("/{proofing_id}/conclude")
def conclude(proofing_id: str, *, db: SessionDep, me: AgentDep, now: NowDep,
             services: ServicesDep, key: IdempotencyKey = None) -> ProofingPublic:
    """Decide from the document checks, the face match and the liveness verdict."""

    def act() -> ProofingView:
        held = _open(services, db=db, actor=me, proofing_id=proofing_id, now=now.timestamp())
        face, probe = capture.face_check(services, held)
        view = proofing.conclude(
            db, actor=me, proofing_id=proofing_id, documents=held.documents, face=face,
            liveness=capture.liveness_check(held), keyring=services.keyring,
            approval_ttl_s=services.settings.approval_ttl_s, now=now, probe=probe,
            images=held.image_sha256)
        services.metrics.decisions.labels(view.outcome.value).inc()
        services.evidence.discard(proofing_id)
        return view

    return _public(once(db, actor=me, key=key, operation="proofing.conclude",
                        request={"proofing_id": proofing_id}, kind=ProofingView, now=now,
                        act=act))


@router.post("/{proofing_id}/citizen-token", status_code=status.HTTP_201_CREATED)
def citizen_token(proofing_id: str, *, db: SessionDep, me: AgentDep, now: NowDep,
                  services: ServicesDep, key: IdempotencyKey = None) -> KeyOut:
    """A self-service token for the citizen proofed in this (approved, self-service) session,
    shown once (a keyed retry gets it again from a sealed record)."""
    proofing.get_session(db, actor=me, proofing_id=proofing_id)

    def act() -> KeyOut:
        issued = selfservice.issue_citizen_token(
            db, proofing_id=proofing_id, ttl_s=services.settings.citizen_token_ttl_s, now=now)
        return KeyOut(principal_id=issued.principal_id, key_id=issued.key_id,
                      token=issued.token, expires_at=issued.expires_at)

    return once(db, actor=me, key=key, operation="proofing.citizen_token",
                request={"proofing_id": proofing_id}, kind=KeyOut, now=now, act=act,
                secret=services.keyring)
