"""glibc's allocator, from Python: cap its arenas and hand freed pages back to the system.

A worker decodes tens of MB of video frames and images per request in whichever thread runs
it; glibc keeps what is freed in that thread's arena for reuse, so a worker's resident set
grows after a burst of requests and stays there (measured with bench/cluster.py). Both calls
are no-ops where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import logging
import os
from functools import cache
from pathlib import Path

logger = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc malloc.h: mallopt's parameter numbers
M_MMAP_THRESHOLD = -3


def set_malloc_arena_max(arenas: int) -> None:
    """At most *arenas* malloc arenas in this process (glibc's default: 8 per core)."""
    libc = _libc()
    if libc is None or not libc.mallopt(M_ARENA_MAX, arenas):
        logger.warning("mallopt(M_ARENA_MAX, %d) not applied (not glibc?)", arenas)


def set_malloc_mmap_threshold(size_bytes: int) -> None:
    """Serve every allocation of *size_bytes* or more with its own mmap, returned to the system
    when freed. glibc's default starts at 128 kB but raises itself (up to 32 MB) each time
    such a block is freed, so after the first request a clip's 0.7 MB frames and the
    images' buffers come from the heap arenas, which keep them once freed. A fixed
    threshold also turns the adjustment off (mallopt(3)). Measured with
    bench/memory_peak.py: 256 kB lowers a worker's peak by ~130 MB, but every such buffer's
    pages are then faulted in afresh: a card check (portrait + selfie) costs 0.33 instead
    of 0.25 CPU-s (36,000 minor faults), so it is off unless set
    (SIMKYC_MALLOC_MMAP_THRESHOLD_KB)."""
    libc = _libc()
    if libc is None or not libc.mallopt(M_MMAP_THRESHOLD, size_bytes):
        logger.warning("mallopt(M_MMAP_THRESHOLD, %d) not applied (not glibc?)", size_bytes)


PAGE = os.sysconf("SC_PAGE_SIZE")
STATM = Path("/proc/self/statm")


def resident_bytes() -> int:
    """This process's resident set now (/proc/self/statm, one short read)."""
    return int(STATM.read_bytes().split()[1]) * PAGE


def release_freed_memory(above_bytes: int = 0) -> bool:
    """Give the pages of freed buffers back to the system (glibc malloc_trim) if the resident
    set is over *above_bytes*: a clip's decoded frames are tens of MB, which glibc would
    otherwise keep for reuse by whichever thread freed them. Not after every call: the
    next request faults the pages back in (measured: a /v1/faces/verify frees ~30 MB,
    7,500 page faults and +0.015 CPU-s on a 0.09 s call after each trim). True if trimmed."""
    libc = _libc()
    if libc is None or resident_bytes() <= above_bytes:
        return False
    libc.malloc_trim(0)
    return True


class Trimmer:
    """Trims when the resident set has grown more than *margin_bytes* over its size at rest
    (recorded by `settle`, once the models are loaded): the ~60 MB a /v1/faces/verify leaves
    free stays for the next one, a clip's ~100-200 MB goes back."""

    def __init__(self, margin_bytes: int) -> None:
        self.margin_bytes = margin_bytes
        self.rest_bytes = 0

    def settle(self) -> int:
        """Trim now and take the resident set as the size at rest; returns it."""
        release_freed_memory()
        self.rest_bytes = resident_bytes()
        return self.rest_bytes

    def __call__(self) -> bool:
        """Trim if over rest + margin; True if trimmed."""
        return release_freed_memory(self.rest_bytes + self.margin_bytes)


@cache
def _libc() -> ctypes.CDLL | None:
    """glibc, or None on a system without it (musl, macOS): the tuning is then skipped."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        _ = libc.mallopt, libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return libc
