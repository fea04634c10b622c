"""The live probe at conclusion is built from what the database holds: the selfie and the
liveness capture's best frames, both sealed face samples (never process memory); the
template enrolled is that same fused probe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from simkyc.documents.crosscheck import Typed
from simkyc.faces.match import Decision
from simkyc.faces.pipeline import FaceSample, live_probe
from simkyc.faces.pose import HeadPose
from simkyc.faces.quality import QualityReport
from simkyc.liveness.analyzer import Verdict
from simkyc.proofing import codec
from simkyc.proofing.held import Held, HeldLiveness
from simkyc.proofing.verdicts import face_check, probes
from simkyc.types import BBox, Face


def sample(seed: int) -> FaceSample:
    rng = np.random.default_rng(seed)
    embedding = rng.standard_normal(128).astype(np.float32)
    face = Face(BBox(1.0, 2.0, 30.0, 40.0), rng.random((5, 2)).astype(np.float32), 0.9)
    quality = QualityReport(30.0 + seed, 150.0, 120.0, 40.0, HeadPose(3.0, -2.0, 1.0), 0.9,
                            ())
    return FaceSample(face, quality, embedding / np.linalg.norm(embedding), {})


@dataclass(frozen=True)
class _Result:
    score: float
    threshold: float
    decision: Decision
    model_id: str
    calibration_id: str


@dataclass
class _Pipeline:
    """Records the live samples it was asked to compare (the probe's arithmetic is
    live_probe's, tested in tests/unit/faces/test_live_probe.py)."""

    probe_frames: int = 3
    seen: tuple[FaceSample, ...] = ()

    def compare(self, document: FaceSample, live: list[FaceSample]) -> _Result:
        self.seen = tuple(live)
        return _Result(0.9, 0.5, Decision.MATCH, "model", "calibration")


def _held(*, selfie: bool, liveness: bool) -> Held:
    def through_db(s: FaceSample) -> FaceSample:
        return codec.sample_from_json(codec.load(codec.dump(codec.sample_to_json(s))))

    held_liveness = None
    if liveness:
        verdict, best = codec.liveness_from_json(codec.load(codec.dump(
            codec.liveness_to_json(Verdict.LIVE, [sample(11), sample(12), sample(13)]))))
        held_liveness = HeldLiveness(verdict, best)
    return Held(typed=Typed("X1", "A B", date(1990, 1, 1), None), checks=(), text_checks=(),
                document=through_db(sample(1)),
                selfie=through_db(sample(2)) if selfie else None,
                liveness=held_liveness, images={})


def test_the_probes_are_the_selfie_and_the_held_liveness_frames() -> None:
    held = _held(selfie=True, liveness=True)
    live = probes(held)
    assert len(live) == 4
    assert np.array_equal(live[0].embedding, sample(2).embedding)
    assert [np.array_equal(s.embedding, sample(n).embedding)
            for s, n in zip(live[1:], (11, 12, 13), strict=True)] == [True] * 3
    assert len(probes(_held(selfie=False, liveness=True))) == 3
    assert len(probes(_held(selfie=True, liveness=False))) == 1


def test_the_enrolled_template_is_the_fused_live_probe() -> None:
    held = _held(selfie=True, liveness=True)
    pipeline = _Pipeline()
    check, template = face_check(pipeline, held)  # type: ignore[arg-type]
    assert len(pipeline.seen) == 4
    expected = live_probe(probes(held), 3)
    assert np.allclose(template.embedding, expected)
    assert not np.allclose(template.embedding, held.selfie.embedding)  # type: ignore[union-attr]
    assert check.decision is Decision.MATCH
