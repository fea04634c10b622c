"""Nothing between two steps of a proofing session lives in one process: two independent apps
(two Services, two engine pools) on the same database - a SQLite file, and PostgreSQL - take
the steps of one session in turn and give the outcome one app gives, the expired document
included; an app restarted mid-session completes it; an expired session says so."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parents[1] / "registry"))  # the scratch databases

from api_world import Api, ScriptedBook, Shots, applicant
from registry_world import BACKENDS, scratch_database
from sqlalchemy import func, select

from simkyc import maintenance
from simkyc.api.app import create_app
from simkyc.api.state import Services, utc_now
from simkyc.auth.actors import SYSTEM
from simkyc.auth.models import Role
from simkyc.config import Settings
from simkyc.liveness.store import LivenessChallenge
from simkyc.proofing.held import ProofingState
from simkyc.proofing.models import ProofingSession
from simkyc.records import idempotent
from simkyc.registry import accounts


def make_api(settings: Settings, shots: Shots, stack: ExitStack, admin: str = "") -> Api:
    """One more app on the cluster's database (its own Services and engines)."""
    app = create_app(settings)
    client = stack.enter_context(TestClient(app, raise_server_exceptions=False))
    services: Services = app.state.services
    services.book = ScriptedBook(ttl_s=settings.challenge_ttl_s)  # test hook
    return Api(client=client, services=services, admin=admin, shots=shots)


@dataclass
class Cluster:
    settings: Settings
    a: Api
    b: Api


@pytest.fixture(scope="module", params=BACKENDS)
def cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            shots: Shots) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("cluster")
    with scratch_database(request.param, folder) as url, ExitStack() as stack:
        settings = Settings(population="lfw", state_dir=folder,
                            database_url=url, document_ocr=False, engine_pool=1)
        a, b = make_api(settings, shots, stack), make_api(settings, shots, stack)
        with a.services.sessions() as db:
            admin = accounts.create_principal(db, role=Role.ADMIN, label="root",
                                              now=utc_now())
            a.admin = b.admin = accounts.issue_api_key(db, principal_id=admin.id,
                                                       now=utc_now()).token
        yield Cluster(settings, a, b)


def step(api: Api, agent: str, proofing_id: str, name: str, **kwargs: Any) -> Any:
    return api.ok("POST", f"/v1/proofing-sessions/{proofing_id}/{name}", agent, **kwargs)


def image(api: Api, kind: str) -> dict[str, Any]:
    data = api.shots.document if kind == "document" else api.shots.selfie
    return {"files": {"image": (f"{kind}.jpg", data, "image/jpeg")}}


def alternating(c: Cluster, person: dict[str, Any], *, live: bool = True) -> dict[str, Any]:
    """Every step on the other app than the one before."""
    agent = c.a.staff("agent", c.a.operator())
    proofing_id = c.a.start(agent, person)
    step(c.b, agent, proofing_id, "document", **image(c.b, "document"))
    step(c.a, agent, proofing_id, "selfie", **image(c.a, "selfie"))
    if live:
        nonce = step(c.b, agent, proofing_id, "liveness-challenges")["nonce"]
        clip = {"video": ("headturn.avi", c.a.shots.video, "video/x-msvideo")}
        assert step(c.a, agent, proofing_id, "liveness", data={"nonce": nonce},
                    files=clip)["verdict"] == "live"
    return dict(step(c.b, agent, proofing_id, "conclude"))


def admin_view(c: Cluster, proofing_id: str) -> dict[str, Any]:
    """The session as an admin sees it (with its face scores, which an agent is not shown)."""
    return dict(c.b.ok("GET", f"/v1/proofing-sessions/{proofing_id}", c.b.admin))


def one_app(api: Api, person: dict[str, Any]) -> dict[str, Any]:
    agent = api.staff("agent", api.operator())
    proofing_id = api.start(agent, person)
    api.faces(agent, proofing_id)
    api.live(agent, proofing_id)
    return dict(step(api, agent, proofing_id, "conclude"))


