"""Throughput of `simkyc serve --workers N`: full proofings per minute and /v1/faces/verify
requests per second with 1 and 2 worker processes, 8 concurrent clients, p50/p95 latency, the
CPU seconds each unit costs the server, and each worker's memory (RSS, PSS, USS) with every
model loaded, at rest and after each phase. The peer of 2 workers is 1 worker, measured in
the same run.

What it measures
    For each --workers value: a fresh `simkyc serve --workers N` (uvicorn workers sharing one
    port; each worker gets cores / N, `SIMKYC_WORKER_CORES`) on the given PostgreSQL, started
    and waited for (`GET /ready`), then two phases:
    - proofing: --clients concurrent loops run full proofings back to back for --seconds:
      open a session, the document (a photographed SPECIMEN card carrying the head-turn
      video's face), the selfie (the video's last frame), a liveness challenge and the clip
      (the head-turn video, 5.5 s), conclude. A proofing counts when conclude answers 200;
      its latency is the six calls together.
    - verify: the same loops post the card and the selfie to /v1/faces/verify for --seconds;
      each 200 counts, latency per request.
    Per phase, from /proc: the CPU seconds the server's processes used (user + system, every
    thread), per completed unit and as cores kept busy; the load generator's own CPU; and
    what every other process on the machine used meanwhile. CPU seconds per unit hardly
    depend on what else runs on the machine, so they compare configurations on a shared
    machine where rates cannot: N workers scale if each unit costs them what it costs one
    worker and together they keep N cores busy.
    Memory per worker (/proc/PID/smaps_rollup): RSS; PSS, shared pages split between the
    processes that map them (the workers' PSS add up to what they cost together); USS, the
    pages only that worker maps.

The load generator
    One asyncio event loop (httpx.AsyncClient, --clients connections), every upload's
    multipart body encoded once before the clock starts, so the client costs almost no CPU
    on the cores the server uses (reported: client_cores_busy). The last call of each unit
    asks to close its connection, so the next unit connects afresh and reaches whichever
    worker accepts it (the proofing state is in the database, any worker takes any step).

Setup (untimed)
    A fresh keyring, an operator (CN) and an agent key made with `simkyc admin` (the CLI);
    the key is sent with every request (/v1/faces/verify included; its per-key rate limit is
    lifted and its wait for an engine raised: the 8 clients queue by design). Card OCR on (the
    default), so a proofing costs what it does in production. The liveness challenge is
    scripted to the clip's actions with the test hook SIMKYC_TESTING_CHALLENGE_SCRIPT (this
    is a test deployment; SIMKYC_TESTING=true), so the clip's full analysis runs on the live
    path.

Caveats
    Server, load generator and PostgreSQL share the machine's cores (PostgreSQL's CPU is in
    other_processes_cores_busy, with everyone else's). --pin runs N workers on the first N
    CPUs (taskset): 1 worker on one core against 2 on two is process scaling itself, apart
    from how much of two cores one worker's threads can use. --worker-cores K configures each
    worker for K cores (SIMKYC_WORKER_CORES=K: engine pool, OCR and OpenCV threads) without
    pinning it: with K=1, N one-core workers against one, unpinned (the kernel places them),
    shows whether processes scale when each is a one-core unit, and, against the default
    run, whether one multi-threaded worker spends more CPU per unit than two one-core ones.

Run
    export URL=$(SIMKYC_PG_DIR=/tmp/simkyc-bench-pg SIMKYC_PG_DB=bench_cluster scripts/postgres.sh)
    nice -n 5 .venv/bin/python bench/cluster.py --url "$URL" [--workers 1 2] [--clients 8]
        [--seconds 60] [--pin | --worker-cores 1] [--env SIMKYC_NAME=value ...]
    The three configurations the README's table shows, each 1 against 2 workers:
        ... --seconds 45                     (serve's default: each worker cores / N)
        ... --seconds 45 --worker-cores 1    (each worker a one-core unit, unpinned)
        ... --seconds 45 --pin               (each worker a one-core unit on its own CPU)
        ... --seconds 45 --worker-cores 1 --cpu-affinity
                                             (the same, pinned by serve itself: worker i
                                              on CPU i, every thread it starts with it)
        ... --seconds 45 --worker-cores 1 --balancer
                                             (N one-worker processes, each on its own CPU,
                                              behind Debian's HAProxy, least connections,
                                              each request balanced: the deployment of
                                              "Running on several machines")
        ... --seconds 30 --worker-cores 1 --cpu-affinity --balancer --rounds 3
                                             (the same, both configurations up at once and
                                              measured in turn, A B / B A / A B: the
                                              figure the README reports)

Why --rounds: the machine's speed drifts (a 1-worker verify phase cost 0.089 and 0.106
server CPU-s per request in two runs minutes apart, 2026-12-05), so one phase of each
configuration, minutes apart, gave 1.60x to 1.93x for the same code. Measured in turn, each
round compares the two under the same conditions, and the pooled figure averages the rest.

Why --balancer: `serve --workers N` shares one listening socket and the kernel hands each new
connection to whichever worker accepts it first; inference runs off the event loop, so a busy
worker accepts as readily as an idle one, and a proofing's steps, on one connection, stay on
that worker. One pinned worker keeps its core 100% busy, but two of them kept only 1.51-1.66
of the 2 cores busy (2026-12-05). A balancer that sends each request to the process with the
fewest in flight is what a deployment puts in front anyway; the 1-process run goes through it
too, and its CPU counts as the server's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import httpx
import numpy as np

from simkyc.config import Settings
from simkyc.faces.detect import YuNetDetector
from simkyc.liveness.media import MediaLimits, decode_video
from simkyc.privacy.keyring import Keyring
from simkyc.synth.specimen import DocumentKind, portrait_from_photo, random_specimen, render_card
from simkyc.synth.virtual_photo import Shot, photograph

ROOT = Path(__file__).resolve().parents[1]
SIMKYC = [sys.executable, "-m", "simkyc.cli"]
PERFORMED = ["turn_right", "turn_left"]  # what the head-turn clip shows
CONSENT = {"given": True, "version": "bench"}


@dataclass(frozen=True)
class Shots:
    document: bytes
    selfie: bytes
    video: bytes


def make_shots(settings: Settings) -> Shots:
    """The card, selfie and clip the API tests use (tests/integration/api/conftest.py)."""
    video = (settings.data_dir / "liveness" / "headturn" / "test.avi").read_bytes()
    frames = decode_video(video, MediaLimits())
    first = frames[0].pixels
    detector = YuNetDetector(settings.models_dir / "yunet" / "face_detection_yunet_2023mar.onnx")
    box = detector.detect(first)[0].box
    rng = np.random.default_rng(5)
    card = render_card(random_specimen(rng, DocumentKind.CN_RESIDENT_ID),
                       portrait_from_photo(first, box))
    photo = photograph(card, rng, shot=Shot(turn_deg=8.0, tilt_deg=15.0, glare=False))
    ok, selfie = cv2.imencode(".jpg", frames[-1].pixels[..., ::-1])
    assert ok
    return Shots(document=photo.jpeg, selfie=bytes(selfie.tobytes()), video=video)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli(env: dict[str, str], *args: str) -> dict[str, object]:
    done = subprocess.run([*SIMKYC, *args], env=env, capture_output=True, text=True,
                          check=True, timeout=300)
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


def memory_mb(pid: int) -> dict[str, int]:
    """Resident set (RSS), proportional set (PSS: shared pages split between the processes
    mapping them, so the workers' PSS add up to what they cost together), unique set (USS:
    pages only this process maps) of *pid*, in MB, from /proc/PID/smaps_rollup; and the
    largest RSS it has had (VmHWM: the peak while requests were in flight)."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        fields[name] = int(rest.split()[0])  # kB
    uss = fields["Private_Clean"] + fields["Private_Dirty"]
    peak = next(int(line.split()[1]) for line in
                Path(f"/proc/{pid}/status").read_text().splitlines()
                if line.startswith("VmHWM:"))  # the largest RSS it has had so far
    return {"rss": round(fields["Rss"] / 1024), "pss": round(fields["Pss"] / 1024),
            "uss": round(uss / 1024), "peak_rss": round(peak / 1024)}


TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds *pid* has used (all its threads), from /proc/PID/stat; NaN
    if it has gone (a worker killed and replaced: the figures of that phase are void)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return float("nan")
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_busy_s() -> float:
    """CPU seconds the whole machine has spent busy (every process, every core), /proc/stat."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks[:8]) - idle) / TICK


def workers_of(pid: int) -> list[int]:
    """uvicorn's worker processes: the children of `simkyc serve` (not multiprocessing's
    resource tracker)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return [c for c in found
            if b"resource_tracker" not in Path(f"/proc/{c}/cmdline").read_bytes()]


def national_id(serial: int) -> str:
    from simkyc.documents.cn_id import check_character

    first_17 = f"110105{1949:04d}1231{serial % 1000:03d}"
    return first_17 + check_character(first_17)


BOUNDARY = "simkyc-bench-a8f3c1"


def form_part(name: str, value: bytes, *, filename: str | None = None,
              content_type: str | None = None) -> bytes:
    """One multipart/form-data part (RFC 7578), encoded once so the client only concatenates."""
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"'
    if filename is not None:
        head += f'; filename="{filename}"'
    if content_type is not None:
        head += f"\r\nContent-Type: {content_type}"
    return head.encode() + b"\r\n\r\n" + value + b"\r\n"


