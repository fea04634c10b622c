"""Throughput of `simkyc serve --workers N`: full proofings per minute and /v1/faces/verify
requests per second with 1 and 2 worker processes, 8 concurrent clients, p50/p95 latency, and
each worker's resident memory with every model loaded. The peer of 2 workers is 1 worker,
measured in the same run.

What it measures
    For each --workers value: a fresh `simkyc serve --workers N` (uvicorn workers sharing one
    port) on the given PostgreSQL, started and waited for (`GET /ready`), then two phases:
    - proofing: --clients threads, each with its own keep-alive HTTP connection, run full
      proofings back to back for --seconds: open a session, the document (a photographed
      SPECIMEN card carrying the head-turn video's face), the selfie (the video's last frame),
      a liveness challenge and the clip (the head-turn video, 5.5 s), conclude. A proofing
      counts when conclude answers 200; its latency is the six calls together.
    - verify: the same clients post the card and the selfie to /v1/faces/verify for
      --seconds; each 200 counts, latency per request.
    The resident set (VmRSS, /proc) of each worker process: once ready (every model loaded
    at start, idle), and after both phases (its peak includes 8 concurrent requests' buffers:
    decoded video frames, images).

Setup (untimed)
    A fresh keyring, an operator (CN) and an agent key made with `simkyc admin` (the CLI);
    the key is sent with every request (/v1/faces/verify included). Card OCR on (the default),
    so a proofing costs what it does in production. The liveness challenge is scripted to the
    clip's actions with the test hook SIMKYC_TESTING_CHALLENGE_SCRIPT (this is a test
    deployment; SIMKYC_TESTING=true), so the clip's full analysis runs on the live path.

Caveats
    Server and clients share the machine's cores (the client threads mostly wait on the
    network). One keep-alive connection per client keeps a client on one worker (the
    proofing state is in the database, so the steps no longer need that). Figures are
    noisy on a shared machine: the script prints the load average before and after.

Run
    export URL=$(SIMKYC_PG_DIR=/tmp/simkyc-bench-pg SIMKYC_PG_DB=bench_cluster scripts/postgres.sh)
    nice -n 5 .venv/bin/python bench/cluster.py --url "$URL" [--workers 1 2] [--clients 8]
        [--seconds 60]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
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


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


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


@dataclass
class Phase:
    """Latencies of the completed units, and failures by status/code."""

    latencies: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def done(self, seconds: float) -> None:
        with self.lock:
            self.latencies.append(seconds)

    def failed(self, why: str) -> None:
        with self.lock:
            self.failures[why] = self.failures.get(why, 0) + 1

    def summary(self, wall_s: float, per: float) -> dict[str, object]:
        ordered = sorted(self.latencies)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else None
        return {"completed": len(ordered), "rate": len(ordered) / wall_s * per,
                "p50_s": statistics.median(ordered) if ordered else None, "p95_s": p95,
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


def one_proofing(client: httpx.Client, shots: Shots, serial: int) -> None:
    person = {"number": national_id(serial), "name": "WANG Fang", "birth_date": "1949-12-31",
              "expiry": "2036-01-01"}
    created = _ok(client.post("/v1/proofing-sessions",
                              json={"applicant": person, "consent": CONSENT}))
    base = f"/v1/proofing-sessions/{created['id']}"
    for kind, image in (("document", shots.document), ("selfie", shots.selfie)):
        _ok(client.post(f"{base}/{kind}", files={"image": (f"{kind}.jpg", image, "image/jpeg")}))
    challenge = _ok(client.post(f"{base}/liveness-challenges"))
    _ok(client.post(f"{base}/liveness", data={"nonce": str(challenge["nonce"])},
                    files={"video": ("clip.avi", shots.video, "video/x-msvideo")}))
    _ok(client.post(f"{base}/conclude"))


def one_verify(client: httpx.Client, shots: Shots, _: int) -> None:
    _ok(client.post("/v1/faces/verify", files={
        "document": ("card.jpg", shots.document, "image/jpeg"),
        "selfie": ("selfie.jpg", shots.selfie, "image/jpeg")}))


Unit = Callable[[httpx.Client, Shots, int], None]


def run_phase(url: str, key: str, *, clients: int, seconds: float, unit: Unit,
              shots: Shots) -> tuple[Phase, float]:
    phase, stop = Phase(), time.monotonic() + seconds
    serials = iter(range(10**6))
    serial_lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=300.0,
                          headers={"Authorization": f"Bearer {key}"}) as client:
            while time.monotonic() < stop:
                with serial_lock:
                    serial = next(serials)
                started = time.perf_counter()
                try:
                    unit(client, shots, serial)
                except Failed as error:
                    phase.failed(str(error))
                    continue
                phase.done(time.perf_counter() - started)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return phase, time.perf_counter() - started


def measure(url_db: str, workers: int, clients: int, seconds: float,
            shots: Shots) -> dict[str, object]:
    state = Path(tempfile.mkdtemp(prefix=f"simkyc-bench-{workers}w-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMKYC_")}
    env.update({"PYTHONPATH": str(ROOT / "src"), "SIMKYC_DATABASE_URL": url_db,
                "SIMKYC_STATE_DIR": str(state), "SIMKYC_KEYRING": Keyring.generate().to_json(),
                "SIMKYC_TESTING": "true",
                "SIMKYC_TESTING_CHALLENGE_SCRIPT": json.dumps(PERFORMED)})
    operator = cli(env, "admin", "create-operator", f"Bench {workers}w {time.time():.0f}")
    agent = cli(env, "admin", "create-principal", "bench", "--role", "agent",
                "--operator", str(operator["id"]))
    key = str(agent["api_key"])
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (state / "serve.log").open("wb") as log:
        server = subprocess.Popen([*SIMKYC, "serve", "--port", str(port), "--workers",
                                   str(workers)], env=env, stdout=log, stderr=log)
    try:
        started, streak = time.monotonic(), 0
        # Each fresh connection may reach another worker, and a worker still loading answers
        # 503: 20 answers of 200 in a row mean (almost surely) every worker is loaded.
        while streak < 20 * workers:
            try:
                ready = httpx.get(f"{url}/ready", timeout=5).status_code == 200
            except httpx.TransportError:
                ready = False
            streak = streak + 1 if ready else 0
            if server.poll() is not None or time.monotonic() - started > 300:
                raise SystemExit(f"serve did not get ready; see {state / 'serve.log'}")
            time.sleep(0.05 if ready else 0.5)
        pids = workers_of(server.pid) if workers > 1 else [server.pid]
        loaded = [round(rss_mb(pid)) for pid in pids]  # every model loaded at start, idle
        load_before = os.getloadavg()[0]
        proofing, proofing_s = run_phase(url, key, clients=clients, seconds=seconds,
                                          unit=one_proofing, shots=shots)
        verify, verify_s = run_phase(url, key, clients=clients, seconds=seconds,
                                      unit=one_verify, shots=shots)
        memory = [round(rss_mb(pid)) for pid in pids]
        return {"workers": workers, "clients": clients,
                "proofings": proofing.summary(proofing_s, 60.0),
                "verify": verify.summary(verify_s, 1.0),
                "rss_mb_per_worker_ready": loaded, "rss_mb_per_worker_after": memory,
                "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)]}
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="PostgreSQL URL (scripts/postgres.sh)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    shots = make_shots(Settings())
    results = [measure(args.url, n, args.clients, args.seconds, shots) for n in args.workers]
    for result in results:
        print(json.dumps(result), flush=True)
    if len(results) >= 2:
        first, last = results[0], results[-1]
        for phase in ("proofings", "verify"):
            a = first[phase]["rate"]  # type: ignore[index]
            b = last[phase]["rate"]  # type: ignore[index]
            ratio = b / a if a else float("nan")
            print(f"{phase}: {last['workers']} workers / {first['workers']} worker = "
                  f"{ratio:.2f}x ({b:.2f} vs {a:.2f})")


if __name__ == "__main__":
    main()
