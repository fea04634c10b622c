"""Finding 1: anyone who knew a person's ID number could open that person's self-service:
the person was found by the typed number alone, the typed name and birth date were never
compared, the face was compared only with the image the applicant uploaded as "document"
(`source=portrait` even skipped the card text check), and the dispute reply showed the
unmasked number. Self-service now proves the holder."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from api_world import Api, applicant

from simkyc.config import Settings
from simkyc.faces.detect import YuNetDetector
from simkyc.synth.specimen import DocumentKind, portrait_from_photo, random_specimen, render_card
from simkyc.synth.virtual_photo import Shot, photograph

CONSENT = {"given": True, "version": "consent-v1"}


def sign_in(api: Api, agent: str, person: dict[str, Any], **extra: Any) -> Any:
    return api.call("POST", "/v1/proofing-sessions", agent, json={
        "purpose": "self_service", "applicant": person, "consent": CONSENT, **extra})


def holder(api: Api) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    """An agent and reviewer of a fresh operator, and a person holding one line there."""
    operator = api.operator()
    agent, reviewer = api.staff("agent", operator), api.staff("reviewer", operator)
    person = applicant(date(1962, 8, 9), name="ZHAO Lan")
    line = api.line(agent, api.approved(agent, reviewer, person)).json()
    return agent, reviewer, person, line


def refused_alike(response: Any) -> str:
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "SELF_SERVICE_NOT_PROVEN"
    return str(error["message"])


def test_the_number_alone_does_not_open_someone_elses_self_service(api: Api) -> None:
    agent, _, victim, _ = holder(api)
    stranger = {**victim, "name": "MADE Up"}
    refused_alike(sign_in(api, agent, stranger))
    older = {**victim, "birth_date": "1962-08-10"}
    refused_alike(sign_in(api, agent, older))


def test_a_number_with_nothing_to_show_answers_like_a_wrong_name(api: Api) -> None:
    agent, _, victim, _ = holder(api)
    wrong_name = refused_alike(sign_in(api, agent, {**victim, "name": "MADE Up"}))
    unknown = refused_alike(sign_in(api, agent, applicant()))
    proofed_only = applicant()
    api.start(agent, proofed_only)  # a person row, but no line and no template
    no_template = refused_alike(sign_in(api, agent, proofed_only))
    assert wrong_name == unknown == no_template


def card_of(face: bytes) -> bytes:
    """A SPECIMEN card carrying this face, photographed (the stranger's own card)."""
    pixels = cv2.imdecode(np.frombuffer(face, np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
    detector = YuNetDetector(Settings().models_dir / "yunet" /
                             "face_detection_yunet_2023mar.onnx")
    box = detector.detect(np.ascontiguousarray(pixels))[0].box
    rng = np.random.default_rng(7)
    card = render_card(random_specimen(rng, DocumentKind.CN_RESIDENT_ID),
                       portrait_from_photo(np.ascontiguousarray(pixels), box))
    return photograph(card, rng, shot=Shot(turn_deg=5.0, tilt_deg=10.0, glare=False)).jpeg


def test_the_live_face_must_be_the_holders(api: Api, examples: Path) -> None:
    """Name and birth date leaked too: the stranger's own face still does not match the
    holder's enrolled template."""
    agent, _, victim, _ = holder(api)
    started = sign_in(api, agent, {**victim, "name": "zhao  LAN"})  # spelling is no bar
    assert started.status_code == 201, started.text
    proofing_id = started.json()["id"]
    face = (examples / "obama.jpg").read_bytes()
    api.ok("POST", f"/v1/proofing-sessions/{proofing_id}/document", agent,
           files={"image": ("card.jpg", card_of(face), "image/jpeg")})
    api.ok("POST", f"/v1/proofing-sessions/{proofing_id}/selfie", agent,
           files={"image": ("selfie.jpg", face, "image/jpeg")})
    decided = api.ok("POST", f"/v1/proofing-sessions/{proofing_id}/conclude", agent)
    assert decided["outcome"] == "rejected", decided
    assert "holder_no_match" in decided["reasons"]


def test_self_service_takes_no_cut_out_portrait(api: Api) -> None:
    agent, _, victim, _ = holder(api)
    proofing_id = sign_in(api, agent, victim).json()["id"]
    cut = api.call("POST", f"/v1/proofing-sessions/{proofing_id}/document", agent,
                   data={"source": "portrait"},
                   files={"image": ("p.jpg", api.shots.selfie, "image/jpeg")})
    assert cut.status_code == 403, cut.text
    assert cut.json()["error"]["code"] == "PERMISSION_DENIED"
    assert "source=card" in cut.json()["error"]["message"]


def test_sign_in_attempts_are_limited_per_person_in_the_database(api: Api) -> None:
    agent, _, victim, _ = holder(api)
    limit = api.services.settings.selfservice_max_attempts
    for _ in range(limit):
        refused_alike(sign_in(api, agent, {**victim, "name": "GUESS Ing"}))
    elsewhere = api.staff("agent", api.operator())  # another key, another shop
    locked = sign_in(api, elsewhere, victim)  # even with the right data now
    assert locked.status_code == 429, locked.text
    assert locked.json()["error"]["code"] == "TOO_MANY_ATTEMPTS"
    assert int(locked.headers["Retry-After"]) > 0


@pytest.mark.parametrize("device", ["phone-1"])
def test_sign_in_attempts_are_limited_per_device(api: Api, device: str) -> None:
    agent, _, _, _ = holder(api)
    limit = api.services.settings.selfservice_max_attempts
    for _ in range(limit):
        refused_alike(sign_in(api, agent, applicant(), device_id=f"{device}-{id(api)}"))
    locked = sign_in(api, agent, applicant(), device_id=f"{device}-{id(api)}")
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "TOO_MANY_ATTEMPTS"


def test_the_dispute_reply_masks_the_number(api: Api) -> None:
    agent, reviewer, person, line = holder(api)
    own = api.approved(agent, reviewer, person, purpose="self_service")
    token = api.ok("POST", f"/v1/proofing-sessions/{own}/citizen-token", agent)["token"]
    dispute = api.call("POST", f"/v1/me/lines/{line['id']}/dispute", token)
    assert dispute.status_code == 201, dispute.text
    assert line["msisdn"] not in dispute.text
    assert line["msisdn"][-8:] not in dispute.text