FORM_END = f"--{BOUNDARY}--\r\n".encode()
FORM_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


@dataclass(frozen=True)
class Bodies:
    """Every upload's request body, encoded before the clock starts: the load generator shares
    the cores with the workers, so it must cost as little as it can."""

    document: bytes
    selfie: bytes
    verify: bytes
    clip_tail: bytes  # the liveness form after its nonce field

    @classmethod
    def of(cls, shots: Shots) -> Bodies:
        card = form_part("image", shots.document, filename="document.jpg",
                         content_type="image/jpeg")
        selfie = form_part("image", shots.selfie, filename="selfie.jpg",
                           content_type="image/jpeg")
        verify = (form_part("document", shots.document, filename="card.jpg",
                            content_type="image/jpeg")
                  + form_part("selfie", shots.selfie, filename="selfie.jpg",
                              content_type="image/jpeg"))
        clip = form_part("video", shots.video, filename="clip.avi", content_type="video/x-msvideo")
        return cls(document=card + FORM_END, selfie=selfie + FORM_END, verify=verify + FORM_END,
                   clip_tail=clip + FORM_END)


@dataclass
class Phase:
    """Latencies of the completed units, and failures by status/code (one event loop: no
    lock needed)."""

    latencies: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)

    def done(self, seconds: float) -> None:
        self.latencies.append(seconds)

    def failed(self, why: str) -> None:
        self.failures[why] = self.failures.get(why, 0) + 1

    def summary(self, wall_s: float, per: float) -> dict[str, object]:
        ordered = sorted(self.latencies)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else None
        return {"completed": len(ordered), "wall_s": round(wall_s, 3),
                "rate": round(len(ordered) / wall_s * per, 3),
                "p50_s": round(statistics.median(ordered), 3) if ordered else None,
                "p95_s": round(p95, 3) if p95 is not None else None,
                "failures": self.failures}


class Failed(Exception):
    pass


