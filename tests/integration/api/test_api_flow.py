"""The worked flow through the API alone: proofing with real images and the real head-turn
video, a line, caps, a refused transfer, a citizen's self-service, idempotent retries."""

from __future__ import annotations

from datetime import date

from api_world import Api, applicant, msisdn
from registry_world import iccid


def test_the_worked_flow_is_approved_and_registers_a_line(api: Api) -> None:
    operator = api.operator()
    agent = api.staff("agent", operator)
    person = applicant(date(1949, 12, 31))
    proofing_id = api.start(agent, person)
    api.faces(agent, proofing_id)
    live = api.live(agent, proofing_id)
    assert live["verdict"] == "live", live
    decided = api.ok("POST", f"/v1/proofing-sessions/{proofing_id}/conclude", agent)
    assert (decided["outcome"], decided["reasons"]) == ("approved", []), decided
    assert decided["face_score"] is None  # an agent is not shown the score (hill-climbing)
    seen = api.ok("GET", f"/v1/proofing-sessions/{proofing_id}", api.admin)
    assert seen["face_score"] > seen["face_threshold"]
    assert decided["liveness_verdict"] == "live" and decided["evidence_sha256"]
    line = api.line(agent, proofing_id)
    assert line.status_code == 201, line.text
    assert line.json()["status"] == "active"
    fetched = api.ok("GET", f"/v1/lines/{line.json()['id']}", agent)
    assert fetched == line.json()
    again = api.ok("GET", f"/v1/proofing-sessions/{proofing_id}", agent)
    assert again["consumed_at"] is not None


def test_a_challenge_she_did_not_perform_is_not_live(api: Api) -> None:
    agent = api.staff("agent", api.operator())
    proofing_id = api.start(agent, applicant())
    api.faces(agent, proofing_id)
    book = api.services.book
    script = book.script  # type: ignore[attr-defined]
    book.script = tuple(reversed(script))  # type: ignore[attr-defined]
    try:
        live = api.live(agent, proofing_id)
    finally:
        book.script = script  # type: ignore[attr-defined]
    assert live["verdict"] != "live"
    decided = api.ok("POST", f"/v1/proofing-sessions/{proofing_id}/conclude", agent)
    assert decided["outcome"] in ("rejected", "manual_review")


def test_a_bad_id_number_is_refused_before_any_session(api: Api) -> None:
    """The person key comes from the validated document: an invalid number keys nobody."""
    agent = api.staff("agent", api.operator())
    person = {**applicant(), "number": "110105194912310021"}  # wrong check character
    refused = api.call("POST", "/v1/proofing-sessions", agent, json={
        "applicant": person, "consent": {"given": True, "version": "consent-v1"}})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "INVALID_DOCUMENT_NUMBER"


def test_the_document_policy_rejects_with_its_own_reasons(api: Api) -> None:
    """An expired card in CN; a minor in PH, where a guardian registers the line instead. The
    agent sees why at once, from the checks of the new session."""
    expired = applicant(expiry=date(2020, 1, 1))
    agent = api.staff("agent", api.operator("CN"))
    created = api.ok("POST", "/v1/proofing-sessions", agent, json={
        "applicant": expired, "consent": {"given": True, "version": "consent-v1"}})
    expiry = next(c for c in created["document_checks"] if c["name"] == "document_expiry")
    assert (expiry["passed"], expiry["code"]) == (False, "DOCUMENT_EXPIRED")
    assert "2020-01-01" in expiry["message"]
    api.faces(agent, created["id"])
    decided = api.ok("POST", f"/v1/proofing-sessions/{created['id']}/conclude", agent)
    assert decided["outcome"] == "rejected" and "document_expired" in decided["reasons"]

    agent = api.staff("agent", api.operator("PH"))
    proofing_id = api.start(agent, applicant(born=date(2015, 3, 1)))
    api.faces(agent, proofing_id)
    decided = api.ok("POST", f"/v1/proofing-sessions/{proofing_id}/conclude", agent)
    assert decided["outcome"] == "rejected" and "guardian_required" in decided["reasons"]


def test_the_line_cap_and_transfer_are_refused_with_stable_codes(api: Api) -> None:
    operator = api.operator()
    agent, reviewer = api.staff("agent", operator), api.staff("reviewer", operator)
    person = applicant(date(1980, 1, 2))
    cap = api.services.settings.jurisdiction_profiles["CN"].max_lines_per_operator
    assert cap is not None
    first = None
    for _ in range(cap):
        response = api.line(agent, api.approved(agent, reviewer, person))
        assert response.status_code == 201, response.text
        first = first or response.json()["id"]
    refused = api.line(agent, api.approved(agent, reviewer, person))
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "LINE_CAP_EXCEEDED"
    other = api.line(agent, api.approved(agent, reviewer, applicant(date(1981, 3, 4))))
    assert other.status_code == 201  # a second person is not capped by the first
    transfer = api.call("POST", f"/v1/lines/{first}/transfer", agent)
    assert transfer.status_code == 409
    assert transfer.json()["error"]["code"] == "TRANSFER_FORBIDDEN"


