"""A deployment the tests run: a throwaway PostgreSQL (scripts/postgres.sh, its own directory
and port: the shared test server is never touched), N `simkyc serve` processes sharing only
the database and the keyring, and Debian's HAProxy in front of them.

HAProxy checks each process's `/ready`, names the process that answered in the response header
`X-Simkyc-Backend`, and lets a test steer a request to one process with the same header on
the request (`use-server`), so a test can make a proofing session's steps alternate.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from simkyc.privacy.keyring import Keyring

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_SH = ROOT / "scripts" / "postgres.sh"
HAPROXY = Path("/usr/sbin/haproxy")
SIMKYC = [sys.executable, "-m", "simkyc.cli"]
STEER = "X-Simkyc-Backend"
# Loading every model takes a few seconds per process; two at once on 2 busy cores, longer.
READY_WITHIN_S = 120.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(check: Any, within_s: float, what: Any, every_s: float = 0.25) -> Any:
    """Poll `check()` until it returns a truthy value; fail with `what` after `within_s`."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every_s)
    raise AssertionError(f"not within {within_s:.0f} s: {what}")


def status_of(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=5.0).status_code
    except httpx.TransportError:
        return None


@dataclass
class Postgres:
    """A throwaway cluster in its own directory; `halt` and `resume` keep data and port."""

    folder: Path
    url: str = ""

    def _env(self) -> dict[str, str]:
        return {**os.environ, "SIMKYC_PG_DIR": str(self.folder), "SIMKYC_PG_DB": "simkyc_cluster"}

    def start(self) -> str:
        done = subprocess.run([str(POSTGRES_SH)], env=self._env(), check=True,
                              capture_output=True, text=True, timeout=180)
        self.url = done.stdout.strip()
        return self.url

    def halt(self) -> None:
        subprocess.run([str(POSTGRES_SH), "halt"], env=self._env(), check=True,
                       capture_output=True, timeout=60)

    def resume(self) -> None:
        assert self.start() == self.url  # the same port, the same database

    def remove(self) -> None:
        subprocess.run([str(POSTGRES_SH), "stop"], env=self._env(), check=False,
                       capture_output=True, timeout=60)


@dataclass
class Backend:
    """One `simkyc serve` process (its own state directory: nothing shared on disk)."""

    name: str
    port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None
    workers: int = 1

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, env: dict[str, str]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / "serve.log").open("ab") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                [*SIMKYC, "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--workers", str(self.workers)],
                env={**env, "SIMKYC_STATE_DIR": str(self.folder)}, stdout=log, stderr=log)

    def wait_ready(self) -> None:
        def ready() -> bool:
            assert self.process is not None and self.process.poll() is None, self.log_tail()
            return status_of(f"{self.url}/ready") == 200

        wait_until(ready, READY_WITHIN_S, f"{self.name} ready")

    def kill_9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill_9()

    def log_tail(self) -> str:
        path = self.folder / "serve.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def haproxy_config(port: int, backends: list[Backend]) -> str:
    servers = "\n".join(f"    server {b.name} 127.0.0.1:{b.port} check" for b in backends)
    steering = "\n".join(f"    use-server {b.name} if {{ req.hdr({STEER}) -m str {b.name} }}"
                         for b in backends)
    return f"""global
    maxconn 512

defaults
    mode http
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    retries 3
    option redispatch

frontend api
    bind 127.0.0.1:{port}
    default_backend simkyc

backend simkyc
    balance roundrobin
    option httpchk GET /ready
    http-check expect status 200
    default-server inter 500ms fall 2 rise 1
    http-response set-header {STEER} %s
{steering}
{servers}
"""