def _ok(response: httpx.Response) -> dict[str, object]:
    if response.status_code >= 300:
        try:
            code = response.json()["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = "?"
        raise Failed(f"{response.request.url.path.split('/')[-1]} {response.status_code} {code}")
    body: dict[str, object] = response.json()
    return body


FORM = {"Content-Type": FORM_TYPE}
# The last call of a unit closes its connection, so the next unit connects afresh and the
# kernel hands it to whichever worker accepts first (a client is not stuck on one worker).
LAST = {"Content-Type": FORM_TYPE, "Connection": "close"}


async def one_proofing(client: httpx.AsyncClient, bodies: Bodies, serial: int) -> None:
    person = {"number": national_id(serial), "name": "WANG Fang", "birth_date": "1949-12-31",
              "expiry": "2036-01-01"}
    created = _ok(await client.post("/v1/proofing-sessions",
                                    json={"applicant": person, "consent": CONSENT}))
    base = f"/v1/proofing-sessions/{created['id']}"
    _ok(await client.post(f"{base}/document", content=bodies.document, headers=FORM))
    _ok(await client.post(f"{base}/selfie", content=bodies.selfie, headers=FORM))
    challenge = _ok(await client.post(f"{base}/liveness-challenges"))
    clip = form_part("nonce", str(challenge["nonce"]).encode()) + bodies.clip_tail
    _ok(await client.post(f"{base}/liveness", content=clip, headers=FORM))
    _ok(await client.post(f"{base}/conclude", headers={"Connection": "close"}))


async def one_verify(client: httpx.AsyncClient, bodies: Bodies, _: int) -> None:
    _ok(await client.post("/v1/faces/verify", content=bodies.verify, headers=LAST))


Unit = Callable[[httpx.AsyncClient, Bodies, int], Awaitable[None]]


@dataclass(frozen=True)
class Cpu:
    """CPU seconds so far: the server's processes, this load generator, the whole machine."""

    server: float
    client: float
    machine: float

    @classmethod
    def now(cls, pids: list[int]) -> Cpu:
        return cls(server=sum(cpu_s(pid) for pid in pids), client=time.process_time(),
                   machine=machine_busy_s())

    def since(self, before: Cpu, wall_s: float, units: int) -> dict[str, object]:
        """Load-insensitive accounting: CPU seconds per completed unit, and cores kept busy."""
        server, client = self.server - before.server, self.client - before.client
        others = self.machine - before.machine - server - client
        return {"server_cpu_s": round(server, 2),
                "server_cpu_s_per_unit": round(server / units, 4) if units else None,
                "server_cores_busy": round(server / wall_s, 2),
                "client_cpu_s": round(client, 2),
                "client_cores_busy": round(client / wall_s, 3),
                "other_processes_cores_busy": round(max(others, 0.0) / wall_s, 2)}


async def run_phase(url: str, key: str, *, clients: int, seconds: float, unit: Unit,
                    bodies: Bodies) -> tuple[Phase, float]:
    """*clients* concurrent loops on one event loop, each running *unit* back to back."""
    phase, serials = Phase(), iter(range(10**6))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=300.0, limits=limits,
                                 headers={"Authorization": f"Bearer {key}"}) as client:
        stop = time.monotonic() + seconds

        async def loop() -> None:
            while time.monotonic() < stop:
                started = time.perf_counter()
                try:
                    await unit(client, bodies, next(serials))
                except Failed as error:
                    phase.failed(str(error))
                    continue
                phase.done(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(clients)))
        return phase, time.perf_counter() - started


def timed_phase(url: str, key: str, pids: list[int], *, clients: int, seconds: float,
                unit: Unit, bodies: Bodies, per: float) -> dict[str, object]:
    before = Cpu.now(pids)
    phase, wall_s = asyncio.run(run_phase(url, key, clients=clients, seconds=seconds,
                                          unit=unit, bodies=bodies))
    return {**phase.summary(wall_s, per),
            **Cpu.now(pids).since(before, wall_s, len(phase.latencies))}


