"""The API in-process on a real registry: SQLite and PostgreSQL (SIMKYC_TEST_POSTGRES_URL, as
in tests/integration/registry), real engines, real images from the head-turn video.

The app commits for real (no rolled-back transaction around a request), so each test builds
its own operators and applicants with fresh names and numbers instead.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parents[1] / "registry"))  # the scratch databases

from api_world import Api, ScriptedBook, Shots
from registry_world import scratch_database

from simkyc.api.app import create_app
from simkyc.api.state import Services
from simkyc.config import Settings
from simkyc.documents.specimen import (
    DocumentKind,
    portrait_from_photo,
    random_specimen,
    render_card,
)
from simkyc.documents.virtual_photo import Shot, photograph
from simkyc.faces.detect import YuNetDetector
from simkyc.liveness.media import MediaLimits, decode_video
from simkyc.registry import accounts
from simkyc.registry.models import Role


def _jpeg(pixels: object) -> bytes:
    ok, encoded = cv2.imencode(".jpg", pixels[..., ::-1])  # type: ignore[index]
    assert ok
    return bytes(encoded.tobytes())


@pytest.fixture(scope="session")
def shots(headturn: Path) -> Shots:
    """The document: a SPECIMEN card carrying the first frame's portrait, photographed
    virtually at an angle; a frontal selfie (last frame); the video."""
    video = headturn.read_bytes()
    frames = decode_video(video, MediaLimits())
    first = frames[0].pixels
    face = YuNetDetector(Settings().models_dir / "yunet" / "face_detection_yunet_2023mar.onnx")
    box = face.detect(first)[0].box
    rng = np.random.default_rng(5)
    card = render_card(random_specimen(rng, DocumentKind.CN_RESIDENT_ID),
                       portrait_from_photo(first, box))
    photo = photograph(card, rng, shot=Shot(turn_deg=8.0, tilt_deg=15.0, glare=False))
    return Shots(document=photo.jpeg, selfie=_jpeg(frames[-1].pixels), video=video)


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
