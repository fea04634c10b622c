"""A worker's share of the cores: `serve --workers N` gives each worker cores / N, and the
engine pool, OCR and OpenCV threads follow from it (one worker sized for the whole machine,
N times over, is what kept two workers from scaling on two cores)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import cast

import cv2
import pytest
from typer.testing import CliRunner

from simkyc.api.tuning import tune_process
from simkyc.config import Settings
from simkyc.documents.ocr import CardReader
from simkyc.memory import (
    Trimmer,
    release_freed_memory,
    resident_bytes,
    set_malloc_arena_max,
    set_malloc_mmap_threshold,
)

MB = 2**20


def test_the_engines_and_their_threads_follow_the_worker_cores() -> None:
    one_core = Settings(worker_cores=1)
    assert (one_core.pool_size(), one_core.threads_per_engine()) == (1, 1)
    four = Settings(worker_cores=4)
    assert (four.pool_size(), four.threads_per_engine()) == (4, 1)  # one engine per core
    fewer_engines = Settings(worker_cores=4, engine_pool=2)
    assert fewer_engines.threads_per_engine() == 2  # each engine gets two of the four
    assert CardReader.from_settings(fewer_engines).threads == 2
    assert CardReader.from_settings(Settings(worker_cores=4, ocr_threads=3)).threads == 3
    assert Settings().cores() == len(os.sched_getaffinity(0))


def test_tuning_sizes_opencv_to_one_engines_share() -> None:
    before = cv2.getNumThreads()
    try:
        tuning = tune_process(Settings(worker_cores=2, engine_pool=1, malloc_arena_max=8))
        assert tuning.threads_per_engine == 2 and cv2.getNumThreads() == 2
        assert tuning.malloc_mmap_threshold_kb == 0  # the default: glibc's own threshold
        assert tune_process(Settings(malloc_mmap_threshold_kb=32768)).malloc_mmap_threshold_kb
        tune_process(Settings(worker_cores=2))
        assert cv2.getNumThreads() == 1
    finally:
        cv2.setNumThreads(before)


def test_the_allocator_settings_are_applied(caplog: pytest.LogCaptureFixture) -> None:
    set_malloc_arena_max(8)  # glibc's own default on a 1-core machine: harmless here
    set_malloc_mmap_threshold(256 * 1024)
    assert "not applied" not in caplog.text  # mallopt refused it, or no glibc


def test_a_trim_hands_freed_memory_back_only_past_the_margin() -> None:
    """~100 MB of 4 KB buffers, all but every 64th freed (so free() cannot give the heap's top
    back by itself): resident until a trim, which only the trimmer whose margin they passed
    does."""
    trimmer = Trimmer(margin_bytes=32 * MB)
    trimmer.settle()
    buffers = [b"x" * 4000 + bytes([i % 256]) for i in range(25_000)]
    kept = buffers[::64]  # holes between live buffers: only malloc_trim returns them
    del buffers
    assert resident_bytes() - trimmer.rest_bytes > 64 * MB  # freed, still resident
    patient = Trimmer(margin_bytes=2**40)
    patient.rest_bytes = trimmer.rest_bytes
    assert not patient()  # within its margin: kept for the next request
    assert trimmer()
    assert resident_bytes() - trimmer.rest_bytes < 32 * MB  # handed back
    assert not release_freed_memory(above_bytes=2**50) and kept


@pytest.mark.parametrize(("workers", "given", "expected"), [(2, None, "1"), (1, None, None),
                                                           (2, "2", "2")])
def test_serve_gives_each_worker_its_share_of_the_cores(
    monkeypatch: pytest.MonkeyPatch, workers: int, given: str | None, expected: str | None
) -> None:
    import uvicorn

    from simkyc.cli.main import app

    seen: dict[str, str | None] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: seen.update(
        cores=os.environ.get("SIMKYC_WORKER_CORES")))
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: {0, 1})
    environ = {k: v for k, v in os.environ.items() if k != "SIMKYC_WORKER_CORES"}
    if given is not None:
        environ["SIMKYC_WORKER_CORES"] = given
    monkeypatch.setattr(os, "environ", environ)  # what serve sets stays in this test
    result = CliRunner().invoke(app, ["serve", "--workers", str(workers)])
    assert result.exit_code == 0, result.output
    assert seen == {"cores": expected}


def test_serve_gives_busy_workers_time_to_answer_the_health_ping(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvicorn kills a worker that does not answer its ping within 5 s by default: on a loaded
    machine that killed workers loading their models or analysing a clip, over and over."""
    import uvicorn

    from simkyc.cli.main import app

    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: seen.update(k))
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items()
                                        if not k.startswith("SIMKYC_WORKER")})
    result = CliRunner().invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert seen["timeout_worker_healthcheck"] == 60


def test_serve_cpu_affinity_gives_each_worker_a_slot_of_its_own_cpus(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """`serve --workers 2 --cpu-affinity` on 2 CPUs: one slot per worker, one CPU each, named
    to the workers; the folder is gone after the server stops. The workers' BLAS pools get
    their cores too."""
    import uvicorn

    from simkyc.affinity import SLOTS_DIR
    from simkyc.cli.main import app

    seen: dict[str, object] = {}

    def run(*args: object, **kwargs: object) -> None:
        folder = Path(os.environ[SLOTS_DIR])
        seen["slots"] = [p.read_text() for p in sorted(folder.iterdir())]
        seen["folder"], seen["blas"] = folder, os.environ.get("OPENBLAS_NUM_THREADS")

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: {0, 1})
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items()
                                        if not k.startswith(("SIMKYC_", "OPENBLAS_"))})
    result = CliRunner().invoke(app, ["serve", "--workers", "2", "--cpu-affinity"])
    assert result.exit_code == 0, result.output
    assert seen["slots"] == ["0", "1"] and seen["blas"] == "1"
    assert not cast(Path, seen["folder"]).exists()
