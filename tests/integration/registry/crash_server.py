"""The real app for test_crash, built from SIMKYC_* environment variables:
`python -m uvicorn crash_server:app --factory --app-dir <this folder>`."""

from __future__ import annotations

from fastapi import FastAPI

from simkyc.api.app import create_app
from simkyc.config import get_settings


def app() -> FastAPI:
    """create_app with the settings of the environment (the test sets them)."""
    return create_app(get_settings())
