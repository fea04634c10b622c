"""What every benchmark does before importing numpy, cv2 or onnxruntime: one thread per pool,
and optionally one CPU, so the figures compare like with like on a shared machine."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "BLIS_NUM_THREADS",
    "SIMKYC_THREADS",
)


def single_threaded() -> None:
    """One thread per pool (must run before numpy, cv2 or onnxruntime are imported)."""
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's start-up chatter


def pin_to_one_core(heavy_modules: Sequence[str]) -> int:
    """Run on one CPU with one thread per pool; refuses if a heavy module came first."""
    already = [name for name in heavy_modules if name in sys.modules]
    if already:
        raise RuntimeError(f"Imported before pinning: {', '.join(already)}.")
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    single_threaded()
    return cpu
