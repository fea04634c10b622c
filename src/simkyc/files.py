"""Reading the files a command is given, with the project's errors instead of OSError."""

from __future__ import annotations

from pathlib import Path

from simkyc.errors import InvalidImage, SimkycError


def read_input(path: Path, error: type[SimkycError] = InvalidImage) -> bytes:
    """The file's bytes, or `error` (a clear code and sentence) when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise error(f"Cannot read {path}: {exc.strerror}.") from exc