def outcome(decided: dict[str, Any]) -> tuple[str, list[str]]:
    return decided["outcome"], decided["reasons"]


def test_alternating_apps_decide_as_one_app(cluster: Cluster) -> None:
    both = alternating(cluster, applicant())
    assert outcome(both) == outcome(one_app(cluster.a, applicant())) == ("approved", [])
    seen = admin_view(cluster, both["id"])
    assert both["liveness_verdict"] == "live" and seen["face_score"] > seen["face_threshold"]


def test_an_expired_document_is_rejected_across_apps(cluster: Cluster) -> None:
    expired = applicant(expiry=date(2020, 1, 1))
    decided = alternating(cluster, expired, live=False)
    assert decided["outcome"] == "rejected", decided
    assert "document_expired" in decided["reasons"]
    assert "document_unchecked" not in decided["reasons"]


def test_a_restarted_app_completes_the_session(cluster: Cluster) -> None:
    with ExitStack() as stack:
        first = make_api(cluster.settings, cluster.a.shots, stack, cluster.a.admin)
        agent = first.staff("agent", first.operator())
        proofing_id = first.start(agent, applicant(expiry=date(2020, 1, 1)))
        first.faces(agent, proofing_id)
        nonce = step(first, agent, proofing_id, "liveness-challenges")["nonce"]
    with ExitStack() as stack:  # the first app is gone; a new one takes over
        second = make_api(cluster.settings, cluster.a.shots, stack, cluster.a.admin)
        clip = {"video": ("headturn.avi", second.shots.video, "video/x-msvideo")}
        assert step(second, agent, proofing_id, "liveness", data={"nonce": nonce},
                    files=clip)["verdict"] == "live"
        decided = step(second, agent, proofing_id, "conclude")
    assert outcome(decided) == ("rejected", ["document_expired"])


def test_a_retried_upload_replays_on_the_other_app(cluster: Cluster) -> None:
    agent = cluster.a.staff("agent", cluster.a.operator())
    proofing_id = cluster.a.start(agent, applicant())
    key = {"Idempotency-Key": "selfie-1"}
    first = step(cluster.a, agent, proofing_id, "selfie", headers=key, **image(cluster.a, "s"))
    again = step(cluster.b, agent, proofing_id, "selfie", headers=key, **image(cluster.b, "s"))
    assert again == first
    other = cluster.b.call("POST", f"/v1/proofing-sessions/{proofing_id}/selfie", agent,
                           headers=key, **image(cluster.b, "document"))
    assert other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_two_apps_answering_one_challenge_at_once_redeem_it_once(cluster: Cluster) -> None:
    agent = cluster.a.staff("agent", cluster.a.operator())
    proofing_id = cluster.a.start(agent, applicant())
    nonce = step(cluster.a, agent, proofing_id, "liveness-challenges")["nonce"]
    clip = {"video": ("headturn.avi", cluster.a.shots.video, "video/x-msvideo")}
    path = f"/v1/proofing-sessions/{proofing_id}/liveness"
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda api: api.call("POST", path, agent, files=clip,
                                                     data={"nonce": nonce}),
                                (cluster.a, cluster.b)))
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    refused = next(a for a in answers if a.status_code == 409)
    assert refused.json()["error"]["code"] == "CHALLENGE_ALREADY_USED"


