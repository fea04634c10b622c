"""Proofing sessions: open one, submit the document, a selfie and liveness evidence, conclude.

Thin: each route reads its request and calls the proofing flow (simkyc.proofing.flow), which
keeps every step's state in the database. Uploads are read here; the flow's inference runs in
the thread pool, off the event loop.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile, status
from starlette.concurrency import run_in_threadpool

from simkyc.api.deps import (
    AgentDep,
    IdempotencyKey,
    NowDep,
    ServicesDep,
    SessionDep,
    StaffDep,
    read_upload,
)
from simkyc.api.locale import LocaleDep
from simkyc.api.schemas import (
    ChallengeOut,
    DocumentSource,
    FaceSubmitted,
    KeyOut,
    LivenessOut,
    ProofingCreate,
    ProofingPublic,
)
from simkyc.api.translated import localized
from simkyc.errors import MediaTooLarge
from simkyc.i18n import DEFAULT_LOCALE, catalogs
from simkyc.i18n.messages import liveness_reason, prompt
from simkyc.liveness.reasons import LivenessReason
from simkyc.proofing import service as proofing
from simkyc.proofing.flow import LivenessMedia
from simkyc.proofing.schemas import Consent, ProofingView
from simkyc.records.idempotent import once
from simkyc.registry import selfservice

router = APIRouter(prefix="/v1/proofing-sessions", tags=["proofing"])


def _prompts(out: ChallengeOut, locale: str) -> ChallengeOut:
    """The challenge's prompts in the applicant's language (the actions never change)."""
    said = [prompt(catalogs(), locale, action, text)
            for action, text in zip(out.actions, out.prompts, strict=True)]
    return out.model_copy(update={"prompts": said})


def _reasons(out: LivenessOut, locale: str) -> LivenessOut:
    """The liveness verdict's reasons in the reader's language, said from their catalog keys
    (which the reply keeps: the pages say them again after a change of language). A reply
    kept for a replay before the reasons were codes has English sentences and no keys: it is
    answered as it was."""
    if not out.reason_keys:
        return out
    return out.model_copy(update={"reasons": [_said(k, locale) for k in out.reason_keys]})


def _said(key: dict[str, object] | None, locale: str) -> str:
    """One kept reason key in `locale`; a key that is not a liveness reason (never written by
    the flow) is shown as its id rather than failing the reply."""
    reason = LivenessReason.from_key(key)
    if reason is None:
        return str((key or {}).get("id", ""))
    return liveness_reason(catalogs(), locale, reason)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_session(body: ProofingCreate, *, db: SessionDep, me: AgentDep, now: NowDep,
                   services: ServicesDep, locale: LocaleDep = DEFAULT_LOCALE,
                   key: IdempotencyKey = None) -> ProofingPublic:
    """Open a session for an applicant who consented; the typed document data is checked."""
    opened = services.flow().start(
        db, actor=me, purpose=body.purpose, typed=body.typed_document(),
        consent=Consent(body.consent.given, body.consent.version, now), now=now,
        line_id=body.line_id, device_id=body.device_id, key=key,
        request=body.model_dump(mode="json"))
    return localized(ProofingPublic.of(opened.view, opened.checks, reader=me.role), locale)


@router.get("/{proofing_id}")
def get_session(proofing_id: str, *, db: SessionDep, me: StaffDep) -> ProofingPublic:
    """A session's state and decision (staff of its operator, auditors, admins; an agent is
    not shown the face scores)."""
    return ProofingPublic.of(proofing.get_session(db, actor=me, proofing_id=proofing_id),
                             reader=me.role)


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
    data = await read_upload(image, services.settings.max_image_bytes)
    flow = services.flow()
    return await run_in_threadpool(lambda: flow.document(
        db, actor=me, proofing_id=proofing_id, image=data, now=now, key=key,
        card=source is DocumentSource.CARD))


@router.post("/{proofing_id}/selfie")
async def submit_selfie(proofing_id: str, image: Annotated[UploadFile, File()],
                        *, db: SessionDep, me: AgentDep, now: NowDep,
                        services: ServicesDep, key: IdempotencyKey = None) -> FaceSubmitted:
    """A frontal selfie (the liveness capture's reference; resubmitting replaces it)."""
    data = await read_upload(image, services.settings.max_image_bytes)
    flow = services.flow()
    return await run_in_threadpool(lambda: flow.selfie(
        db, actor=me, proofing_id=proofing_id, image=data, now=now, key=key))


@router.post("/{proofing_id}/liveness-challenges", status_code=status.HTTP_201_CREATED)
def request_challenge(proofing_id: str, *, db: SessionDep, me: AgentDep, now: NowDep,
                      services: ServicesDep,
                      device_id: Annotated[str | None, Form(max_length=128)] = None,
                      locale: LocaleDep = DEFAULT_LOCALE,
                      key: IdempotencyKey = None) -> ChallengeOut:
    """A random sequence of actions to perform on camera, answerable once before expiry.
    Issuing closes the session's previous challenge and counts as an attempt against the
    session, the person and the device (`device_id`, optional): too many in a while is
    LIVENESS_LOCKED (429, with Retry-After)."""
    return _prompts(services.flow().challenge(db, actor=me, proofing_id=proofing_id, now=now,
                                              device_id=device_id, key=key), locale)


@router.post("/{proofing_id}/liveness")
async def submit_liveness(
    proofing_id: str, nonce: Annotated[str, Form()], *, db: SessionDep, me: AgentDep,
    now: NowDep, services: ServicesDep, video: Annotated[UploadFile | None, File()] = None,
    stills: Annotated[list[UploadFile] | None, File()] = None,
    fps: Annotated[float, Form(gt=0, le=120)] = 10.0,
    device_id: Annotated[str | None, Form(max_length=128)] = None,
    locale: LocaleDep = DEFAULT_LOCALE, key: IdempotencyKey = None,
) -> LivenessOut:
    """The evidence answering the session's open challenge: a video, or a burst of stills
    taken at `fps`. A locked-out session, person or device is refused before any decoding."""
    limit = services.settings.liveness_max_bytes
    clip = await read_upload(video, limit, MediaTooLarge) if video is not None else None
    burst = [(await read_upload(s, limit, MediaTooLarge), i / fps)
             for i, s in enumerate(stills or [])]
    media = LivenessMedia(video=clip, stills=burst if clip is None else None)
    flow = services.flow()
    out = await run_in_threadpool(lambda: flow.liveness(
        db, actor=me, proofing_id=proofing_id, nonce=nonce, media=media, now=now, fps=fps,
        device_id=device_id, key=key))
    return _reasons(out, locale)


@router.post("/{proofing_id}/conclude")
def conclude(proofing_id: str, *, db: SessionDep, me: AgentDep, now: NowDep,
             services: ServicesDep, key: IdempotencyKey = None) -> ProofingPublic:
    """Decide from the document checks, the face match and the liveness verdict."""

    def act() -> ProofingView:
        view = services.flow().conclude(db, actor=me, proofing_id=proofing_id, now=now)
        services.metrics.decisions.labels(view.outcome.value).inc()
        return view

    return ProofingPublic.of(once(db, actor=me, key=key, operation="proofing.conclude",
                       request={"proofing_id": proofing_id}, kind=ProofingView, now=now,
                       act=act), reader=me.role)


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

