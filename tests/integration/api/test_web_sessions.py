"""The web pages' server side on both backends: strict CSP, the key turned into an HttpOnly
SameSite=Strict cookie, CSRF on every state change, and a portal session that reaches only
its own proofing session. (The pages themselves run in Chromium: tests/e2e/web.)"""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

import pytest
from api_world import Api, applicant
from pydantic import SecretStr

CONSENT = {"given": True, "version": "consent-v1"}


def signed_in(api: Api, key: str) -> tuple[dict[str, str], str]:
    """Headers carrying the session cookie (sent by hand: it is Secure, the client is on
    http) and the CSRF token the sign-in returned."""
    response = api.client.post("/web/session", json={"key": key})
    assert response.status_code == 200, response.text
    assert key not in response.text
    cookie = SimpleCookie(response.headers["set-cookie"])["simkyc_session"]
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"].lower() == "strict"
    return {"Cookie": f"simkyc_session={cookie.value}"}, response.json()["csrf"]


def code(response: Any) -> str:
    return str(response.json()["error"]["code"])


def test_pages_carry_a_strict_content_security_policy(api: Api) -> None:
    page = api.client.get("/web/agent")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert page.headers["x-frame-options"] == "DENY"
    script = api.client.get("/web/static/agent.js")
    assert script.status_code == 200 and script.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in page.text and " style=" not in page.text  # nothing inline
    assert "content-security-policy" not in api.client.get("/health").headers
    head = api.client.head("/web/citizen")
    assert head.status_code == 200 and "content-security-policy" in head.headers


def test_state_changes_from_a_cookie_session_need_the_csrf_token(api: Api) -> None:
    agent = api.staff("agent", api.operator())
    cookie, csrf = signed_in(api, agent)
    body = {"applicant": applicant(), "consent": CONSENT}
    refused = api.client.post("/v1/proofing-sessions", json=body, headers=cookie)
    assert refused.status_code == 403 and code(refused) == "CSRF_TOKEN_INVALID"
    forged = api.client.post("/v1/proofing-sessions", json=body,
                             headers={**cookie, "X-CSRF-Token": "x" * 43})
    assert forged.status_code == 403 and code(forged) == "CSRF_TOKEN_INVALID"
    opened = api.client.post("/v1/proofing-sessions", json=body,
                             headers={**cookie, "X-CSRF-Token": csrf})
    assert opened.status_code == 201, opened.text
    read = api.client.get(f"/v1/proofing-sessions/{opened.json()['id']}", headers=cookie)
    assert read.status_code == 200  # reads need no token
    assert api.client.get("/web/session", headers=cookie).json()["csrf"] == csrf
    ended = api.client.post("/web/session/end", headers={**cookie, "X-CSRF-Token": csrf})
    assert ended.status_code == 204
    after = api.client.get(f"/v1/proofing-sessions/{opened.json()['id']}", headers=cookie)
    assert after.status_code == 401 and code(after) == "SESSION_ENDED"


@pytest.mark.parametrize("role", ["reviewer", "auditor"])
def test_only_agents_and_citizens_sign_in_to_the_pages(api: Api, role: str) -> None:
    key = api.staff(role, api.operator() if role == "reviewer" else None)
    refused = api.client.post("/web/session", json={"key": key})
    assert refused.status_code == 403 and code(refused) == "PERMISSION_DENIED"
    wrong = api.client.post("/web/session", json={"key": "sk_nope_nope"})
    assert wrong.status_code == 401 and code(wrong) == "INVALID_CREDENTIALS"
    agent = api.staff("agent", api.operator())
    elsewhere = api.client.post("/web/session", json={"key": agent},
                                headers={"Origin": "https://evil.example"})
    assert elsewhere.status_code == 403 and code(elsewhere) == "CSRF_TOKEN_INVALID"


def test_a_portal_session_reaches_only_its_own_proofing_session(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    closed = api.client.post("/web/portal/sessions",
                             json={"applicant": applicant(), "consent": CONSENT})
    assert closed.status_code == 403  # no portal key configured
    operator = api.operator()
    portal = api.staff("agent", operator)
    holder = applicant()  # self-service is for a holder (lines, an enrolled template)
    api.line(portal, api.approved(portal, api.staff("reviewer", operator), holder))
    monkeypatch.setattr(api.services.settings, "web_portal_key", SecretStr(portal))
    started = api.client.post("/web/portal/sessions",
                              json={"applicant": holder, "consent": CONSENT})
    assert started.status_code == 201, started.text
    out = started.json()
    assert portal not in started.text and out["kind"] == "portal"
    own = out["session"]["id"]
    assert out["session"]["purpose"] == "self_service" and out["proofing_id"] == own
    cookie = {"Cookie": f"simkyc_session={started.cookies['simkyc_session']}",
              "X-CSRF-Token": out["csrf"]}
    assert api.client.get(f"/v1/proofing-sessions/{own}", headers=cookie).status_code == 200
    other = api.start(portal, applicant())
    for method, path in (("GET", f"/v1/proofing-sessions/{other}"),
                         ("POST", f"/v1/proofing-sessions/{own}/citizen-token"),
                         ("GET", "/v1/me/lines"), ("POST", "/v1/lines/x/cancel")):
        response = api.client.request(method, path, headers=cookie)
        assert response.status_code == 403 and code(response) == "PERMISSION_DENIED", path
    pending = api.client.post("/web/portal/finish", headers=cookie)
    assert pending.status_code == 409 and code(pending) == "PROOFING_NOT_APPROVED"
