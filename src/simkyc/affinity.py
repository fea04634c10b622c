"""Each worker of `simkyc serve --workers N --cpu-affinity` on its own set of CPUs.

A worker configured for K cores (`worker_cores`) sizes its engines and thread pools for K,
but the kernel still spreads its threads (the engine, the video decoder's threads, the
card's OCR, the event loop) over every CPU, so one worker of one core kept 1.7 of 2 cores
busy (bench/cluster.py, notes of 2026-12-05) and a second worker found little left. With
affinity, worker i runs on CPU set i: what it computes is
unchanged (thread counts do not change results), only where it runs. Worker i gets K
(`worker_cores`) CPUs of its own, so `--workers 1` with `SIMKYC_WORKER_CORES=1` is one
worker on one core, the unit N of them multiply.

How a worker learns its i: uvicorn starts (and restarts) workers without an index, so
`serve` writes one file per set into a private folder, and each worker takes the first it
can lock (`flock`, held for the worker's life). A worker that dies releases its lock with
its process, and the worker started in its place takes the same set.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

logger = logging.getLogger(__name__)

SLOTS_DIR: Final = "SIMKYC_SERVE_CPU_SLOTS"
"""The environment variable naming the folder of CPU sets (set by `simkyc serve`)."""


def available_cpus() -> tuple[int, ...]:
    """The CPUs this process may run on, in order (all of them where the OS cannot say)."""
    try:
        return tuple(sorted(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return tuple(range(os.cpu_count() or 1))


def core_sets(cpus: Sequence[int], workers: int, cores_each: int) -> list[tuple[int, ...]]:
    """`workers` sets of `cores_each` consecutive CPUs of `cpus` (worker i from CPU
    i x cores_each on), wrapping round when the workers ask for more CPUs than there are."""
    if workers <= 0 or cores_each <= 0 or not cpus:
        raise ValueError("core_sets needs a worker, a core per worker and a CPU")
    each = min(cores_each, len(cpus))
    return [tuple(cpus[(i * each + j) % len(cpus)] for j in range(each))
            for i in range(workers)]


def write_slots(directory: Path, sets: Sequence[Sequence[int]]) -> None:
    """One file per worker slot, holding its CPUs ("0,1")."""
    for i, cpus in enumerate(sets):
        (directory / f"slot-{i:03d}").write_text(",".join(map(str, cpus)))


@dataclass(frozen=True)
class Claim:
    """A worker's slot: the open, locked file descriptor (left open for the process's life:
    closing it would free the slot) and its CPUs."""

    fd: int
    slot: int
    cpus: tuple[int, ...]


def claim_slot(directory: Path) -> Claim | None:
    """Lock the first free slot in `directory`; None when every slot is taken."""
    import fcntl  # POSIX only: imported where a slot is claimed, not with the app

    for i, path in enumerate(sorted(directory.glob("slot-*"))):
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        cpus = tuple(int(c) for c in path.read_text().split(","))
        return Claim(fd, i, cpus)
    return None


def pin_process(cpus: Sequence[int]) -> None:
    """Every thread of this process on `cpus`. sched_setaffinity(0) moves only the calling
    thread; threads started later inherit their creator's set, so the existing ones (the
    event loop's, a loader's) are each moved by their thread id."""
    for task in Path("/proc/self/task").iterdir():
        try:
            os.sched_setaffinity(int(task.name), cpus)
        except (ProcessLookupError, FileNotFoundError):  # the thread ended meanwhile
            continue


def pin_worker_from_environment() -> Claim | None:
    """In a worker of `serve --cpu-affinity`: claim a slot and run on its CPUs. Elsewhere
    (no slots folder in the environment, or not Linux): nothing."""
    directory = os.environ.get(SLOTS_DIR)
    if not directory or not hasattr(os, "sched_setaffinity"):
        return None
    claim = claim_slot(Path(directory))
    if claim is None:
        logger.warning("cpu affinity: every slot in %s is taken; this worker is not pinned",
                       directory)
        return None
    pin_process(claim.cpus)  # the slot's fd is never closed: its lock lasts the process
    logger.info("cpu affinity: worker slot %d on CPUs %s", claim.slot, claim.cpus)
    return claim
