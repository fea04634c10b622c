"""Files from ../shared (and system packages) that tests need: a missing one fails the run in
CI and skips elsewhere; under tests/unit, asking for shared data or model weights at all fails.

Every skip in the test suite goes through `require` (a file) or `require_module` (a Python
package), so CI (CI=true) never passes with a part of the suite quietly skipped."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import pytest

_FORBIDDEN: list[Path] = []


def in_ci() -> bool:
    """CI=true (or any non-empty value but 0/false): missing files fail instead of skipping."""
    return os.environ.get("CI", "").lower() not in {"", "0", "false"}


def missing(message: str) -> None:
    """Fail in CI, skip elsewhere: the one place a test may give up for want of something."""
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def require(path: Path, what: str) -> Path:
    """`path` if it exists; otherwise fail in CI (the data must be there) and skip elsewhere.
    A path inside a forbidden folder (the unit tests' empty data and models folders) always
    fails: unit tests need no model weights or data."""
    resolved = path.resolve()
    for root in _FORBIDDEN:
        if resolved.is_relative_to(root):
            pytest.fail(f"{what} asked for by a unit test ({path}): unit tests need no model "
                        "weights or data; move the test to tests/integration and mark it `data`")
    if not path.exists():
        missing(f"{what} missing: {path}")
    return path


def require_module(name: str, what: str) -> ModuleType:
    """The imported module `name`; if it is not installed, fail in CI and skip elsewhere."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        missing(f"{what} not installed ({error})")
        raise  # unreachable: missing() fails or skips


@contextmanager
def forbidden(*roots: Path) -> Iterator[None]:
    """Within the block, `require` of anything under `roots` fails whatever CI says."""
    added = [root.resolve() for root in roots]
    _FORBIDDEN.extend(added)
    try:
        yield
    finally:
        for root in added:
            _FORBIDDEN.remove(root)
