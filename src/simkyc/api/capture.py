"""The engines behind the proofing endpoints: a face sample from an image, liveness evidence
judged against its challenge, and the document-vs-live face check for the decision.

The engines are CPU-bound and not thread-safe, so they run in the thread pool, one at a time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date

from starlette.concurrency import run_in_threadpool

from simkyc.api.evidence import HeldEvidence
from simkyc.api.state import Services
from simkyc.documents.crosscheck import TextCheck, Typed, check_text
from simkyc.errors import EvidenceMissing
from simkyc.faces.pipeline import FaceSample, live_probe
from simkyc.liveness.analyzer import LivenessResult
from simkyc.liveness.challenge import Challenge
from simkyc.proofing.models import FaceCheck, LivenessCheck, LivenessVerdict
from simkyc.registry.persons import Template

# Names the liveness engine in the evidence record; bump when the analyzer's checks change.
LIVENESS_VERSION = "liveness-v1"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def face_sample(services: Services, image: bytes) -> FaceSample:
    """The face of an image (quality enforced); the bytes are not kept."""

    def run() -> FaceSample:
        with services.pipeline_lock:
            return services.pipeline.encoder.sample(image)

    return await run_in_threadpool(run)


async def card_document(
    services: Services, image: bytes, typed: Typed | None, *, today: date
) -> tuple[FaceSample, TextCheck | None]:
    """The portrait on a photographed or scanned ID card: found, flattened, turned upright
    and sampled (quality enforced); when OCR is on and data was typed, the card's text
    compared with it. The bytes are not kept."""
    from simkyc.documents.portrait import extract_portrait_from_bytes

    def run() -> tuple[FaceSample, TextCheck | None]:
        with services.pipeline_lock:
            found = extract_portrait_from_bytes(image, services.pipeline.encoder)
        if services.reader is None or typed is None:
            return found.sample, None
        text = check_text(services.reader, found.card, typed, today=today,
                          sure_score=services.settings.ocr_sure_score)
        return found.sample, text

    return await run_in_threadpool(run)


async def judge_liveness(
    services: Services, held: HeldEvidence, *, proofing_id: str, nonce: str,
    device_id: str | None, video: bytes | None, stills: Sequence[tuple[bytes, float]] | None,
    now: float,
) -> LivenessResult:
    """Decode the evidence and judge it against the challenge (redeemed once)."""
    selfie = held.selfie.embedding if held.selfie is not None else None

    def run() -> LivenessResult:
        with services.pipeline_lock:
            frames = services.liveness.decode(video=video, stills=stills)
            return services.liveness.answer(
                nonce=nonce, session_id=proofing_id, device_id=device_id, frames=frames,
                now=now, selfie=selfie)

    return await run_in_threadpool(run)


async def issue_challenge(services: Services, *, proofing_id: str, now: float) -> Challenge:
    return services.liveness.issue(session_id=proofing_id, now=now)


def probes(held: HeldEvidence) -> list[FaceSample]:
    """The live faces to compare with the document: the selfie and the liveness capture's
    best frames (the pipeline fuses the best of them by quality into one probe)."""
    live = [held.selfie] if held.selfie is not None else []
    if held.liveness is not None:
        live += list(held.liveness.best)
    return live


def face_check(services: Services, held: HeldEvidence) -> tuple[FaceCheck, Template]:
    """Document portrait vs the live faces, and the probe template to enrol."""
    live = probes(held)
    if held.document is None:
        raise EvidenceMissing("submit the document image before concluding.")
    if not live:
        raise EvidenceMissing("submit a selfie or liveness evidence before concluding.")
    with services.pipeline_lock:
        result = services.pipeline.compare(held.document, live)
    check = FaceCheck(result.score, result.threshold, result.decision, result.model_id,
                      result.calibration_id)
    probe = live_probe(live, services.pipeline.probe_frames)
    return check, Template(result.model_id, probe)


def liveness_check(held: HeldEvidence) -> LivenessCheck:
    """The liveness verdict; no liveness evidence is inconclusive (manual review)."""
    verdict = (LivenessVerdict(held.liveness.verdict.value) if held.liveness is not None
               else LivenessVerdict.RETRY)
    return LivenessCheck(verdict, LIVENESS_VERSION)
