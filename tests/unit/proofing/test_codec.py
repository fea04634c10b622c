"""What a pending session holds survives the trip through the database's JSON unchanged."""

from __future__ import annotations

from datetime import date

import numpy as np

from simkyc.documents.crosscheck import Typed
from simkyc.errors import QualityFinding
from simkyc.faces.pipeline import FaceSample
from simkyc.faces.pose import HeadPose
from simkyc.faces.quality import QualityReport
from simkyc.liveness.analyzer import Verdict
from simkyc.proofing import codec
from simkyc.proofing.models import CheckKind, DocumentCheck
from simkyc.types import BBox, Face


def sample(seed: int) -> FaceSample:
    rng = np.random.default_rng(seed)
    embedding = rng.standard_normal(128).astype(np.float32)
    face = Face(BBox(1.5, 2.0, 30.25, 40.0), rng.random((5, 2)).astype(np.float32), 0.93)
    quality = QualityReport(31.2, 150.0, 120.0, 40.0, HeadPose(3.0, -2.0, 1.0), 0.93,
                            (QualityFinding("blur", 9.0, 15.0, "hold still"),))
    return FaceSample(face, quality, embedding / np.linalg.norm(embedding), {"embed": 4.2})


def test_a_face_sample_round_trips_exactly() -> None:
    original = sample(1)
    back = codec.sample_from_json(codec.load(codec.dump(codec.sample_to_json(original))))
    assert np.array_equal(back.embedding, original.embedding)
    assert back.embedding.dtype == np.float32
    assert np.array_equal(back.face.landmarks, original.face.landmarks)
    assert (back.face.box, back.face.score) == (original.face.box, original.face.score)
    assert back.quality == original.quality and back.timings_ms == original.timings_ms


def test_typed_data_checks_and_liveness_round_trip() -> None:
    typed = Typed("11010519491231002X", "WANG Fang", date(1949, 12, 31), None,
                  resident_id=True)
    assert codec.typed_from_json(codec.typed_to_json(typed)) == typed
    # A session held before the selected kind was kept reads as no PRC card selected.
    older = {k: v for k, v in codec.typed_to_json(typed).items() if k != "resident_id"}
    assert codec.typed_from_json(older).resident_id is False
    checks = [DocumentCheck("document_expiry", False, "DOCUMENT_EXPIRED",
                            message="expired on 2020-01-01"),
              DocumentCheck("card_text_name", None, "OCR_UNREADABLE", kind=CheckKind.CROSS_CHECK)]
    assert codec.checks_from_json(codec.checks_to_json(checks)) == checks
    verdict, best = codec.liveness_from_json(
        codec.liveness_to_json(Verdict.LIVE, [sample(2), sample(3)]))
    assert verdict is Verdict.LIVE and len(best) == 2
    assert np.array_equal(best[1].embedding, sample(3).embedding)
