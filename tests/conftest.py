"""Shared fixtures: settings, evaluation data (required in CI, skipped elsewhere), pipelines."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from simkyc.config import Settings, get_settings
from simkyc.faces.pipeline import FaceEncoder, FacePipeline


def _data_dir() -> Path:
    return get_settings().data_dir


def require_data(*parts: str) -> Path:
    """A path inside the evaluation data; missing data fails in CI and skips elsewhere."""
    path = _data_dir().joinpath(*parts)
    if not path.exists():
        message = f"evaluation data missing: {path} (set SIMKYC_DATA_DIR)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


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
