"""`POST /v1/faces/verify`: a 1:1 comparison of two images, for agents and admins only.

It was an open face-comparison oracle: no key, no limit, no audit, and 49-Mpx images from
anonymous clients held the engines proofing needs. Now the caller is an agent or admin, each
key has a rate limit counted in the database, every call is audited (no image is kept), the
images get a tighter pixel cap than proofing uploads, and the engines are taken one image at
a time with a short wait, so proofing traffic is never queued behind a long comparison. An
agent is not told the score (`verification_reply`).
"""

from __future__ import annotations

import io
import warnings
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, UploadFile
from PIL import Image as PILImage
from PIL import UnidentifiedImageError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from simkyc.api.deps import NowDep, ServicesDep, SessionDep, read_upload, role
from simkyc.api.locale import request_locale
from simkyc.api.state import Services
from simkyc.auth.actors import Actor
from simkyc.auth.models import Role
from simkyc.db.attempts import Limit, count_attempt
from simkyc.errors import ImageTooLarge, InvalidImage
from simkyc.faces.pipeline import FaceSample, VerificationResult
from simkyc.i18n import catalogs
from simkyc.i18n.messages import localized_face_reasons, localized_quality
from simkyc.privacy import audit
from simkyc.privacy.audit import AccessPurpose, AuditAction

router = APIRouter(prefix="/v1/faces", tags=["faces"])
VerifierDep = Annotated[Actor, Depends(role(Role.AGENT, Role.ADMIN))]


@router.post("/verify")
async def verify_faces(request: Request, document: UploadFile, selfie: UploadFile, *,
                       db: SessionDep,
                       me: VerifierDep, now: NowDep, services: ServicesDep
                       ) -> dict[str, object]:
    """1:1 verification of a selfie against a document portrait (multipart: document,
    selfie); agents and admins, rate-limited per key, audited (the images are not kept)."""
    settings = services.settings
    limit = Limit(settings.faces_verify_max_calls, settings.faces_verify_window_s)
    await run_in_threadpool(_count_call, db, me, limit, now)
    pixels = settings.faces_verify_max_pixels
    images = [await read_upload(u, settings.max_image_bytes) for u in (document, selfie)]
    for data in images:
        _check_pixels(data, pixels)

    def run() -> VerificationResult:
        doc, live = (_sample(services, data) for data in images)
        return services.pipeline.compare(doc, [live])

    result = await run_in_threadpool(run)
    await run_in_threadpool(_audit, db, me, now, result.decision.value)
    return verification_reply(result, request_locale(request),
                              with_score=me.role is Role.ADMIN)


def verification_reply(result: VerificationResult, locale: str, *, with_score: bool
                       ) -> dict[str, object]:
    """The reply in the reader's language; the score only `with_score` (administrators).

    An agent holds both images and may call again 60 times a minute: with the score, each
    call says whether an edit moved a face toward the document's portrait, and an edited
    or synthesised face can be climbed past the accept threshold (a hill-climbing attack).
    The decision, the thresholds (public in /health) and the quality reports are what an
    agent needs; `score` is null and a review reason names the thresholds only.
    """
    reasons = result.reasons if with_score else tuple(r.without("score") for r in result.reasons)
    reply = result.to_dict()
    if not with_score:
        reply["score"] = None
    reply = localized_quality(catalogs(), locale, reply)
    return localized_face_reasons(catalogs(), locale, reply, reasons)


def _count_call(db: Session, me: Actor, limit: Limit, now: datetime) -> None:
    """One call counted against the caller's key (committed, refused or not)."""
    try:
        count_attempt(db, buckets=[f"faces_verify:principal:{me.principal_id}"], limit=limit,
                      now=now, what="face comparisons with this key")
    finally:
        db.commit()


def _audit(db: Session, me: Actor, now: datetime, decision: str) -> None:
    """The comparison is audited: who, when, the decision; no image, no score."""
    purpose = (AccessPurpose.OVERSIGHT if me.role is Role.ADMIN
               else AccessPurpose.CUSTOMER_SERVICE)
    audit.append(db, actor=me, action=AuditAction.FACES_COMPARED, purpose=purpose,
                 subject_id=None, object_id=None, now=now, detail={"decision": decision})
    db.commit()


def _check_pixels(data: bytes, limit: int) -> None:
    """Refuse an image over this endpoint's pixel cap from its header, before decoding."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            width, height = PILImage.open(io.BytesIO(data)).size
    except PILImage.DecompressionBombError:
        width, height = limit + 1, 1
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InvalidImage("The file is not an image we can read (JPEG, PNG, WebP, BMP).") \
            from exc
    if width * height > limit:
        raise ImageTooLarge(f"The image is {width}x{height} pixels; face verification takes "
                            f"at most {limit:,} pixels: send a smaller image.")


def _sample(services: Services, data: bytes) -> FaceSample:
    """One image through an engine checked out of the pool, waiting only briefly for one
    (proofing goes first): ENGINES_BUSY after SIMKYC_FACES_VERIFY_LOCK_WAIT_S."""
    with services.engines.checkout(timeout_s=services.settings.faces_verify_lock_wait_s) as e:
        return e.pipeline.encoder.sample(data)
