"""The authorization matrix: every registry and proofing endpoint x role x tenant. A caller
outside an endpoint's roles or tenant gets 401/403/404, never the data, and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from api_world import Api, applicant, msisdn
from registry_world import iccid

DENIED = {401, 403, 404}


@dataclass
class Tenants:
    """Operator A's resources, and callers of every role in A, in B and outside both."""

    callers: dict[str, str | None]
    line: dict[str, Any]
    person_id: str
    pending: str
    approved: str
    in_review: str
    self_service: str
    dispute: str
    secrets: tuple[str, ...]


@pytest.fixture(scope="module")
def tenants(api: Api) -> Tenants:
    a, b = api.operator(), api.operator()
    agent, reviewer = api.staff("agent", a), api.staff("reviewer", a)
    holder = applicant(date(1970, 2, 3))
    line = api.line(agent, api.approved(agent, reviewer, holder)).json()
    disputed = api.line(agent, api.approved(agent, reviewer, holder)).json()
    self_service = api.approved(agent, reviewer, holder, purpose="self_service")
    citizen = api.ok("POST", f"/v1/proofing-sessions/{self_service}/citizen-token",
                     agent)["token"]
    dispute = api.ok("POST", f"/v1/me/lines/{disputed['id']}/dispute", citizen)["id"]
    other = applicant()  # another holder: self-service needs lines and a template
    api.line(agent, api.approved(agent, reviewer, other))
    other_citizen_session = api.approved(agent, reviewer, other, purpose="self_service")
    stranger = api.ok("POST", f"/v1/proofing-sessions/{other_citizen_session}/citizen-token",
                      agent)["token"]
    pending = api.start(agent, holder)
    in_review = api.start(agent, holder)
    api.faces(agent, in_review)
    api.ok("POST", f"/v1/proofing-sessions/{in_review}/conclude", agent)
    person_id = api.ok("GET", f"/v1/proofing-sessions/{pending}", agent)["person_id"]
    callers: dict[str, str | None] = {
        "agent_a": agent, "agent_a2": api.staff("agent", a), "reviewer_a": reviewer,
        "agent_b": api.staff("agent", b), "reviewer_b": api.staff("reviewer", b),
        "auditor": api.staff("auditor"), "admin": api.admin, "citizen": citizen,
        "stranger": stranger, "anonymous": None, "forged": "sk_forged.not-a-key",
    }
    return Tenants(
        callers=callers, line=line, person_id=person_id, pending=pending,
        approved=api.approved(agent, reviewer, holder), in_review=in_review,
        self_service=api.approved(agent, reviewer, holder, purpose="self_service"),
        dispute=dispute,
        secrets=(line["id"], line["msisdn"], line["iccid"], disputed["id"], disputed["msisdn"],
                 person_id, pending, in_review, dispute),
    )


def _reads(t: Tenants) -> dict[str, tuple[str, set[str]]]:
    """GET path -> callers allowed to read it (everyone else must be refused)."""
    return {
        f"/v1/lines/{t.line['id']}": ("GET", {"agent_a", "agent_a2", "reviewer_a", "auditor",
                                              "admin"}),
        f"/v1/proofing-sessions/{t.pending}": ("GET", {"agent_a", "agent_a2", "reviewer_a",
                                                       "auditor", "admin"}),
        "/v1/reviews/proofing-sessions": ("GET", {"reviewer_a", "reviewer_b"}),
        "/v1/reviews/disputes": ("GET", {"agent_a", "agent_a2", "reviewer_a", "agent_b",
                                         "reviewer_b"}),
        "/v1/me/lines": ("GET", {"citizen", "stranger"}),
        "/v1/me/accesses": ("GET", {"citizen", "stranger"}),
        "/v1/audit/chain": ("GET", {"auditor", "admin"}),
        f"/v1/audit/persons/{t.person_id}/entries": ("GET", {"auditor", "admin"}),
    }


# Callers that may see operator A's data in a response (the rest must never see any of it).
INSIDERS = {"agent_a", "agent_a2", "reviewer_a", "auditor", "admin", "citizen"}


