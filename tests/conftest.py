"""Shared fixtures: settings built explicitly (never the developer's `.env`), evaluation data
(required in CI, skipped elsewhere), pipelines; and the `data` marker, put on every test that
reads ../shared (data or model weights) and refused under tests/unit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from settings_for_tests import ignore_env_file, isolate, make_settings
from shared_files import require

from simkyc.config import Settings
from simkyc.faces.pipeline import FaceEncoder, FacePipeline

UNIT = Path(__file__).parent / "unit"
# The fixtures that read SIMKYC_DATA_DIR or SIMKYC_MODELS_DIR (here and in
# tests/integration/liveness/conftest.py): a test using one, even through another fixture, is
# marked `data`. A test reading ../shared without them carries `pytestmark = pytest.mark.data`.
SHARED_FIXTURES = frozenset({
    "encoder", "pipeline", "examples", "headturn", "lfw_dir", "east_asian_dir",
    "minifasnet_dir", "anti_spoof", "silent_face_faces", "liveness_service",
})


def pytest_configure(config: pytest.Config) -> None:
    """Before any test module is imported: no `.env`, no stray SIMKYC_* variable."""
    isolate(os.environ)
    ignore_env_file()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if SHARED_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.data)
    in_unit = sorted(item.nodeid for item in items
                     if item.get_closest_marker("data") and item.path.is_relative_to(UNIT))
    if in_unit:
        raise pytest.UsageError("unit tests need no model weights or data; move these to "
                                f"tests/integration: {in_unit}")


def require_data(*parts: str) -> Path:
    """A path inside the evaluation data; missing data fails in CI and skips elsewhere."""
    return require(make_settings().data_dir.joinpath(*parts),
                   "evaluation data (set SIMKYC_DATA_DIR)")


@pytest.fixture(scope="session")
def settings() -> Settings:
    return make_settings()


@pytest.fixture(scope="session")
def encoder(settings: Settings) -> FaceEncoder:
    require_data()
    return FaceEncoder.from_settings(settings)


@pytest.fixture(scope="session")
def pipeline(settings: Settings) -> FacePipeline:
    require_data()
    return FacePipeline.from_settings(settings)


@pytest.fixture(scope="session")
def examples() -> Path:
    return require_data("faces-examples", "examples")


@pytest.fixture(scope="session")
def headturn() -> Path:
    return require_data("liveness", "headturn", "test.avi")


@pytest.fixture(scope="session")
def lfw_dir() -> Path:
    return require_data("lfw")


@pytest.fixture(scope="session")
def east_asian_dir() -> Path:
    return require_data("east-asian")
