"""Several `simkyc serve` processes behind HAProxy on one PostgreSQL, all started by the test:
any process serves any step, a killed process loses nothing acknowledged, a web sign-in made
on one works on the other, and a database outage is a coded 503 that heals by itself."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import httpx
import pytest
from api_world import Shots, applicant
from cluster_world import STEER, Backend, Cluster, free_port, wait_until
from sqlalchemy import create_engine, text

CONSENT = {"given": True, "version": "consent-v1"}


def _agent(cluster: Cluster) -> tuple[str, str]:
    """A fresh operator (CN) and an agent key of it, made through the balancer."""
    operator = cluster.ok("POST", "/v1/admin/operators", cluster.admin,
                          json={"name": f"Op {uuid.uuid4().hex[:6]}", "jurisdiction": "CN"})
    agent = cluster.ok("POST", "/v1/admin/principals", cluster.admin,
                       json={"role": "agent", "label": "agent", "operator_id": operator["id"]})
    return str(operator["id"]), str(agent["token"])


def _proof(cluster: Cluster, shots: Shots, agent: str, person: dict[str, Any],
           route: list[str | None], *, live: bool = True) -> dict[str, Any]:
    """A proofing session, each step sent to route[i] (None: wherever the balancer likes):
    start, document, selfie, [challenge, liveness], conclude."""
    vias = iter(route)
    created = cluster.ok("POST", "/v1/proofing-sessions", agent, via=next(vias),
                         json={"applicant": person, "consent": CONSENT})
    base = f"/v1/proofing-sessions/{created['id']}"
    for kind, image in (("document", shots.document), ("selfie", shots.selfie)):
        cluster.ok("POST", f"{base}/{kind}", agent, via=next(vias),
                   files={"image": (f"{kind}.jpg", image, "image/jpeg")})
    if live:
        challenge = cluster.ok("POST", f"{base}/liveness-challenges", agent, via=next(vias))
        judged = cluster.ok("POST", f"{base}/liveness", agent, via=next(vias),
                            data={"nonce": challenge["nonce"]},
                            files={"video": ("headturn.avi", shots.video, "video/x-msvideo")})
        assert judged["verdict"] == "live", judged
    decided: dict[str, Any] = cluster.ok("POST", f"{base}/conclude", agent, via=next(vias))
    return decided


ONE = ["s0"] * 6
ALTERNATING = ["s0", "s1", "s0", "s1", "s0", "s1"]


def test_every_process_is_ready_and_the_balancer_spreads_requests(cluster: Cluster) -> None:
    for backend in cluster.backends:
        assert httpx.get(f"{backend.url}/ready").json()["models"] == "loaded"
        assert httpx.get(f"{backend.url}/health").json()["status"] == "ok"
    answered = {cluster.request("GET", "/ready", None).headers[STEER] for _ in range(6)}
    assert answered == {"s0", "s1"}


def test_metrics_count_every_worker_of_one_port(cluster: Cluster) -> None:
    """`serve --workers 2` shares one port: whichever worker a scrape reaches, /metrics adds
    up both workers' counts (each used to report only its own)."""
    served = Backend("w2", free_port(), cluster.folder / "w2", workers=2)
    served.start(cluster.env)
    try:
        served.wait_ready()
        with httpx.Client(base_url=served.url, timeout=30) as client:
            for _ in range(40):  # a new connection each: the kernel spreads them
                answer = client.get("/v1/no-such-route", headers={"Connection": "close"})
                assert answer.status_code == 404
            for _ in range(6):
                exposition = client.get("/metrics", headers={"Connection": "close"}).text
                assert _count(exposition, route="unmatched", status="404") == 40, exposition
    finally:
        served.stop()


def _count(exposition: str, *, route: str, status: str) -> float:
    """The value of simkyc_http_requests_total for one route template and status."""
    wanted = f'route="{route}"'
    return sum(float(line.rsplit(" ", 1)[1]) for line in exposition.splitlines()
               if line.startswith("simkyc_http_requests_total{") and wanted in line
               and f'status="{status}"' in line and 'method="GET"' in line)


