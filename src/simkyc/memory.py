"""glibc's allocator, from Python: cap its arenas and hand freed pages back to the system.

A worker decodes tens of MB of video frames and images per request in whichever thread runs
it; glibc keeps what is freed in that thread's arena for reuse, so a worker's resident set
grows after a burst of requests and stays there (measured with bench/cluster.py). Both calls
are no-ops where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import logging
from functools import cache

logger = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc malloc.h: mallopt's parameter number


def set_malloc_arena_max(arenas: int) -> None:
    """At most *arenas* malloc arenas in this process (glibc's default: 8 per core)."""
    libc = _libc()
    if libc is None or not libc.mallopt(M_ARENA_MAX, arenas):
        logger.warning("mallopt(M_ARENA_MAX, %d) not applied (not glibc?)", arenas)


def release_freed_memory() -> None:
    """Give the pages of freed buffers back to the system (glibc malloc_trim): a proofing
    step frees tens of MB of decoded frames, which glibc would otherwise keep for reuse by
    the thread that freed them."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


@cache
def _libc() -> ctypes.CDLL | None:
    """glibc, or None on a system without it (musl, macOS): the tuning is then skipped."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        _ = libc.mallopt, libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return libc
