"""Finding 4: `POST /v1/faces/verify` was an open face-comparison oracle: no key, no rate
limit, no audit, and anonymous 49-Mpx PNGs slowed an agent's upload from 0.05 s to 3 s."""

from __future__ import annotations

import io
import threading
from contextlib import ExitStack
from typing import Any

import pytest
from api_world import Api, applicant
from PIL import Image
from sqlalchemy import select

from simkyc.privacy.models import AuditEntry


def files(document: bytes, selfie: bytes) -> dict[str, Any]:
    return {"document": ("d.jpg", document, "image/jpeg"),
            "selfie": ("s.jpg", selfie, "image/jpeg")}


def agent_of(api: Api) -> tuple[str, str]:
    """A fresh agent's key and principal id."""
    made = api.ok("POST", "/v1/admin/principals", api.admin, json={
        "role": "agent", "label": "verify", "operator_id": api.operator()})
    return str(made["token"]), str(made["principal_id"])


def test_verify_needs_an_agent_or_admin_key(api: Api) -> None:
    shots = files(api.shots.selfie, api.shots.selfie)
    anonymous = api.call("POST", "/v1/faces/verify", None, files=shots)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "INVALID_CREDENTIALS"
    auditor = api.ok("POST", "/v1/admin/principals", api.admin, json={
        "role": "auditor", "label": "a", "operator_id": None})["token"]
    refused = api.call("POST", "/v1/faces/verify", auditor, files=shots)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "PERMISSION_DENIED"


def test_verify_is_rate_limited_per_key(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api.services.settings, "faces_verify_max_calls", 3)
    token, _ = agent_of(api)
    junk = files(b"not an image", b"not an image")
    for _ in range(3):
        assert api.call("POST", "/v1/faces/verify", token, files=junk).status_code == 400
    limited = api.call("POST", "/v1/faces/verify", token, files=junk)
    assert limited.status_code == 429, limited.text
    assert limited.json()["error"]["code"] == "TOO_MANY_ATTEMPTS"
    assert int(limited.headers["Retry-After"]) > 0
    other, _ = agent_of(api)  # the limit is the key's, not everyone's
    assert api.call("POST", "/v1/faces/verify", other, files=junk).status_code == 400


def test_verify_is_audited(api: Api) -> None:
    token, principal = agent_of(api)
    done = api.call("POST", "/v1/faces/verify", token,
                    files=files(api.shots.selfie, api.shots.selfie))
    assert done.status_code == 200, done.text
    with api.services.sessions() as db:
        actions = db.execute(select(AuditEntry.action).where(
            AuditEntry.actor_id == principal)).scalars().all()
    assert actions == ["faces.compared"]


def test_verify_takes_no_huge_image(api: Api) -> None:
    token, _ = agent_of(api)
    out = io.BytesIO()
    Image.new("RGB", (2600, 2000), (120, 110, 100)).save(out, format="PNG")
    big = api.call("POST", "/v1/faces/verify", token,
                   files={"document": ("d.png", out.getvalue(), "image/png"),
                          "selfie": ("s.jpg", api.shots.selfie, "image/jpeg")})
    assert big.status_code == 413, big.text
    assert big.json()["error"]["code"] == "IMAGE_TOO_LARGE"
    assert "face verification" in big.json()["error"]["message"]


def test_verify_does_not_queue_behind_busy_engines(api: Api,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """While proofing holds every engine of the pool, a comparison answers 503 at once, not
    after."""
    monkeypatch.setattr(api.services.settings, "faces_verify_lock_wait_s", 0.2)
    token, _ = agent_of(api)
    held = ExitStack()
    for _ in range(api.services.engines.size):
        held.enter_context(api.services.engines.checkout())
    release = threading.Timer(3.0, held.close)
    release.start()
    busy = api.call("POST", "/v1/faces/verify", token,
                    files=files(api.shots.selfie, api.shots.selfie))
    answered_while_held = not release.finished.is_set()
    release.join()  # the engines are back before the next test
    assert busy.status_code == 503, busy.text
    assert busy.json()["error"]["code"] == "ENGINES_BUSY"
    assert int(busy.headers["Retry-After"]) > 0
    assert answered_while_held


def test_an_agent_gets_the_decision_but_not_the_score(api: Api) -> None:
    """With the score, an agent holding both images could edit a face call by call toward
    the document's portrait (hill-climbing); the decision is all an agent needs."""
    token, _ = agent_of(api)
    shots = files(api.shots.selfie, api.shots.selfie)
    agent = api.call("POST", "/v1/faces/verify", token, files=shots)
    assert agent.status_code == 200, agent.text
    admin = api.call("POST", "/v1/faces/verify", api.admin, files=shots)
    assert admin.status_code == 200, admin.text
    assert agent.json()["decision"] == admin.json()["decision"] == "match"
    assert agent.json()["score"] is None
    assert isinstance(admin.json()["score"], float) and admin.json()["score"] > 0.9
    assert agent.json()["threshold"] == admin.json()["threshold"]


def test_a_proofing_session_shows_an_agent_no_face_score(api: Api) -> None:
    """The same oracle through proofing: an agent runs the sessions, so a score on the
    concluded session (or on reading it again, or on an idempotent replay) would say how
    near an edited face came. The reviewer who decides the manual review sees it."""
    operator = api.operator()
    agent, reviewer = api.staff("agent", operator), api.staff("reviewer", operator)
    proofing_id = api.start(agent, applicant())
    api.faces(agent, proofing_id)
    path = f"/v1/proofing-sessions/{proofing_id}"
    concluded = api.call("POST", f"{path}/conclude", agent, headers={"Idempotency-Key": "c1"})
    replayed = api.call("POST", f"{path}/conclude", agent, headers={"Idempotency-Key": "c1"})
    for shown in (concluded.json(), replayed.json(), api.ok("GET", path, agent)):
        assert shown["outcome"] == "manual_review", shown
        assert shown["face_score"] is None and shown["holder_score"] is None
        assert shown["face_threshold"] is not None
    for role_key in (reviewer, api.admin):
        seen = api.ok("GET", path, role_key)
        assert seen["face_score"] > seen["face_threshold"]  # the same person's document