@dataclass
class Cluster:
    """The running deployment and the admin key made with the CLI."""

    postgres: Postgres
    backends: list[Backend]
    balancer_port: int
    env: dict[str, str]
    admin: str = ""
    haproxy: subprocess.Popen[bytes] | None = None
    folder: Path = field(default_factory=Path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.balancer_port}"

    def backend(self, name: str) -> Backend:
        return next(b for b in self.backends if b.name == name)

    def cli(self, *args: str) -> Any:
        done = subprocess.run([*SIMKYC, *args], check=False, env={**self.env, "SIMKYC_STATE_DIR":
                                                     str(self.folder / "cli")},
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout)

    def restart(self, backend: Backend) -> None:
        backend.stop()
        backend.start(self.env)
        backend.wait_ready()
        self.wait_balanced()

    def wait_balanced(self) -> None:
        """Until HAProxy's checks have every process up again (each answers in turn)."""
        def all_up() -> bool:
            seen = {self.request("GET", "/ready", None, via=b.name).headers.get(STEER)
                    for b in self.backends}
            return seen == {b.name for b in self.backends}

        wait_until(all_up, 30.0, "HAProxy sees every process up")

    def request(self, method: str, path: str, token: str | None, *, via: str | None = None,
                **kwargs: Any) -> httpx.Response:
        """Through the balancer; `via` steers it to that process."""
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if via is not None:
            headers[STEER] = via
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=120.0,
                             **kwargs)

    def steered(self, method: str, path: str, token: str | None, via: str,
                **kwargs: Any) -> httpx.Response:
        response = self.request(method, path, token, via=via, **kwargs)
        assert response.headers.get(STEER) == via, (via, response.headers.get(STEER))
        return response

    def ok(self, method: str, path: str, token: str | None, *, via: str | None = None,
           **kwargs: Any) -> Any:
        response = self.request(method, path, token, via=via, **kwargs)
        assert response.status_code < 300, (path, response.status_code, response.text)
        if via is not None:
            assert response.headers.get(STEER) == via, (via, response.headers.get(STEER))
        return response.json() if response.content else None


def backend_env(database_url: str, keyring: Keyring, script: tuple[str, ...]) -> dict[str, str]:
    """What every process is given: the one database, the one keyring, the settings of the
    API tests (OCR off, a population calibrated for LFW), and the challenge test hook."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMKYC_")}
    env.update({
        "PYTHONPATH": str(ROOT / "src"),
        "SIMKYC_DATABASE_URL": database_url,
        "SIMKYC_KEYRING": keyring.to_json(),
        "SIMKYC_POPULATION": "lfw",
        "SIMKYC_DOCUMENT_OCR": "false",
        "SIMKYC_THREADS": "1",
        "SIMKYC_TESTING": "true",
        "SIMKYC_TESTING_CHALLENGE_SCRIPT": json.dumps(list(script)),
    })
    for name in ("SIMKYC_MODELS_DIR", "SIMKYC_DATA_DIR", "SIMKYC_CACHE_DIR"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


@contextmanager
def running_cluster(processes: int, script: tuple[str, ...]) -> Iterator[Cluster]:
    """Start PostgreSQL, bootstrap an admin with the CLI, start the processes and HAProxy;
    stop everything afterwards (the PostgreSQL cluster and its directory included)."""
    folder = Path(tempfile.mkdtemp(prefix="simkyc-cluster-"))
    folder.chmod(0o755)  # PostgreSQL runs as `postgres` when we are root
    postgres = Postgres(folder / "pg")
    backends = [Backend(f"s{i}", free_port(), folder / f"s{i}") for i in range(processes)]
    cluster: Cluster | None = None
    try:
        url = postgres.start()
        env = backend_env(url, Keyring.generate(), script)
        cluster = Cluster(postgres, backends, free_port(), env, folder=folder)
        cluster.admin = cluster.cli("admin", "create-principal", "root",
                                    "--role", "admin")["api_key"]
        for backend in backends:
            backend.start(env)
        config = folder / "haproxy.cfg"
        config.write_text(haproxy_config(cluster.balancer_port, backends))
        with (folder / "haproxy.log").open("wb") as log:
            cluster.haproxy = subprocess.Popen([str(HAPROXY), "-f", str(config), "-db"],
                                               stdout=log, stderr=log)
        for backend in backends:
            backend.wait_ready()
        cluster.wait_balanced()
        yield cluster
    finally:
        for backend in backends:
            backend.stop()
        if cluster is not None and cluster.haproxy is not None:
            cluster.haproxy.terminate()
            cluster.haproxy.wait(timeout=10)
        postgres.remove()
        shutil.rmtree(folder, ignore_errors=True)
