"""Unit tests need no model weights or data: for every unit test SIMKYC_DATA_DIR and
SIMKYC_MODELS_DIR name empty folders, the `settings` fixture names them too, and asking for
a file under them through `require` fails (never skips), in CI and on a laptop alike. A test
that needs ../shared belongs in tests/integration, marked `data` (tests/conftest.py refuses
a `data` test under tests/unit)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from settings_for_tests import make_settings
from shared_files import forbidden

from simkyc.config import Settings


@pytest.fixture(scope="session")
def no_shared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An empty data folder and an empty models folder."""
    root = tmp_path_factory.mktemp("no-shared")
    (root / "data").mkdir()
    (root / "models").mkdir()
    return root / "data", root / "models"


@pytest.fixture(scope="module", autouse=True)
def without_shared_files(no_shared: tuple[Path, Path]) -> Iterator[None]:
    data, models = no_shared
    with pytest.MonkeyPatch.context() as patch, forbidden(data, models):
        patch.setenv("SIMKYC_DATA_DIR", str(data))
        patch.setenv("SIMKYC_MODELS_DIR", str(models))
        yield


@pytest.fixture(scope="session")
def settings(no_shared: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
             ) -> Settings:
    data, models = no_shared
    return make_settings(data_dir=data, models_dir=models,
                         state_dir=tmp_path_factory.mktemp("state"))
