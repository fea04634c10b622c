"""Every state-changing POST takes an Idempotency-Key: a retry with the same key and body gets
the first response and acts no second time (the audit chain, which every change extends,
does not grow); the same key with another body is IDEMPOTENCY_KEY_REUSED."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from api_world import Api, applicant, msisdn
from registry_world import iccid
from sqlalchemy import select

from simkyc.db.idempotency import IdempotencyRecord
from simkyc.privacy.audit import last_seq


def head(api: Api) -> int:
    with api.services.sessions() as db:
        return last_seq(db)


def in_clear(api: Api, secret: str) -> bool:
    """Whether a stored idempotent response holds this secret in clear."""
    with api.services.sessions() as db:
        return any(secret in r for r in db.execute(select(IdempotencyRecord.response)).scalars())


def twice(api: Api, path: str, token: str, *, status: int = 200,
          other: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """POST twice with one fresh key: same status and body, nothing audited the second time;
    then `other` (another body, or another `path`) with that key is refused."""
    headers = {"Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    first = api.call("POST", path, token, headers=headers, **kwargs)
    assert first.status_code == status, (path, first.text)
    before = head(api)
    again = api.call("POST", path, token, headers=headers, **kwargs)
    assert (again.status_code, again.json()) == (first.status_code, first.json()), path
    assert head(api) == before, f"{path}: the retry acted again"
    if other is not None:
        changed = {**kwargs, **other}
        reused = api.call("POST", changed.pop("path", path), token, headers=headers, **changed)
        assert reused.status_code == 422, (path, reused.text)
        assert reused.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED", path
    return first.json()


def image(kind: str, data: bytes) -> dict[str, Any]:
    return {"files": {"image": (f"{kind}.jpg", data, "image/jpeg")}}


def test_every_state_changing_post_replays_under_its_key(api: Api) -> None:
    name = f"Idem {uuid.uuid4().hex[:6]}"
    operator = twice(api, "/v1/admin/operators", api.admin, status=201,
                     json={"name": name, "jurisdiction": "CN"},
                     other={"json": {"name": f"{name}+", "jurisdiction": "CN"}})["id"]
    staff = {"role": "agent", "label": "idem agent", "operator_id": operator}
    token = twice(api, "/v1/admin/principals", api.admin, status=201, json=staff,
                  other={"json": {**staff, "label": "another"}})["token"]
    assert api.call("GET", f"/v1/lines/{uuid.uuid4().hex}", token).status_code == 404  # works
    reviewer = api.staff("reviewer", operator)
    person = applicant(date(1958, 2, 3))
    start = {"purpose": "registration", "applicant": person,
             "consent": {"given": True, "version": "consent-v1"}}
    session = twice(api, "/v1/proofing-sessions", token, status=201, json=start,
                    other={"json": {**start, "consent": {"given": True, "version": "v2"}}})["id"]
    base = f"/v1/proofing-sessions/{session}"
    for kind, data in (("document", api.shots.document), ("selfie", api.shots.selfie)):
        twice(api, f"{base}/{kind}", token, **image(kind, data),
              other=image(kind, api.shots.selfie + b"\0"))
    nonce = twice(api, f"{base}/liveness-challenges", token, status=201)["nonce"]
    clip = {"video": ("headturn.avi", api.shots.video, "video/x-msvideo")}
    twice(api, f"{base}/liveness", token, data={"nonce": nonce}, files=clip,
          other={"data": {"nonce": "another"}})
    decided = twice(api, f"{base}/conclude", token,
                    other={"path": f"/v1/proofing-sessions/{uuid.uuid4().hex}/conclude"})
    assert decided["outcome"] == "approved"  # the head-turn video passes the scripted book
    queued = api.start(token, person)
    api.faces(token, queued)
    assert api.ok("POST", f"/v1/proofing-sessions/{queued}/conclude", token)["outcome"] == (
        "manual_review")  # no liveness: to the reviewers
    twice(api, f"/v1/reviews/proofing-sessions/{queued}", reviewer, json={"approve": True},
          other={"json": {"approve": False}})
    numbers = {"proofing_id": session, "msisdn": msisdn(), "iccid": iccid()}
    line = twice(api, "/v1/lines", token, status=201, json=numbers,
                 other={"json": {**numbers, "msisdn": msisdn()}})
    item = {"proofing_id": queued, "msisdn": msisdn(),
            "iccid": iccid(), "idempotency_key": "bulk-1"}
    bulk = twice(api, "/v1/lines/batch", token, json={"items": [item]})
    assert bulk["registered"] == 1
    again = api.ok("POST", "/v1/lines/batch", token,
                   json={"items": [{**item, "msisdn": msisdn()}]})  # the item's own key
    assert again["results"][0]["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    own = api.approved(token, reviewer, person, purpose="self_service")
    citizen = twice(api, f"/v1/proofing-sessions/{own}/citizen-token", token, status=201)
    assert api.ok("GET", "/v1/me/lines", citizen["token"])  # the replayed token works
    assert not in_clear(api, token) and not in_clear(api, citizen["token"])  # sealed
    dispute = twice(api, f"/v1/me/lines/{line['id']}/dispute", citizen["token"], status=201,
                    other={"path": f"/v1/me/lines/{uuid.uuid4().hex}/dispute"})
    assert [d["id"] for d in api.ok("GET", "/v1/reviews/disputes", reviewer)] == [dispute["id"]]
    twice(api, f"/v1/lines/{line['id']}/cancel", token)


def test_a_bulk_registration_answers_each_item(api: Api) -> None:
    operator = api.operator()
    agent, reviewer = api.staff("agent", operator), api.staff("reviewer", operator)
    person = applicant(date(1961, 4, 5))
    good = api.approved(agent, reviewer, person)
    taken = msisdn()
    items = [{"proofing_id": good, "msisdn": taken, "iccid": iccid()},
             {"proofing_id": good, "msisdn": msisdn(), "iccid": iccid()},
             {"proofing_id": "nope", "msisdn": "12", "iccid": iccid()}]
    out = api.ok("POST", "/v1/lines/batch", agent, json={"items": items})
    assert (out["registered"], out["refused"]) == (1, 2)
    assert out["results"][0]["line"]["msisdn"] == taken
    assert [r["error"]["code"] for r in out["results"][1:]] == [
        "PROOFING_ALREADY_USED", "INVALID_MSISDN"]
    empty = api.call("POST", "/v1/lines/batch", agent, json={"items": []})
    assert empty.status_code == 422
    assert api.call("POST", "/v1/lines/batch", reviewer, json={"items": items}).status_code == 403