def test_a_retried_registration_returns_the_same_line(api: Api) -> None:
    operator = api.operator()
    agent, reviewer = api.staff("agent", operator), api.staff("reviewer", operator)
    proofing_id = api.approved(agent, reviewer, applicant())
    body = {"proofing_id": proofing_id, "msisdn": msisdn(), "iccid": iccid()}
    first, again = (api.call("POST", "/v1/lines", agent, json=body,
                             headers={"Idempotency-Key": "reg-1"}) for _ in range(2))
    assert first.status_code == 201 and again.status_code == 201, again.text
    assert again.json() == first.json()
    reused = api.line(agent, proofing_id, key="reg-1")  # same key, another request
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_a_retried_session_start_returns_the_same_session(api: Api) -> None:
    agent = api.staff("agent", api.operator())
    body = {"applicant": applicant(), "consent": {"given": True, "version": "consent-v1"}}
    first, again = (api.ok("POST", "/v1/proofing-sessions", agent, json=body,
                           headers={"Idempotency-Key": "start-1"}) for _ in range(2))
    assert first["id"] == again["id"]


def test_a_citizen_lists_and_disputes_her_lines(api: Api) -> None:
    operator = api.operator()
    agent, reviewer = api.staff("agent", operator), api.staff("reviewer", operator)
    person = applicant(date(1975, 6, 7))
    line = api.line(agent, api.approved(agent, reviewer, person)).json()
    selfservice = api.approved(agent, reviewer, person, purpose="self_service")
    token = api.ok("POST", f"/v1/proofing-sessions/{selfservice}/citizen-token", agent)["token"]
    mine = api.ok("GET", "/v1/me/lines", token)
    assert [x["id"] for x in mine] == [line["id"]]
    assert line["msisdn"] not in str(mine) and mine[0]["msisdn_masked"].endswith(
        line["msisdn"][-4:])
    dispute = api.call("POST", f"/v1/me/lines/{line['id']}/dispute", token)
    assert dispute.status_code == 201, dispute.text
    queue = api.ok("GET", "/v1/reviews/disputes", reviewer)
    assert [d["line_id"] for d in queue] == [line["id"]]
    accesses = api.ok("GET", "/v1/me/accesses", token)
    assert any(a["action"] == "line.registered" for a in accesses)
    assert api.call("GET", "/v1/me/lines", agent).status_code == 403


def test_auditors_verify_the_chain_and_export_a_person(api: Api) -> None:
    operator = api.operator()
    agent = api.staff("agent", operator)
    proofing_id = api.start(agent, applicant())
    person_id = api.ok("GET", f"/v1/proofing-sessions/{proofing_id}", agent)["person_id"]
    auditor = api.staff("auditor")
    assert api.ok("GET", "/v1/audit/chain", auditor)["ok"] is True
    entries = api.ok("GET", f"/v1/audit/persons/{person_id}/entries", auditor)
    assert [e["action"] for e in entries][:1] == ["proofing.started"]
    assert api.call("GET", "/v1/audit/chain", agent).status_code == 403


def test_metrics_count_requests_and_decisions(api: Api) -> None:
    api.client.get("/health")
    text = api.client.get("/metrics").text
    assert 'simkyc_http_requests_total{method="GET",route="/health",status="200"}' in text
    assert "simkyc_proofing_decisions_total" in text


def test_the_openapi_schema_lists_every_endpoint(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    assert {"/v1/proofing-sessions", "/v1/proofing-sessions/{proofing_id}/liveness",
            "/v1/lines", "/v1/lines/{line_id}/transfer", "/v1/me/lines",
            "/v1/reviews/disputes", "/v1/audit/chain", "/v1/admin/principals"} <= set(paths)
    assert api.client.get("/docs").status_code == 200


def test_a_sim_swap_needs_the_holder_and_a_cancel_is_idempotent(api: Api) -> None:
    operator = api.operator()
    agent, reviewer = api.staff("agent", operator), api.staff("reviewer", operator)
    person = applicant(date(1966, 8, 9))
    line = api.line(agent, api.approved(agent, reviewer, person)).json()
    swap_session = api.approved(agent, reviewer, person, purpose="sim_swap", line_id=line["id"])
    decided = api.ok("GET", f"/v1/proofing-sessions/{swap_session}", reviewer)
    assert decided["holder_score"] >= decided["holder_threshold"]
    new_sim = iccid()
    swapped = api.ok("POST", f"/v1/lines/{line['id']}/swap-sim", agent,
                     json={"proofing_id": swap_session, "iccid": new_sim})
    assert swapped["iccid"] == new_sim and swapped["msisdn"] == line["msisdn"]
    someone_else = api.call("POST", "/v1/proofing-sessions", agent, json={
        "purpose": "sim_swap", "line_id": line["id"], "applicant": applicant(),
        "consent": {"given": True, "version": "consent-v1"}})
    assert someone_else.status_code == 409
    assert someone_else.json()["error"]["code"] == "PROOFING_MISMATCH"
    key = {"Idempotency-Key": "cancel-1"}
    first, again = (api.ok("POST", f"/v1/lines/{line['id']}/cancel", agent, headers=key)
                    for _ in range(2))
    assert first == again and first["status"] == "cancelled"
