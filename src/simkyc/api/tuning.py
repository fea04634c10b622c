"""Per-process resource settings applied once at a worker's start, before any model loads:
how many threads its inference uses and how glibc's allocator keeps freed memory.

Why here and not at import: `simkyc serve --workers N` gives each worker a share of the
machine's cores (`worker_cores`), known only from the settings; importing a module must not
change the process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from dataclasses import dataclass

from simkyc.config import Settings

logger = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc malloc.h: mallopt parameter numbers
M_TRIM_THRESHOLD = -1


@dataclass(frozen=True)
class ProcessTuning:
    """What was applied: the worker's cores, engines, threads per engine, malloc arenas."""

    cores: int
    engines: int
    threads_per_engine: int
    malloc_arena_max: int | None


def tune_process(settings: Settings) -> ProcessTuning:
    """Size OpenCV's thread pool to one engine's share of the cores, and cap glibc's malloc
    arenas. OpenCV defaults to every core of the machine in each of the `engine_pool`
    threads running at once, so two workers on two cores would run four OpenCV threads each
    (measured: bench/cluster.py). ONNX Runtime's threads are per session (`threads`,
    `ocr_threads`), MediaPipe's graphs run their own calculators."""
    import cv2

    tuning = ProcessTuning(cores=settings.cores(), engines=settings.pool_size(),
                           threads_per_engine=settings.threads_per_engine(),
                           malloc_arena_max=settings.malloc_arena_max)
    cv2.setNumThreads(tuning.threads_per_engine)
    if tuning.malloc_arena_max is not None:
        _mallopt(M_ARENA_MAX, tuning.malloc_arena_max)
    logger.info("worker tuning: %s", tuning)
    return tuning


def release_freed_memory() -> None:
    """Give the pages of freed buffers back to the system (glibc malloc_trim): a proofing
    step frees tens of MB of decoded frames, which glibc would otherwise keep for reuse by
    the thread that freed them."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def _mallopt(parameter: int, value: int) -> None:
    libc = _libc()
    if libc is None or not libc.mallopt(parameter, value):
        logger.warning("mallopt(%d, %d) not applied (not glibc?)", parameter, value)


def _libc() -> ctypes.CDLL | None:
    """glibc, or None on a system without it (musl, macOS): the tuning is then skipped."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        _ = libc.mallopt, libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return libc