def test_a_start_killed_before_its_reply_was_kept_opens_one_session(
        cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    """A keyed start is one transaction: the session, its held data and the kept reply. A
    process killed before the reply is stored leaves nothing, so the retry opens the one
    session (it used to find the first session committed and open a second)."""
    agent = cluster.a.staff("agent", cluster.a.operator())
    body = {"purpose": "registration", "applicant": applicant(),
            "consent": {"given": True, "version": "consent-v1"}}
    key = {"Idempotency-Key": "start-1"}

    def killed(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed before the reply was stored")

    def counts() -> tuple[int, int]:
        with cluster.a.services.sessions() as db:
            return (db.scalar(select(func.count()).select_from(ProofingSession)) or 0,
                    db.scalar(select(func.count()).select_from(ProofingState)) or 0)

    before = counts()
    with monkeypatch.context() as patch:
        patch.setattr(idempotent, "remember", killed)
        crashed = cluster.a.call("POST", "/v1/proofing-sessions", agent, json=body,
                                 headers=key)
        assert crashed.status_code == 500, crashed.text
    assert counts() == before
    first = cluster.b.ok("POST", "/v1/proofing-sessions", agent, json=body, headers=key)
    again = cluster.a.ok("POST", "/v1/proofing-sessions", agent, json=body, headers=key)
    assert again["id"] == first["id"]
    assert counts() == (before[0] + 1, before[1] + 1)


def test_two_apps_starting_with_one_key_at_once_open_one_session(cluster: Cluster) -> None:
    """A twin that stored the key first wins: the other rolls back and replays its reply."""
    agent = cluster.a.staff("agent", cluster.a.operator())
    body = {"purpose": "registration", "applicant": applicant(),
            "consent": {"given": True, "version": "consent-v1"}}
    key = {"Idempotency-Key": "start-twins"}
    with cluster.a.services.sessions() as db:
        before = db.scalar(select(func.count()).select_from(ProofingSession))
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda api: api.call("POST", "/v1/proofing-sessions", agent,
                                                     json=body, headers=key),
                                (cluster.a, cluster.b)))
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    with cluster.a.services.sessions() as db:
        assert db.scalar(select(func.count()).select_from(ProofingSession)) == (before or 0) + 1


def expired_error(response: httpx.Response) -> None:
    assert response.status_code == 410, response.text
    assert response.json()["error"]["code"] == "PROOFING_EXPIRED"


def test_an_idle_session_expires_with_its_own_code_and_is_purged(cluster: Cluster) -> None:
    api = cluster.b
    agent = api.staff("agent", api.operator())
    proofing_id = api.start(agent, applicant())
    api.faces(agent, proofing_id)
    nonce = step(api, agent, proofing_id, "liveness-challenges")["nonce"]
    later = utc_now() + timedelta(seconds=cluster.settings.proofing_idle_s + 60)
    api.services.clock = lambda: later
    try:
        base = f"/v1/proofing-sessions/{proofing_id}"
        for path, kwargs in (("selfie", image(api, "selfie")), ("liveness-challenges", {}),
                             ("conclude", {})):
            expired_error(api.call("POST", f"{base}/{path}", agent, **kwargs))
        clip = {"video": ("headturn.avi", api.shots.video, "video/x-msvideo")}
        answer = api.call("POST", f"{base}/liveness", agent, data={"nonce": nonce}, files=clip)
        assert answer.status_code == 410, answer.text  # the challenge expired too
        with api.services.sessions() as db:
            count = maintenance.purge_proofing_state(db, actor=SYSTEM, now=later, keep_s=0)
            assert count >= 2  # the held evidence and the challenge, at least
            assert db.scalar(select(func.count()).select_from(ProofingState)
                             .where(ProofingState.id == proofing_id)) == 0
            assert db.scalar(select(func.count()).select_from(LivenessChallenge)
                             .where(LivenessChallenge.proofing_id == proofing_id)) == 0
        expired_error(api.call("POST", f"{base}/conclude", agent))  # still says so
    finally:
        api.services.clock = utc_now


def test_concurrent_uploads_on_one_app_each_get_their_own_engine(api: Api) -> None:
    """A pool of two: two sessions' documents and selfies judged at once, the shared ONNX
    models included, give the replies they give one at a time."""
    agent = api.staff("agent", api.operator())
    sessions = [api.start(agent, applicant()) for _ in range(2)]
    jobs = [(p, kind) for p in sessions for kind in ("document", "selfie")]

    def upload(job: tuple[str, str]) -> Any:
        return step(api, agent, job[0], job[1], **image(api, job[1]))

    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(upload, jobs))
    alone = [upload(job) for job in jobs]
    assert together == alone
