"""Helpers for the API tests: callers with keys, applicants with valid CN resident IDs, and
the steps of a proofing session through HTTP only."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import cv2
import httpx
import numpy as np
from fastapi.testclient import TestClient
from registry_world import iccid

from simkyc.api.state import Services
from simkyc.config import Settings
from simkyc.documents.cn_id import check_character
from simkyc.faces.detect import YuNetDetector
from simkyc.liveness.challenge import Action
from simkyc.liveness.media import MediaLimits, decode_video
from simkyc.synth.specimen import DocumentKind, portrait_from_photo, random_specimen, render_card
from simkyc.synth.virtual_photo import Shot, photograph
from simkyc.testing import ScriptedChallengeBook

# The head-turn video: she turns to her right, then to her left, then faces the camera.
PERFORMED = (Action.TURN_RIGHT, Action.TURN_LEFT)
_serial = itertools.count(1)


@dataclass
class ScriptedBook(ScriptedChallengeBook):
    """TEST-ONLY hook (simkyc.testing's, asking for what the head-turn video performs):
    installed by the tests on `app.state.services.book`; never in the app."""

    script: tuple[Action, ...] = PERFORMED


@dataclass(frozen=True)
class Shots:
    document: bytes
    selfie: bytes
    video: bytes


def _jpeg(pixels: np.ndarray) -> bytes:  # type: ignore[type-arg]
    ok, encoded = cv2.imencode(".jpg", pixels[..., ::-1])
    assert ok
    return bytes(encoded.tobytes())


def shots_of(video: bytes) -> Shots:
    """The document: a SPECIMEN card carrying the first frame's portrait, photographed
    virtually at an angle; a frontal selfie (last frame); the video."""
    frames = decode_video(video, MediaLimits())
    first = frames[0].pixels
    face = YuNetDetector(Settings().models_dir / "yunet" / "face_detection_yunet_2023mar.onnx")
    box = face.detect(first)[0].box
    rng = np.random.default_rng(5)
    card = render_card(random_specimen(rng, DocumentKind.CN_RESIDENT_ID),
                       portrait_from_photo(first, box))
    photo = photograph(card, rng, shot=Shot(turn_deg=8.0, tilt_deg=15.0, glare=False))
    return Shots(document=photo.jpeg, selfie=_jpeg(frames[-1].pixels), video=video)


def cn_id(born: date) -> str:
    """A valid 18-character resident ID (Beijing Chaoyang) with a fresh sequence number."""
    first_17 = f"110105{born:%Y%m%d}{next(_serial) % 1000:03d}"
    return first_17 + check_character(first_17)


def applicant(born: date = date(1949, 12, 31), name: str = "WANG Fang",
              expiry: date = date(2036, 1, 1)) -> dict[str, Any]:
    return {"number": cn_id(born), "name": name, "birth_date": born.isoformat(),
            "expiry": expiry.isoformat()}


def msisdn() -> str:
    return f"+86139{uuid.uuid4().int % 10**8:08d}"


@dataclass
class Api:
    client: TestClient
    services: Services
    admin: str
    shots: Shots
    keys: dict[str, str] = field(default_factory=dict)

    def call(self, method: str, path: str, token: str | None, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.request(method, path, headers=headers, **kwargs)

    def ok(self, method: str, path: str, token: str | None, **kwargs: Any) -> Any:
        response = self.call(method, path, token, **kwargs)
        assert response.status_code < 300, (path, response.status_code, response.text)
        return response.json()

    def operator(self, jurisdiction: str = "CN") -> str:
        name = f"Operator {uuid.uuid4().hex[:6]}"
        body = {"name": name, "jurisdiction": jurisdiction}
        return str(self.ok("POST", "/v1/admin/operators", self.admin, json=body)["id"])

    def staff(self, role: str, operator_id: str | None = None) -> str:
        body = {"role": role, "label": role, "operator_id": operator_id}
        return str(self.ok("POST", "/v1/admin/principals", self.admin, json=body)["token"])

    def start(self, agent: str, person: dict[str, Any], purpose: str = "registration",
              line_id: str | None = None) -> str:
        body = {"purpose": purpose, "line_id": line_id, "applicant": person,
                "consent": {"given": True, "version": "consent-v1"}}
        return str(self.ok("POST", "/v1/proofing-sessions", agent, json=body)["id"])

    def faces(self, agent: str, proofing_id: str) -> None:
        for kind, image in (("document", self.shots.document), ("selfie", self.shots.selfie)):
            self.ok("POST", f"/v1/proofing-sessions/{proofing_id}/{kind}", agent,
                    files={"image": (f"{kind}.jpg", image, "image/jpeg")})

    def live(self, agent: str, proofing_id: str) -> dict[str, Any]:
        base = f"/v1/proofing-sessions/{proofing_id}"
        challenge = self.ok("POST", f"{base}/liveness-challenges", agent)
        result: dict[str, Any] = self.ok(
            "POST", f"{base}/liveness", agent, data={"nonce": challenge["nonce"]},
            files={"video": ("headturn.avi", self.shots.video, "video/x-msvideo")})
        return result

    def approved(self, agent: str, reviewer: str, person: dict[str, Any],
                 purpose: str = "registration", line_id: str | None = None) -> str:
        """A session approved cheaply: document + selfie (no liveness: manual review), then
        approved by a reviewer."""
        proofing_id = self.start(agent, person, purpose, line_id)
        self.faces(agent, proofing_id)
        decided = self.ok("POST", f"/v1/proofing-sessions/{proofing_id}/conclude", agent)
        assert decided["outcome"] == "manual_review", decided
        self.ok("POST", f"/v1/reviews/proofing-sessions/{proofing_id}", reviewer,
                json={"approve": True})
        return proofing_id

    def line(self, agent: str, proofing_id: str, key: str | None = None,
             number: str | None = None) -> httpx.Response:
        body = {"proofing_id": proofing_id, "msisdn": number or msisdn(), "iccid": iccid()}
        headers = {"Idempotency-Key": key} if key else {}
        return self.call("POST", "/v1/lines", agent, json=body, headers=headers)