def test_a_web_sign_in_made_on_one_process_works_on_the_other(cluster: Cluster) -> None:
    _, agent = _agent(cluster)
    signed = cluster.request("POST", "/web/session", None, via="s0", json={"key": agent})
    assert signed.status_code == 200, signed.text
    cookie = signed.headers["set-cookie"].split(";")[0]
    assert agent not in cookie
    csrf = signed.json()["csrf"]
    again = cluster.steered("GET", "/web/session", None, "s1", headers={"Cookie": cookie})
    assert again.status_code == 200 and again.json()["csrf"] == csrf
    headers = {"Cookie": cookie, "X-CSRF-Token": csrf}
    opened = cluster.steered("POST", "/v1/proofing-sessions", None, "s1", headers=headers,
                             json={"applicant": applicant(), "consent": CONSENT})
    assert opened.status_code == 201, opened.text
    forged = cluster.steered("POST", "/v1/proofing-sessions", None, "s0",
                             headers={"Cookie": cookie},
                             json={"applicant": applicant(), "consent": CONSENT})
    assert forged.json()["error"]["code"] == "CSRF_TOKEN_INVALID"
    ended = cluster.steered("POST", "/web/session/end", None, "s0", headers=headers)
    assert ended.status_code == 204
    after = cluster.steered("GET", "/web/session", None, "s1", headers={"Cookie": cookie})
    assert (after.status_code, after.json()["error"]["code"]) == (401, "SESSION_ENDED")


@pytest.mark.parametrize("route", [
    pytest.param(ONE, id="one-process"),
    pytest.param(ALTERNATING, id="alternating"),
])
def test_a_proofing_is_approved_whichever_process_serves_each_step(
        cluster: Cluster, shots: Shots, route: list[str | None]) -> None:
    _, agent = _agent(cluster)
    decided = _proof(cluster, shots, agent, applicant(date(1949, 12, 31)), route)
    assert (decided["outcome"], decided["reasons"]) == ("approved", []), decided


@pytest.mark.parametrize("route", [
    pytest.param(ONE, id="one-process"),
    pytest.param(ALTERNATING, id="alternating"),
])
def test_an_expired_document_is_rejected_whichever_process_concludes(
        cluster: Cluster, shots: Shots, route: list[str | None]) -> None:
    """The issue's worst case: created on one process, concluded on the other, it went
    manual_review [document_unchecked], was approved by a reviewer and got a line."""
    _, agent = _agent(cluster)
    expired = applicant(expiry=date(2020, 1, 1))
    steps = [route[0], route[1], route[2], route[5]]
    decided = _proof(cluster, shots, agent, expired, steps, live=False)
    assert decided["outcome"] == "rejected" and "document_expired" in decided["reasons"]


def test_a_session_survives_the_kill_9_of_its_process(cluster: Cluster, shots: Shots) -> None:
    """Started, document and selfie on s0; s0 is killed (-9); the rest goes through the
    balancer, which can only send it to s1."""
    _, agent = _agent(cluster)
    s0 = cluster.backend("s0")
    try:
        created = cluster.ok("POST", "/v1/proofing-sessions", agent, via="s0",
                             json={"applicant": applicant(), "consent": CONSENT})
        base = f"/v1/proofing-sessions/{created['id']}"
        for kind, image in (("document", shots.document), ("selfie", shots.selfie)):
            cluster.ok("POST", f"{base}/{kind}", agent, via="s0",
                       files={"image": (f"{kind}.jpg", image, "image/jpeg")})
        s0.kill_9()
        challenge = cluster.ok("POST", f"{base}/liveness-challenges", agent)
        judged = cluster.ok("POST", f"{base}/liveness", agent, data={"nonce": challenge["nonce"]},
                            files={"video": ("headturn.avi", shots.video, "video/x-msvideo")})
        assert judged["verdict"] == "live", judged
        decided = cluster.ok("POST", f"{base}/conclude", agent)
        assert (decided["outcome"], decided["reasons"]) == ("approved", []), decided
    finally:
        cluster.restart(s0)


