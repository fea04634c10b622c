"""Where a worker's peak resident memory comes from: one process with every model loaded (the
engine pool and the card OCR, as `simkyc serve` builds them), then the heavy requests of a
proofing run alone and together, while a sampler thread reads VmRSS every 2 ms.

What it measures
    rest_mb: the resident set once the models are loaded, warmed and trimmed (what a worker
    holds idle). Per scenario, run once to warm and then measured: peak_mb (the largest VmRSS
    the sampler saw) and its growth over rest, CPU seconds and minor page faults, and per
    stage of one request its peak (of several at once: the resident set at its end).
    tracemalloc does not see native memory (FFmpeg's frames, ONNX Runtime's buffers,
    MediaPipe), /proc does.
    - clip: one liveness clip decoded and judged (the head-turn video the cluster bench sends).
    - document: the proofing flow's document step (the portrait found, the card's text read)
      on one card photo.
    - checks: ten card checks in a row on one engine (the card's portrait and the selfie, as
      /v1/faces/verify computes them): its cpu_s / 10 and minor_faults / 10 are a check's.
    - together: one clip per engine pool member and a card, all sent at once from their own
      threads (as the API's thread pool runs requests): what the cluster bench's worst
      moment had in flight. The flow's OCR holds an engine, so the card waits for one.
    After each run the worker's Trimmer runs (as after every engine checkout); after_trim_mb
    says what stays. whole_run_peak_mb is VmHWM (the 2 ms sampler can miss a spike), the
    figure bench/cluster.py reports as a served worker's peak.

Why not the live server
    bench/cluster.py measures a served worker's RSS before and after each phase and its
    VmHWM; this script says which stage the peak belongs to, and runs in seconds.

Run
    nice -n 5 .venv/bin/python bench/memory_peak.py [--repeat 2] [--env SIMKYC_NAME=value ...]
    e.g. --env SIMKYC_WORKER_CORES=1 (one engine, as each of two workers on two cores), or
    --env SIMKYC_MALLOC_MMAP_THRESHOLD_KB=256 (large buffers mmapped, handed back when freed).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import cast

import numpy as np
from cluster import Shots, make_shots  # the cluster bench's card, selfie and clip

from simkyc.api.startup import WARM_FRAME_SHAPE, _warm_member
from simkyc.api.tuning import tune_process
from simkyc.config import Settings
from simkyc.documents.crosscheck import Typed
from simkyc.documents.portrait import extract_portrait_from_bytes
from simkyc.documents.reading import DocumentReader
from simkyc.liveness.challenge import Action, Challenge, ChallengeBook
from simkyc.memory import Trimmer, resident_bytes
from simkyc.privacy.keyring import Keyring
from simkyc.proofing.engines import EnginePool
from simkyc.proofing.flow import ProofingFlow

MB = 2**20


class Sampler:
    """A thread reading this process's resident set every *interval_s*: the largest seen
    (`peak`), and the largest since the last `mark` (a stage's, when one request runs)."""

    def __init__(self, interval_s: float = 0.002, *, alone: bool = False) -> None:
        self.interval_s, self.alone = interval_s, alone
        self.peak = self._since = resident_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _see(self) -> None:
        now = resident_bytes()
        self.peak, self._since = max(self.peak, now), max(self._since, now)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._see()
            time.sleep(self.interval_s)

    def mark(self) -> int:
        """The largest resident set since the last mark (then start afresh)."""
        self._see()
        peak, self._since = self._since, resident_bytes()
        return peak

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._see()


def vm_hwm() -> int:
    """The largest resident set this process has had (VmHWM, /proc/self/status), bytes."""
    status = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) * 1024