def _writes(t: Tenants) -> list[tuple[str, dict[str, Any], set[str]]]:
    """POST path, request, callers who may do it: only the refusals are tried here (the
    allowed calls are the flow tests); each refused call must leave everything as it was."""
    line, session = t.line["id"], f"/v1/proofing-sessions/{t.pending}"
    image = {"files": {"image": ("x.jpg", b"\xff\xd8 not looked at", "image/jpeg")}}
    body = {"applicant": applicant(), "consent": {"given": True, "version": "v1"}}
    return [
        ("/v1/proofing-sessions", {"json": body}, {"agent_a", "agent_a2", "agent_b"}),
        (f"{session}/document", image, {"agent_a"}),
        (f"{session}/selfie", image, {"agent_a"}),
        (f"{session}/liveness-challenges", {}, {"agent_a"}),
        (f"{session}/liveness", {"data": {"nonce": "n"}}, {"agent_a"}),
        (f"{session}/conclude", {}, {"agent_a"}),
        (f"/v1/proofing-sessions/{t.self_service}/citizen-token", {}, {"agent_a", "agent_a2"}),
        (f"/v1/reviews/proofing-sessions/{t.in_review}", {"json": {"approve": True}},
         {"reviewer_a"}),
        ("/v1/lines", {"json": {"proofing_id": t.approved, "msisdn": msisdn(),
                                "iccid": iccid()}}, {"agent_a", "agent_a2"}),
        (f"/v1/lines/{line}/swap-sim", {"json": {"proofing_id": t.approved,
                                                 "iccid": iccid()}}, {"agent_a", "agent_a2"}),
        (f"/v1/lines/{line}/cancel", {}, {"agent_a", "agent_a2"}),
        (f"/v1/lines/{line}/transfer", {}, set()),
        (f"/v1/me/lines/{line}/dispute", {}, {"citizen"}),
        (f"/v1/reviews/disputes/{t.dispute}/resolve", {"json": {"proofing_id": t.approved}},
         {"agent_a", "agent_a2"}),
        ("/v1/admin/operators", {"json": {"name": "X", "jurisdiction": "CN"}}, {"admin"}),
        ("/v1/admin/principals", {"json": {"role": "agent", "label": "x"}}, {"admin"}),
    ]


def test_no_unauthorized_read(api: Api, tenants: Tenants) -> None:
    violations = []
    for path, (method, allowed) in _reads(tenants).items():
        for name, token in tenants.callers.items():
            response = api.call(method, path, token)
            ok = response.status_code in ({200} if name in allowed else DENIED)
            # (a 404 may echo the id the caller sent; anything else of A's is a leak)
            leaked = name not in INSIDERS and any(
                s in response.text for s in tenants.secrets if s not in path)
            if not ok or leaked or "Traceback" in response.text:
                violations.append((method, path, name, response.status_code, leaked))
    assert violations == []


def test_no_unauthorized_write(api: Api, tenants: Tenants) -> None:
    violations = []
    for path, request, allowed in _writes(tenants):
        for name, token in tenants.callers.items():
            if name in allowed:
                continue
            response = api.call("POST", path, token, **request)
            if response.status_code not in DENIED | {409} or (
                    response.status_code == 409 and "transfer" not in path):
                violations.append((path, name, response.status_code, response.text[:120]))
    assert violations == []
    agent = tenants.callers["agent_a"]
    assert api.ok("GET", f"/v1/lines/{tenants.line['id']}", agent) == tenants.line
    assert api.ok("GET", f"/v1/proofing-sessions/{tenants.pending}", agent)["outcome"] == (
        "pending")
    approved = api.ok("GET", f"/v1/proofing-sessions/{tenants.approved}", agent)
    assert approved["consumed_at"] is None
    assert api.ok("GET", f"/v1/proofing-sessions/{tenants.in_review}", agent)["outcome"] == (
        "manual_review")
    reviewer = tenants.callers["reviewer_a"]
    assert [d["id"] for d in api.ok("GET", "/v1/reviews/disputes", reviewer)] == [
        tenants.dispute]