def test_a_database_outage_is_a_coded_503_and_heals_by_itself(cluster: Cluster) -> None:
    _, agent = _agent(cluster)
    body = {"applicant": applicant(), "consent": CONSENT}
    cluster.postgres.halt()
    try:
        for backend in cluster.backends:
            refused = cluster.steered("POST", "/v1/proofing-sessions", agent, backend.name,
                                      json=body)
            assert refused.status_code == 503, refused.text
            assert refused.json()["error"]["code"] == "DATABASE_UNAVAILABLE"
            assert "database" in refused.json()["error"]["message"]
            assert "Traceback" not in refused.text
            signed = cluster.steered("POST", "/web/session", None, backend.name,
                                     json={"key": agent})
            assert signed.json()["error"]["code"] == "DATABASE_UNAVAILABLE"
            assert cluster.steered("GET", "/health", None, backend.name).status_code == 200
    finally:
        cluster.postgres.resume()
    last: dict[str, object] = {}
    for backend in cluster.backends:
        def heals(name: str = backend.name) -> bool:
            try:
                answer = cluster.request("POST", "/v1/proofing-sessions", agent, via=name,
                                         json={"applicant": applicant(), "consent": CONSENT})
            except httpx.TransportError as error:
                last[name] = repr(error)
                return False
            last[name] = (answer.status_code, answer.headers.get(STEER), answer.text[:200])
            return answer.status_code == 201 and answer.headers.get(STEER) == name

        try:
            wait_until(heals, 30.0, f"{backend.name} serves again after the database returns")
        except AssertionError as error:
            raise AssertionError(f"{error}; its last answer: {last}") from None


def test_no_acknowledged_write_is_lost_when_a_process_dies(cluster: Cluster) -> None:
    """Eight clients open sessions (each with its own Idempotency-Key) through the balancer
    while s1 is killed; every acknowledged session is there afterwards, and retrying the
    unacknowledged ones with their keys answers for each. (The module's last test: s1 stays
    down.)"""
    operator, agent = _agent(cluster)
    stop, lock = threading.Event(), threading.Lock()
    acknowledged: dict[str, str] = {}
    failed: list[str] = []
    bodies: dict[str, dict[str, Any]] = {}

    def open_session(key: str) -> httpx.Response:
        with lock:
            body = bodies.setdefault(key, {"applicant": applicant(), "consent": CONSENT})
        return cluster.request("POST", "/v1/proofing-sessions", agent,
                               headers={"Idempotency-Key": key}, json=body)

    def client(worker: int) -> None:
        for n in range(10_000):
            if stop.is_set():
                return
            key = f"w{worker}-{n}"
            try:
                response = open_session(key)
            except httpx.TransportError:
                response = None
            with lock:
                if response is not None and response.status_code == 201:
                    acknowledged[key] = response.json()["id"]
                else:
                    failed.append(key)

    s1 = cluster.backend("s1")
    with ThreadPoolExecutor(8) as pool:
        for worker in range(8):
            pool.submit(client, worker)
        time.sleep(1.5)
        s1.kill_9()
        time.sleep(1.5)
        stop.set()
    assert len(acknowledged) >= 8
    for key, proofing_id in acknowledged.items():
        assert open_session(key).json()["id"] == proofing_id  # the replay: same session
    for key in failed:
        retried = open_session(key)
        assert retried.status_code == 201, retried.text
        acknowledged[key] = retried.json()["id"]
    assert len(set(acknowledged.values())) == len(acknowledged)
    engine = create_engine(cluster.postgres.url)
    try:
        with engine.connect() as db:
            stored = set(db.execute(text("SELECT id FROM proofing_sessions WHERE "
                                         "operator_id = :o"), {"o": operator}).scalars())
    finally:
        engine.dispose()
    # A keyed start commits its session and its reply together: a request cut off by the
    # kill left either both (its retry replayed the session) or neither, never an extra.
    assert stored == set(acknowledged.values())
