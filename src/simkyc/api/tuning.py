"""Per-process resource settings applied once at a worker's start, before any model loads:
how many threads its inference uses and how glibc's allocator keeps freed memory.

Why here and not at import: `simkyc serve --workers N` gives each worker a share of the
machine's cores (`worker_cores`), known only from the settings; importing a module must not
change the process.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from simkyc.config import Settings
from simkyc.memory import set_malloc_arena_max, set_malloc_mmap_threshold

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessTuning:
    """What was applied: the worker's cores, engines, threads per engine, malloc arenas and
    mmap threshold (kB; 0: glibc's own, adjusting itself)."""

    cores: int
    engines: int
    threads_per_engine: int
    malloc_arena_max: int
    malloc_mmap_threshold_kb: int


def tune_process(settings: Settings) -> ProcessTuning:
    """Size OpenCV's thread pool to one engine's share of the cores, cap glibc's malloc
    arenas and, if set, fix its mmap threshold (large buffers back to the system when freed).
    OpenCV's default is every CPU of the machine for each of the engines running at once:
    two workers of two engines on two cores could run eight OpenCV threads. ONNX Runtime's
    threads are set per session (`threads`, `ocr_threads`); MediaPipe's graphs run their
    own calculators. Thread counts do not change results (a /v1/faces/verify
    result and the card's OCR text checked identical with 1 and 2 threads)."""
    import cv2

    tuning = ProcessTuning(cores=settings.cores(), engines=settings.pool_size(),
                           threads_per_engine=settings.threads_per_engine(),
                           malloc_arena_max=settings.malloc_arena_max,
                           malloc_mmap_threshold_kb=settings.malloc_mmap_threshold_kb)
    cv2.setNumThreads(tuning.threads_per_engine)
    set_malloc_arena_max(tuning.malloc_arena_max)
    if tuning.malloc_mmap_threshold_kb:
        set_malloc_mmap_threshold(tuning.malloc_mmap_threshold_kb * 1024)
    logger.info("worker tuning: %s", tuning)
    return tuning