def wait_ready(url: str, server: subprocess.Popen[bytes], workers: int, log: Path) -> None:
    started, streak = time.monotonic(), 0
    # Each fresh connection may reach another worker, and a worker still loading answers
    # 503: 20 answers of 200 in a row per worker mean (almost surely) every one is loaded.
    while streak < 20 * workers:
        try:
            ready = httpx.get(f"{url}/ready", timeout=5).status_code == 200
        except httpx.TransportError:
            ready = False
        streak = streak + 1 if ready else 0
        if server.poll() is not None or time.monotonic() - started > 300:
            raise SystemExit(f"serve did not get ready; see {log}")
        time.sleep(0.05 if ready else 0.5)


def allowed_cpus(pid: int) -> str:
    """The CPUs a process may run on, as /proc says (Cpus_allowed_list)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Cpus_allowed_list:"):
            return line.split(":", 1)[1].strip()
    return "?"


HAPROXY = Path("/usr/sbin/haproxy")


def haproxy_config(port: int, backends: list[int]) -> str:
    """Each request to the backend with the fewest requests in flight (the connection to the
    server closed after each, so a proofing's steps are balanced one by one)."""
    servers = "\n".join(f"    server w{i} 127.0.0.1:{backend}"
                        for i, backend in enumerate(backends))
    return f"""global
    maxconn 512

defaults
    mode http
    timeout connect 5s
    timeout client 300s
    timeout server 300s
    option http-server-close

frontend bench
    bind 127.0.0.1:{port}
    default_backend workers

backend workers
    balance leastconn
{servers}
"""


def start_servers(env: dict[str, str], state: Path, workers: int, *, balancer: bool,
                  cpus: list[int] | None, affinity: bool
                  ) -> tuple[str, list[subprocess.Popen[bytes]], list[int], list[int]]:
    """The server(s) started and ready: their URL, the processes to stop, the workers' pids
    and every server-side pid (for CPU accounting). Without *balancer*: one `simkyc serve
    --workers N` (on *cpus* by taskset, if given). With it: N `simkyc serve --workers 1`,
    each on CPU i alone when *affinity* (taskset), behind HAProxy."""
    log_path = state / "serve.log"
    if not balancer:
        port = free_port()
        pin = ["taskset", "-c", ",".join(map(str, cpus))] if cpus else []
        with log_path.open("wb") as log:
            server = subprocess.Popen([*pin, *SIMKYC, "serve", "--port", str(port),
                                       "--workers", str(workers),
                                       *(["--cpu-affinity"] if affinity else [])],
                                      env=env, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, server, workers, log_path)
        pids = workers_of(server.pid) if workers > 1 else [server.pid]
        return url, [server], pids, [server.pid, *pids] if workers > 1 else pids
    machine = cpus or sorted(os.sched_getaffinity(0))
    ports = [free_port() for _ in range(workers)]
    servers: list[subprocess.Popen[bytes]] = []
    with log_path.open("wb") as log:
        for i, port in enumerate(ports):
            pin = ["taskset", "-c", str(machine[i % len(machine)])] if affinity else []
            servers.append(subprocess.Popen([*pin, *SIMKYC, "serve", "--port", str(port),
                                             "--workers", "1"], env=env, stdout=log,
                                            stderr=log))
    for server, port in zip(servers, ports, strict=True):
        wait_ready(f"http://127.0.0.1:{port}", server, 1, log_path)
    front = free_port()
    config = state / "haproxy.cfg"
    config.write_text(haproxy_config(front, ports))
    with (state / "haproxy.log").open("wb") as log:
        balancer_process = subprocess.Popen([str(HAPROXY), "-f", str(config), "-db"],
                                            stdout=log, stderr=log)
    url = f"http://127.0.0.1:{front}"
    wait_ready(url, balancer_process, 1, state / "haproxy.log")
    pids = [server.pid for server in servers]
    return url, [*servers, balancer_process], pids, [*pids, balancer_process.pid]


@dataclass
class Deployment:
    """One configuration under test, started and ready: *workers* worker processes (one `serve
    --workers N`, or N one-worker processes behind HAProxy), an agent key, its processes."""

    workers: int
    url: str
    key: str
    state: Path
    processes: list[subprocess.Popen[bytes]]
    pids: list[int]  # the workers
    everyone: list[int]  # every server-side process (CPU accounting)
    worker_cores: int
    cpus: list[int]
    affinity: bool
    balancer: bool
    ready: list[dict[str, int]] = field(default_factory=list)  # memory at rest

    def memory(self) -> list[dict[str, int]]:
        return [memory_mb(pid) if Path(f"/proc/{pid}").exists() else {} for pid in self.pids]

    def hold(self, *, frozen: bool) -> None:
        """Freeze (SIGSTOP) or thaw (SIGCONT) every server-side process: an idle deployment
        still runs its integrator's rounds and its supervisor's pings, which would land on
        the cores of the one being measured."""
        for pid in self.everyone:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP if frozen else signal.SIGCONT)

    def gone(self) -> list[int]:
        return [pid for pid in self.pids if not Path(f"/proc/{pid}").exists()]

    def stop(self) -> None:
        self.hold(frozen=False)
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=30)

    def describe(self) -> dict[str, object]:
        return {"workers": self.workers, "cpus": self.cpus, "cpu_affinity": self.affinity,
                "balancer": "haproxy leastconn" if self.balancer else None,
                "worker_cpus": [allowed_cpus(pid) for pid in self.pids],
                "worker_cores": self.worker_cores}


