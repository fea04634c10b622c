"""Shared fixtures: settings, evaluation data (required in CI, skipped elsewhere), pipelines."""

from __future__ import annotations

from pathlib import Path

import pytest
from shared_files import require

from simkyc.config import Settings, get_settings
from simkyc.faces.pipeline import FaceEncoder, FacePipeline


def require_data(*parts: str) -> Path:
    """A path inside the evaluation data; missing data fails in CI and skips elsewhere."""
    return require(get_settings().data_dir.joinpath(*parts),
                   "evaluation data (set SIMKYC_DATA_DIR)")


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


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
