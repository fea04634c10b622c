"""JSON forms of what a pending proofing session holds between its steps: the typed data,
the document checks, face samples and the liveness result. Only what a later step needs:
embeddings, boxes, landmarks and quality figures, never pixels."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np

from simkyc.documents.crosscheck import Typed
from simkyc.errors import QualityFinding
from simkyc.faces.pipeline import FaceSample
from simkyc.faces.pose import HeadPose
from simkyc.faces.quality import QualityReport
from simkyc.liveness.analyzer import Verdict
from simkyc.proofing.models import CheckKind, DocumentCheck
from simkyc.types import BBox, Face


def dump(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8")


def load(data: bytes) -> Any:
    return json.loads(data.decode("utf-8"))


def typed_to_json(typed: Typed) -> dict[str, Any]:
    return {"number": typed.number, "name": typed.name,
            "birth_date": _iso(typed.birth_date), "expiry_date": _iso(typed.expiry_date),
            "resident_id": typed.resident_id}


def typed_from_json(data: dict[str, Any]) -> Typed:
    return Typed(data["number"], data["name"], _date(data["birth_date"]),
                 _date(data["expiry_date"]), bool(data.get("resident_id", False)))


def checks_to_json(checks: Sequence[DocumentCheck]) -> list[dict[str, Any]]:
    return [{"name": c.name, "passed": c.passed, "code": c.code, "message": c.message,
             "kind": c.kind.value} for c in checks]


def checks_from_json(data: list[dict[str, Any]]) -> list[DocumentCheck]:
    return [DocumentCheck(c["name"], c["passed"], c["code"], message=c["message"],
                          kind=CheckKind(c["kind"])) for c in data]


def sample_to_json(sample: FaceSample) -> dict[str, Any]:
    face, quality = sample.face, sample.quality
    return {
        "box": [face.box.x, face.box.y, face.box.width, face.box.height],
        "landmarks": np.asarray(face.landmarks, dtype=np.float32).tolist(),
        "score": face.score,
        "quality": {
            "eye_distance": quality.eye_distance, "sharpness": quality.sharpness,
            "brightness": quality.brightness, "contrast": quality.contrast,
            "pose": [quality.pose.yaw, quality.pose.pitch, quality.pose.roll],
            "detector_score": quality.detector_score,
            "findings": [[f.check, f.value, f.limit, f.advice] for f in quality.findings]},
        "embedding": base64.b64encode(
            np.asarray(sample.embedding, dtype="<f4").tobytes()).decode("ascii"),
        "timings_ms": sample.timings_ms,
    }


def sample_from_json(data: dict[str, Any]) -> FaceSample:
    q = data["quality"]
    quality = QualityReport(
        q["eye_distance"], q["sharpness"], q["brightness"], q["contrast"],
        HeadPose(*q["pose"]), q["detector_score"],
        tuple(QualityFinding(*f) for f in q["findings"]))
    face = Face(BBox(*data["box"]), np.asarray(data["landmarks"], dtype=np.float32),
                data["score"])
    embedding = np.frombuffer(base64.b64decode(data["embedding"]), dtype="<f4").astype(
        np.float32)
    return FaceSample(face, quality, embedding, dict(data["timings_ms"]))


def liveness_to_json(verdict: Verdict, best: Sequence[FaceSample]) -> dict[str, Any]:
    return {"verdict": verdict.value, "best": [sample_to_json(s) for s in best]}


def liveness_from_json(data: dict[str, Any]) -> tuple[Verdict, tuple[FaceSample, ...]]:
    return Verdict(data["verdict"]), tuple(sample_from_json(s) for s in data["best"])


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)
