"""Every error is a status, a stable code and a message: no traceback, no personal data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from api_world import Api, applicant

from simkyc.api.state import utc_now


@pytest.fixture
def agent(api: Api) -> str:
    return api.staff("agent", api.operator())


def _error(response: object, status: int, code: str) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["error"]["code"] == code and body["error"]["message"]
    assert "Traceback" not in response.text  # type: ignore[attr-defined]


def test_credentials_are_required(api: Api) -> None:
    missing = api.call("GET", "/v1/me/lines", None)
    _error(missing, 401, "INVALID_CREDENTIALS")
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    _error(api.call("GET", "/v1/me/lines", "sk_nope.nope"), 401, "INVALID_CREDENTIALS")
    _error(api.call("GET", "/v1/me/lines", api.admin), 403, "PERMISSION_DENIED")


def test_unknown_records_and_bad_bodies(api: Api, agent: str) -> None:
    _error(api.call("GET", "/v1/lines/nope", agent), 404, "NOT_FOUND")
    _error(api.call("POST", "/v1/lines", agent, json={"msisdn": "1"}), 422, "INVALID_REQUEST")
    _error(api.call("POST", "/v1/lines", agent, content=b"{", headers={
        "Content-Type": "application/json"}), 422, "INVALID_REQUEST")
    no_consent = {"applicant": applicant(), "consent": {"given": False, "version": "v1"}}
    _error(api.call("POST", "/v1/proofing-sessions", agent, json=no_consent), 422,
           "CONSENT_MISSING")


def test_evidence_steps_are_checked(api: Api, agent: str) -> None:
    proofing_id = api.start(agent, applicant())
    base = f"/v1/proofing-sessions/{proofing_id}"
    _error(api.call("POST", f"{base}/conclude", agent), 409, "EVIDENCE_MISSING")
    _error(api.call("POST", f"{base}/document", agent, files={"image": ("x.jpg", b"GIF89a")}),
           400, "INVALID_IMAGE")
    _error(api.call("POST", f"{base}/liveness", agent, data={"nonce": "never-issued"},
                    files={"video": ("v.avi", api.shots.video)}), 404, "CHALLENGE_UNKNOWN")
    settings = api.services.settings
    api.services.settings = settings.model_copy(update={"max_image_bytes": 1000})
    try:
        _error(api.call("POST", f"{base}/selfie", agent,
                        files={"image": ("s.jpg", api.shots.selfie)}), 413, "IMAGE_TOO_LARGE")
    finally:
        api.services.settings = settings


def test_a_challenge_is_answered_once(api: Api, agent: str) -> None:
    proofing_id = api.start(agent, applicant())
    base = f"/v1/proofing-sessions/{proofing_id}"
    api.faces(agent, proofing_id)
    nonce = api.ok("POST", f"{base}/liveness-challenges", agent)["nonce"]
    video = {"video": ("v.avi", api.shots.video)}
    api.ok("POST", f"{base}/liveness", agent, data={"nonce": nonce}, files=video)
    _error(api.call("POST", f"{base}/liveness", agent, data={"nonce": nonce}, files=video), 409,
           "CHALLENGE_ALREADY_USED")


def test_an_expired_approval_is_gone(api: Api) -> None:
    operator = api.operator()
    agent, reviewer = api.staff("agent", operator), api.staff("reviewer", operator)
    proofing_id = api.approved(agent, reviewer, applicant())
    api.services.clock = lambda: utc_now() + timedelta(hours=1)
    try:
        _error(api.line(agent, proofing_id), 410, "PROOFING_EXPIRED")
    finally:
        api.services.clock = utc_now


def test_no_personal_data_in_logs(api: Api, agent: str, caplog: pytest.LogCaptureFixture
                                  ) -> None:
    person = applicant()
    with caplog.at_level("DEBUG"):
        proofing_id = api.start(agent, person)
        api.faces(agent, proofing_id)
        api.call("POST", f"/v1/proofing-sessions/{proofing_id}/conclude", agent)
    assert person["number"] not in caplog.text and person["name"] not in caplog.text
