"""kill -9 of the server during a registration load (single and bulk requests), then a
restart: every registration the server acknowledged (2xx) is there, none is half-written,
and the audit chain verifies.

The real app runs under uvicorn in a subprocess (crash_server.py), on a SQLite file and on
PostgreSQL. Approved sessions are prepared through the services first; registrations are fired
over HTTP from a thread pool; the server gets SIGKILL once some have been acknowledged while
others are in flight. It is the application that is killed, not the database server (the
throwaway PostgreSQL of scripts/postgres.sh runs without fsync, so it could not be).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from registry_world import BACKENDS, World, iccid, log_verdict, migrated_engine
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from simkyc.db.engine import session_factory
from simkyc.privacy.audit import AuditAction
from simkyc.privacy.keyring import Keyring
from simkyc.privacy.models import AuditEntry
from simkyc.proofing.models import ProofingSession
from simkyc.records.models import Line
from simkyc.registry import accounts
from simkyc.rules.profiles import default_profiles

HERE = Path(__file__).parent
PERSONS, SESSIONS_EACH = 40, 4  # 160 attempts, under the CN cap of 5 per person
KILL_AFTER = 30  # acknowledged registrations before the kill
THREADS = 8
CHUNK = 4  # sessions per task: a bulk request of 4, or 4 single ones
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Prepared:
    """A migrated registry with an agent's key and approved, unused sessions."""

    engine: Engine
    env: dict[str, str]
    token: str
    proofing_ids: list[str]
    keyring: Keyring


@dataclass(frozen=True)
class Ack:
    """A registration the server acknowledged."""

    proofing_id: str
    line_id: str


@pytest.fixture(params=BACKENDS)
def prepared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Prepared]:
    with migrated_engine(request.param, tmp_path) as engine:
        yield prepare(engine, tmp_path)


def prepare(engine: Engine, folder: Path) -> Prepared:
    keyring = Keyring.generate()
    with session_factory(engine)() as db:
        world = World(db=db, keyring=keyring, profiles=default_profiles(),
                      now=datetime.now(UTC))
        agent = world.operator("Crash Telecom", "CN")
        token = accounts.issue_api_key(db, principal_id=agent.principal_id,
                                       now=world.now).token
        ids = [world.proofed(agent, world.applicant(f"CRASH{p:06d}")).id
               for p in range(PERSONS) for _ in range(SESSIONS_EACH)]
    env = {**os.environ, "SIMKYC_DATABASE_URL": engine.url.render_as_string(False),
           "SIMKYC_KEYRING": keyring.to_json(), "SIMKYC_STATE_DIR": str(folder),
           "SIMKYC_POPULATION": "lfw"}
    return Prepared(engine=engine, env=env, token=token, proofing_ids=ids, keyring=keyring)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(prepared: Prepared, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """uvicorn with the real app, up (its /health answers) until the block ends."""
    command = [sys.executable, "-m", "uvicorn", "crash_server:app", "--factory",
               "--app-dir", str(HERE), "--host", "127.0.0.1", "--port", str(port),
               "--log-level", "warning"]
    with log.open("ab") as output:
        process = subprocess.Popen(command, env=prepared.env, cwd=log.parent, stdout=output,
                                   stderr=subprocess.STDOUT)
    try:
        wait_until_up(process, port, log)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=30)


def wait_until_up(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, f"server exited: {log.read_text()[-2000:]}"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"server did not come up in {START_TIMEOUT_S}s: {log.read_text()[-2000:]}")


