"""Files from ../shared that tests need: missing ones fail the run in CI and skip elsewhere."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def require(path: Path, what: str) -> Path:
    """`path` if it exists; otherwise fail in CI (the data must be there) and skip elsewhere."""
    if not path.exists():
        message = f"{what} missing: {path}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path
