"""The API in-process on a real registry: SQLite and PostgreSQL (SIMKYC_TEST_POSTGRES_URL, as
in tests/integration/registry), real engines, real images from the head-turn video.

The app commits for real (no rolled-back transaction around a request), so each test builds
its own operators and applicants with fresh names and numbers instead.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parents[1] / "registry"))  # the scratch databases

from api_world import Api, ScriptedBook, Shots, shots_of
from registry_world import scratch_database

from simkyc.api.app import create_app
from simkyc.api.state import Services
from simkyc.auth.models import Role
from simkyc.config import Settings
from simkyc.registry import accounts


@pytest.fixture(scope="session")
def shots(headturn: Path) -> Shots:
    return shots_of(headturn.read_bytes())


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
        shots: Shots) -> Iterator[Api]:
    """One app per backend, with an admin key made directly in the registry (the bootstrap)."""
    folder = tmp_path_factory.mktemp("api")
    with scratch_database(request.param, folder) as url:
        # OCR off: the one card photo all tests share carries another specimen's data than
        # the applicants they type; test_api_card_text.py turns it on for its own cards.
        settings = Settings(population="lfw", state_dir=folder,
                            database_url=url, document_ocr=False)
        app = create_app(settings)
        with TestClient(app, raise_server_exceptions=False) as client:
            services: Services = app.state.services
            services.book = ScriptedBook(ttl_s=settings.challenge_ttl_s)  # test hook
            with services.sessions() as db:
                now = services.clock()
                admin = accounts.create_principal(db, role=Role.ADMIN, label="root", now=now)
                key = accounts.issue_api_key(db, principal_id=admin.id, now=now)
            yield Api(client=client, services=services, admin=key.token, shots=shots)
            services.engine.dispose()
