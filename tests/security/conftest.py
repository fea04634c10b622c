"""The adversarial suite runs on the API tests' world: the same app per backend (SQLite and
PostgreSQL), the same shots, the same helpers (tests/integration/api), imported from there
rather than copied."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_INTEGRATION = Path(__file__).parents[1] / "integration"
for _folder in ("api", "registry"):
    if str(_INTEGRATION / _folder) not in sys.path:
        sys.path.insert(0, str(_INTEGRATION / _folder))


def _module(name: str, path: Path) -> object:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_api_fixtures = _module("security_api_fixtures", _INTEGRATION / "api" / "conftest.py")
api = _api_fixtures.api  # type: ignore[attr-defined]
shots = _api_fixtures.shots  # type: ignore[attr-defined]