def minor_faults() -> int:
    """Pages this process has faulted in so far (each mmap'd buffer's pages fault on first
    touch: the CPU cost of handing memory back, steadier than CPU time on a shared machine)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def mb(value: int) -> int:
    return round(value / MB)


@dataclass(frozen=True)
class Worker:
    """What a served worker holds: the engine pool (with its trimmer), the document reader, and the
    proofing flow over them (its document step is the one requests run)."""

    pool: EnginePool
    documents: DocumentReader
    trimmer: Trimmer
    flow: ProofingFlow

    @classmethod
    def build(cls, settings: Settings) -> Worker:
        """Tuned, every model loaded and warmed (as `simkyc serve` does), trimmed."""
        tune_process(settings)
        pool = EnginePool.from_settings(settings)
        documents = DocumentReader.from_settings(settings)
        blank = np.full(WARM_FRAME_SHAPE, 128, np.uint8)
        with ExitStack() as stack:
            for _ in range(pool.size):
                _warm_member(stack.enter_context(pool.checkout()), blank)
        documents.warm()
        assert isinstance(pool.trimmer, Trimmer)
        flow = ProofingFlow(settings=settings, keyring=cast(Keyring, None), engines=pool,
                            book=ChallengeBook(), documents=documents)
        return cls(pool, documents, pool.trimmer, flow)


TYPED = Typed(number="110105194912310010", name="WANG Fang", birth_date=date(1949, 12, 31),
              expiry_date=date(2036, 1, 1))
CHALLENGE = Challenge(nonce="bench", session_id="bench", expires_at=1e12, issued_at=0.0,
                      actions=(Action.TURN_RIGHT, Action.TURN_LEFT), slot_s=None)


class Scenarios:
    """The heavy requests, each a stage list; a stage's end is recorded by `stage`."""

    def __init__(self, worker: Worker, shots: Shots) -> None:
        self.worker, self.shots = worker, shots
        self.stages: dict[str, int] = {}
        self.sampler: Sampler | None = None

    def stage(self, name: str) -> None:
        """The end of a stage: its peak if one request runs alone, else the RSS now."""
        alone = self.sampler is not None and self.sampler.alone
        self.stages[name] = self.sampler.mark() if alone and self.sampler else resident_bytes()

    def clip(self, tag: str) -> None:
        """The liveness step: decode and judge, on a checked-out engine."""
        with self.worker.pool.checkout() as engines:
            frames = engines.liveness.decode(video=self.shots.video)
            self.stage(f"{tag}.decode")
            engines.liveness.judge(CHALLENGE, frames)
            self.stage(f"{tag}.judge")

    def document(self, tag: str) -> None:
        """The document step as the proofing flow runs it: portrait and card OCR."""
        self.worker.flow._read_document(self.shots.document, TYPED, card=True,
                                        today=date(2026, 1, 1))
        self.stage(f"{tag}.read")

    def checks(self, tag: str) -> None:
        """Ten /v1/faces/verify-like card checks in a row (the card's portrait and the selfie,
        no OCR): CPU-s and page faults per check are what an allocator setting costs."""
        with self.worker.pool.checkout() as engines:
            for _ in range(10):
                extract_portrait_from_bytes(self.shots.document, engines.pipeline.encoder)
                engines.pipeline.encoder.sample(self.shots.selfie)
        self.stage(f"{tag}.ten")

    def together(self, tag: str) -> None:
        """One clip per engine and a card, all sent at once (the cluster bench's worst)."""
        jobs = [partial(self.clip, f"{tag}.clip{k}") for k in range(self.worker.pool.size)]
        jobs.append(partial(self.document, f"{tag}.document"))
        with ThreadPoolExecutor(len(jobs)) as threads:
            for future in [threads.submit(job) for job in jobs]:
                future.result()

    def run(self, name: str, tag: str) -> None:
        {"clip": self.clip, "document": self.document, "checks": self.checks,
         "together": self.together}[name](tag)


def measure(scenarios: Scenarios, name: str, rest: int) -> dict[str, object]:
    """One measured run of a scenario, then the trimmer (as after every engine checkout)."""
    scenarios.stages.clear()
    started, cpu, faults = time.perf_counter(), time.process_time(), minor_faults()
    with Sampler(alone=name != "together") as sampler:
        scenarios.sampler = sampler
        scenarios.run(name, name)
        scenarios.sampler = None
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    faults = minor_faults() - faults
    trimmed = scenarios.worker.trimmer()
    return {"peak_mb": mb(sampler.peak), "over_rest_mb": mb(sampler.peak - rest),
            "seconds": round(seconds, 2), "cpu_s": round(cpu, 2), "minor_faults": faults,
            "stages_mb": {stage: mb(value) for stage, value in scenarios.stages.items()},
            "trimmed": trimmed, "after_trim_mb": mb(resident_bytes())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="Settings for the worker (e.g. SIMKYC_WORKER_CORES=1).")
    parser.add_argument("--repeat", type=int, default=2, help="measured runs per scenario")
    args = parser.parse_args()
    os.environ.update(dict(item.split("=", 1) for item in args.env))
    settings = Settings()
    shots = make_shots(settings)
    worker = Worker.build(settings)
    loading_peak = vm_hwm()
    rest = worker.trimmer.settle()
    report: dict[str, object] = {"engines": worker.pool.size, "rest_mb": mb(rest),
                                 "loading_peak_mb": mb(loading_peak)}
    scenarios = Scenarios(worker, shots)
    for name in ("clip", "document", "checks", "together"):
        scenarios.run(name, "warm")  # not measured: the first run of each after loading
        worker.trimmer()
        for k in range(args.repeat):
            report[f"{name}#{k}"] = measure(scenarios, name, rest)
    report["whole_run_peak_mb"] = mb(vm_hwm())  # VmHWM: what the 2 ms sampler may miss
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