def fire(prepared: Prepared, port: int, process: subprocess.Popen[bytes]) -> list[Ack]:
    """Registrations from a thread pool, chunks of CHUNK sessions each sent alternately as
    one bulk request or as single ones; SIGKILL once KILL_AFTER were acknowledged."""
    acks, lock, killed = list[Ack](), threading.Lock(), threading.Event()
    headers = {"Authorization": f"Bearer {prepared.token}"}

    def acknowledged(done: list[Ack]) -> None:
        with lock:
            acks.extend(done)
            if len(acks) >= KILL_AFTER and not killed.is_set():
                killed.set()
                os.kill(process.pid, signal.SIGKILL)

    def post(client: httpx.Client, path: str, body: dict[str, object]) -> httpx.Response | None:
        try:
            return client.post(path, json=body, headers=headers)
        except httpx.TransportError:
            return None  # the server died under this request: not acknowledged

    def chunk(start: int, client: httpx.Client) -> None:
        bodies = [{"proofing_id": prepared.proofing_ids[i], "msisdn": f"+86137{i:08d}",
                   "iccid": iccid(i)} for i in range(start, start + CHUNK)]
        if start // CHUNK % 2:
            response = post(client, "/v1/lines/batch", {"items": bodies})
            if response is not None and response.is_success:
                results = zip(bodies, response.json()["results"], strict=True)
                acknowledged([Ack(body["proofing_id"], result["line"]["id"])
                              for body, result in results if result["line"]])
            return
        for body in bodies:
            response = post(client, "/v1/lines", body)
            if response is not None and response.is_success:
                acknowledged([Ack(body["proofing_id"], response.json()["id"])])

    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                      limits=httpx.Limits(max_connections=THREADS)) as client, \
            ThreadPoolExecutor(THREADS) as pool:
        starts = range(0, len(prepared.proofing_ids), CHUNK)
        list(pool.map(lambda start: chunk(start, client), starts))
    assert killed.is_set(), "the load ended before the kill"
    return acks


def assert_whole(db: Session, acks: list[Ack]) -> None:
    """Acknowledged lines exist; every line has its person, consumed session and audit entry;
    no session was consumed without its line."""
    found = {line.id: line for line in db.scalars(select(Line))}
    missing = [ack.line_id for ack in acks if ack.line_id not in found]
    assert not missing, f"{len(missing)} acknowledged registrations lost"
    sessions = {s.id: s for s in db.scalars(select(ProofingSession))}
    audited = set(db.scalars(select(AuditEntry.object_id).where(
        AuditEntry.action == AuditAction.LINE_REGISTERED.value)))
    for line in found.values():
        record = sessions[line.approved_by]
        assert record.person_id == line.holder_id
        assert record.consumed_at is not None and record.consumed_for == "register_line"
        assert line.id in audited
    consumed = {s.id for s in sessions.values() if s.consumed_at is not None}
    assert consumed == {line.approved_by for line in found.values()}
    for ack in acks:
        assert found[ack.line_id].approved_by == ack.proofing_id


@pytest.mark.data  # the server it kills loads the real models at startup
def test_kill_9_during_registrations_loses_no_acknowledged_line(
    prepared: Prepared, tmp_path: Path
) -> None:
    port, log = free_port(), tmp_path / "server.log"
    with server(prepared, port, log) as process:
        acks = fire(prepared, port, process)
    assert process.returncode == -signal.SIGKILL
    assert KILL_AFTER <= len(acks) < len(prepared.proofing_ids)  # killed mid-load
    with server(prepared, port, log):  # restart: recovery, migrations at startup
        response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
        assert response.status_code == 200
        with session_factory(prepared.engine)() as db:
            assert_whole(db, acks)
            chain = log_verdict(db, prepared.keyring)
        assert chain.ok, chain.problems[:5]
        assert register_one_more(prepared, port).status_code == 201


def register_one_more(prepared: Prepared, port: int) -> httpx.Response:
    """The restarted server registers a line with a session the crash left unused."""
    with session_factory(prepared.engine)() as db:
        unused = db.scalars(select(ProofingSession.id).where(
            ProofingSession.consumed_at.is_(None)).limit(1)).one()
    body = {"proofing_id": unused, "msisdn": "+8613600000001", "iccid": iccid(10**9)}
    return httpx.post(f"http://127.0.0.1:{port}/v1/lines", json=body, timeout=30,
                      headers={"Authorization": f"Bearer {prepared.token}"})