def deploy(url_db: str, workers: int, *, keyring: str, cpus: list[int] | None,
           worker_cores: int | None, affinity: bool, balancer: bool,
           extra_env: dict[str, str]) -> Deployment:
    """One `simkyc serve --workers N` (on *cpus* only, if given; each worker configured for
    *worker_cores*, if given; each on its own CPUs with *affinity*), or N one-worker
    processes behind HAProxy (*balancer*), with its own operator and agent key, ready."""
    state = Path(tempfile.mkdtemp(prefix=f"simkyc-bench-{workers}w-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMKYC_")}
    env.update({"PYTHONPATH": str(ROOT / "src"), "SIMKYC_DATABASE_URL": url_db,
                "SIMKYC_STATE_DIR": str(state), "SIMKYC_KEYRING": keyring,
                "SIMKYC_TESTING": "true",
                "SIMKYC_TESTING_CHALLENGE_SCRIPT": json.dumps(PERFORMED),
                # The bench's one key would hit the per-key rate limit of the open endpoint.
                "SIMKYC_FACES_VERIFY_MAX_CALLS": str(10**9),
                # 8 clients queue on the engines by design here; the default 2 s wait would
                # turn the queue into 503s under a shared machine's load.
                "SIMKYC_FACES_VERIFY_LOCK_WAIT_S": "120", **extra_env})
    if worker_cores is not None:
        env["SIMKYC_WORKER_CORES"] = str(worker_cores)
    operator = cli(env, "admin", "create-operator", f"Bench {workers}w {time.time():.0f}")
    agent = cli(env, "admin", "create-principal", "bench", "--role", "agent",
                "--operator", str(operator["id"]))
    url, processes, pids, everyone = start_servers(env, state, workers, balancer=balancer,
                                                   cpus=cpus, affinity=affinity)
    machine = cpus or sorted(os.sched_getaffinity(0))
    deployment = Deployment(
        workers=workers, url=url, key=str(agent["api_key"]), state=state,
        processes=processes, pids=pids, everyone=everyone,
        worker_cores=int(env.get("SIMKYC_WORKER_CORES", 0))
        or max(1, len(machine) // workers),  # serve's default: cores / N
        cpus=machine, affinity=affinity, balancer=balancer)
    deployment.ready = deployment.memory()  # every model loaded at start, idle
    return deployment


def phase_of(deployment: Deployment, name: str, *, clients: int, seconds: float,
             bodies: Bodies) -> dict[str, object]:
    unit, per = (one_proofing, 60.0) if name == "proofings_per_min" else (one_verify, 1.0)
    return timed_phase(deployment.url, deployment.key, deployment.everyone, clients=clients,
                       seconds=seconds, unit=unit, bodies=bodies, per=per)


PHASES = ("proofings_per_min", "verify_per_s")


def measure(deployment: Deployment, *, clients: int, seconds: float,
            bodies: Bodies) -> dict[str, object]:
    """Both phases on one deployment, one after the other, and its memory."""
    load_before = os.getloadavg()[0]
    proofing = phase_of(deployment, PHASES[0], clients=clients, seconds=seconds, bodies=bodies)
    after_proofing = deployment.memory()
    verify = phase_of(deployment, PHASES[1], clients=clients, seconds=seconds, bodies=bodies)
    if gone := deployment.gone():  # replaced by the supervisor: its figures are lost
        return {"workers": deployment.workers, "error": f"workers {gone} died during the "
                f"run; see {deployment.state / 'serve.log'}", "proofings_per_min": proofing}
    return {**deployment.describe(), "clients": clients, "proofings_per_min": proofing,
            "verify_per_s": verify,
            "memory_mb_per_worker": {"ready": deployment.ready,
                                     "after_proofings": after_proofing,
                                     "after_verify": deployment.memory()},
            "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)]}


def interleave(deployments: list[Deployment], *, rounds: int, clients: int, seconds: float,
               bodies: Bodies) -> dict[str, object]:
    """Every deployment up at once (idle ones cost no CPU), each phase run on each in turn,
    *rounds* times, the order reversed every other round (A B, B A, ...): a drift in the
    machine's speed (a noisy neighbour, the clock) then falls on both configurations alike
    instead of on whichever happened to run during it. The deployments not being measured
    are frozen meanwhile (SIGSTOP), so each phase has the machine as a lone deployment
    would. Per round and phase: the rate of each and the last's ratio to the first; over
    all rounds: the rates pooled (units / seconds) and the median of the per-round ratios."""
    runs: dict[str, dict[int, list[dict[str, object]]]] = {
        name: {d.workers: [] for d in deployments} for name in PHASES}
    for turn in range(rounds):
        order = deployments if turn % 2 == 0 else deployments[::-1]
        for name in PHASES:
            for deployment in order:
                others = [d for d in deployments if d is not deployment]
                for other in others:
                    other.hold(frozen=True)
                try:
                    result = phase_of(deployment, name, clients=clients, seconds=seconds,
                                      bodies=bodies)
                finally:
                    for other in others:
                        other.hold(frozen=False)
                runs[name][deployment.workers].append(result)
                print(json.dumps({"round": turn + 1, "workers": deployment.workers,
                                  name: result}), flush=True)
    first, last = deployments[0].workers, deployments[-1].workers
    summary: dict[str, object] = {"rounds": rounds, "clients": clients,
                                  "deployments": [d.describe() for d in deployments],
                                  "memory_mb_per_worker": {d.workers: {"ready": d.ready,
                                                                       "after": d.memory()}
                                                           for d in deployments}}
    for name, by in runs.items():
        per = 60.0 if name == PHASES[0] else 1.0
        pooled = {n: sum(r["completed"] for r in rs) / sum(r["wall_s"] for r in rs) * per  # type: ignore[misc]
                  for n, rs in by.items()}
        ratios = [b["rate"] / a["rate"] if a["rate"] else float("nan")  # type: ignore[operator]
                  for a, b in zip(by[first], by[last], strict=True)]
        summary[name] = {"pooled_rate": {n: round(v, 3) for n, v in pooled.items()},
                         "pooled_ratio": round(pooled[last] / pooled[first], 3),
                         "round_ratios": [round(r, 3) for r in ratios],
                         "median_ratio": round(statistics.median(ratios), 3),
                         "server_cpu_s_per_unit": {
                             n: [r["server_cpu_s_per_unit"] for r in rs]
                             for n, rs in by.items()}}
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="PostgreSQL URL (scripts/postgres.sh)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--pin", action="store_true",
                        help="Run N workers on the first N CPUs only (taskset): each worker "
                        "gets one core, so N workers against 1 is process scaling itself.")
    parser.add_argument("--worker-cores", type=int, default=None, metavar="K",
                        help="Configure each worker for K cores (SIMKYC_WORKER_CORES) without "
                        "pinning it: --worker-cores 1 makes every worker a one-core unit.")
    parser.add_argument("--cpu-affinity", action="store_true",
                        help="serve --cpu-affinity: each worker on its own K CPUs (K: "
                        "--worker-cores, else cores / N), with every thread it starts.")
    parser.add_argument("--balancer", action="store_true",
                        help="N one-worker processes behind HAProxy (least connections, "
                        "each request balanced), each on its own CPU with --cpu-affinity.")
    parser.add_argument("--rounds", type=int, default=0, metavar="R",
                        help="Start every --workers configuration at once and run each phase "
                        "on each in turn, R times, the order reversed every other round "
                        "(drift on a noisy machine falls on both alike); report the pooled "
                        "and the median per-round ratio.")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="Extra environment for the server (e.g. SIMKYC_WORKER_CORES=2).")
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.env)
    bodies = Bodies.of(make_shots(Settings()))
    mine = sorted(os.sched_getaffinity(0))
    keyring = Keyring.generate().to_json()  # one deployment's secrets, as in production

    def up(n: int) -> Deployment:
        return deploy(args.url, n, keyring=keyring, cpus=mine[:n] if args.pin else None,
                      worker_cores=args.worker_cores, affinity=args.cpu_affinity,
                      balancer=args.balancer, extra_env=extra)

    if args.rounds:
        deployments: list[Deployment] = []
        try:
            for n in args.workers:
                deployments.append(up(n))
            summary = interleave(deployments, rounds=args.rounds, clients=args.clients,
                                 seconds=args.seconds, bodies=bodies)
        finally:
            for deployment in deployments:
                deployment.stop()
        print(json.dumps(summary), flush=True)
        for phase in PHASES:
            found = summary[phase]
            print(f"{phase}: {args.workers[-1]} workers / {args.workers[0]} over "
                  f"{args.rounds} interleaved rounds: pooled {found['pooled_ratio']}x, "  # type: ignore[index]
                  f"median {found['median_ratio']}x, per round {found['round_ratios']}")  # type: ignore[index]
        return
    results = []
    for n in args.workers:
        deployment = up(n)
        try:
            result = measure(deployment, clients=args.clients, seconds=args.seconds,
                             bodies=bodies)
        finally:
            deployment.stop()
        print(json.dumps(result), flush=True)
        results.append(result)
    if len(results) >= 2 and not any("error" in result for result in results):
        first, last = results[0], results[-1]
        for phase in PHASES:
            a, b = first[phase], last[phase]
            ratio = b["rate"] / a["rate"] if a["rate"] else float("nan")  # type: ignore[index]
            cpu_a = a["server_cpu_s_per_unit"]  # type: ignore[index]
            cpu_b = b["server_cpu_s_per_unit"]  # type: ignore[index]
            print(f"{phase}: {last['workers']} workers / {first['workers']} = {ratio:.2f}x "
                  f"({b['rate']} vs {a['rate']}); server CPU-s per unit {cpu_b} vs {cpu_a}; "  # type: ignore[index]
                  f"cores busy {b['server_cores_busy']} vs {a['server_cores_busy']}")  # type: ignore[index]


if __name__ == "__main__":
    main()
