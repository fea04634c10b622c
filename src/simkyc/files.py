"""Reading the files a command is given, with the project's errors instead of OSError; and
writing a derived file (a converted model) so that no reader ever sees half of it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from simkyc.errors import InvalidImage, SimkycError


def read_input(path: Path, error: type[SimkycError] = InvalidImage) -> bytes:
    """The file's bytes, or `error` (a clear code and sentence) when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise error(f"Cannot read {path}: {exc.strerror}.") from exc


def write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """`write` into a temporary file beside `target`, then rename it onto `target`: a failed
    write leaves nothing, and processes converting the same model at once (one per worker)
    each write their own temporary file (named by process id), never one shared file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    try:
        write(partial)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
