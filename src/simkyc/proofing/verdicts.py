"""From held evidence to the checks a decision is made from: the document-vs-live face
comparison and the liveness verdict."""

from __future__ import annotations

from simkyc.errors import EvidenceMissing
from simkyc.faces.pipeline import FacePipeline, FaceSample, live_probe
from simkyc.privacy.templates import Template
from simkyc.proofing.held import Held
from simkyc.proofing.models import FaceCheck, LivenessCheck, LivenessVerdict

# Names the liveness engine in the evidence record; bump when the analyzer's checks change.
LIVENESS_VERSION = "liveness-v1"


def probes(held: Held) -> list[FaceSample]:
    """The live faces to compare with the document: the selfie and the liveness capture's
    best frames (both held sealed in the database; the pipeline fuses the best of them by
    quality into one probe)."""
    live = [held.selfie] if held.selfie is not None else []
    if held.liveness is not None:
        live += list(held.liveness.best)
    return live


def face_check(pipeline: FacePipeline, held: Held) -> tuple[FaceCheck, Template]:
    """Document portrait vs the live faces, and the probe template to enrol. Pure arithmetic
    on held embeddings: no detector, so no engine needs checking out."""
    live = probes(held)
    if held.document is None:
        raise EvidenceMissing("submit the document image before concluding.")
    if not live:
        raise EvidenceMissing("submit a selfie or liveness evidence before concluding.")
    result = pipeline.compare(held.document, live)
    check = FaceCheck(result.score, result.threshold, result.decision, result.model_id,
                      result.calibration_id)
    probe = live_probe(live, pipeline.probe_frames)  # the same fused probe, enrolled
    return check, Template(result.model_id, probe)


def liveness_check(held: Held) -> LivenessCheck:
    """The liveness verdict; no liveness evidence is inconclusive (manual review)."""
    verdict = (LivenessVerdict(held.liveness.verdict.value) if held.liveness is not None
               else LivenessVerdict.RETRY)
    return LivenessCheck(verdict, LIVENESS_VERSION)
