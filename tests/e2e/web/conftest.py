"""The web pages in Debian's Chromium (Playwright, no browser download), against the app served
by uvicorn on a SQLite registry with the real engines. The camera is a y4m file made at test
time: the head-turn video's first seconds, or a printed LFW photo swung in perspective. The
document is a SPECIMEN card whose portrait is the video's last frame, which the camera never
shows."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import SecretStr
from shared_files import require

sys.path.insert(0, str(Path(__file__).parents[2] / "integration" / "registry"))
sys.path.insert(0, str(Path(__file__).parents[2] / "integration" / "api"))  # ScriptedBook

from api_world import ScriptedBook
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from web_world import (
    CHROMIUM,
    Inputs,
    Site,
    chromium,
    serve,
    specimen_card,
    y4m_from_frames,
    y4m_from_video,
)

from simkyc.api.app import create_app
from simkyc.api.state import Services
from simkyc.config import Settings
from simkyc.db.engine import create_db_engine, session_factory
from simkyc.db.migrate import upgrade
from simkyc.faces.detect import YuNetDetector
from simkyc.liveness.challenge import Action
from simkyc.liveness.media import MediaLimits, decode_video
from simkyc.liveness.synthetic import print_attack
from simkyc.registry import accounts
from simkyc.registry.models import Role

# The head-turn video lasts 6.5 s as its decoder reads it (88 frames, irregular timestamps):
# she turns to her right (~0.6 s), to her left (~3.5 s), then faces the camera. The camera
# shows the first 4.5 s, looped; the card's portrait is the last frame, 2 s past that window.
CAMERA_SECONDS = 4.5


def _keys(url: str, now: object) -> tuple[str, str, str]:
    """An operator with an agent, a reviewer and the portal's agent; their keys."""
    engine = create_db_engine(url)
    upgrade(engine)
    settings = Settings()
    try:
        with session_factory(engine)() as db:
            operator = accounts.create_operator(db, name="Example Telecom", jurisdiction="CN",
                                                profiles=settings.jurisdiction_profiles,
                                                now=now)  # type: ignore[arg-type]
            keys = []
            for role, label in ((Role.AGENT, "store-001"), (Role.REVIEWER, "review-1"),
                                (Role.AGENT, "portal")):
                principal = accounts.create_principal(db, role=role, label=label, now=now,  # type: ignore[arg-type]
                                                      operator_id=operator.id)
                keys.append(accounts.issue_api_key(db, principal_id=principal.id,
                                                   now=now).token)  # type: ignore[arg-type]
    finally:
        engine.dispose()
    return keys[0], keys[1], keys[2]


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The app on a free port, with a population whose calibration decides automatically."""
    require(CHROMIUM, "Debian's chromium")
    from simkyc.api.state import utc_now

    folder = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{folder / 'simkyc.db'}"
    agent, reviewer, portal = _keys(url, utc_now())
    settings = Settings(population="lfw", fnmr_target=0.1, state_dir=folder, database_url=url,
                        web_portal_key=SecretStr(portal))
    app = create_app(settings)
    with serve(app) as base:
        services: Services = app.state.services
        # TEST-ONLY: the challenge the video performs (turn right, then left), in its slots.
        services.liveness.book = ScriptedBook(ttl_s=settings.challenge_ttl_s)
        yield Site(url=base, services=services, agent_key=agent, reviewer_key=reviewer)


@pytest.fixture(scope="session")
def inputs(headturn: Path, lfw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    folder = tmp_path_factory.mktemp("camera")
    detector = YuNetDetector(Settings().models_dir / "yunet" / "face_detection_yunet_2023mar.onnx")
    frames = decode_video(headturn.read_bytes(), MediaLimits())
    first, last = frames[0].pixels, frames[-1].pixels
    photo_path = sorted((lfw_dir / "images_deepfunneled").glob("*/*.jpg"))[0]
    photo = np.ascontiguousarray(cv2.imread(str(photo_path))[..., ::-1])
    attack = print_attack(photo, (Action.TURN_RIGHT, Action.TURN_LEFT), seed=3, duration_s=6.0)
    return Inputs(
        camera=y4m_from_video(headturn, folder / "headturn.y4m", seconds=CAMERA_SECONDS),
        card=specimen_card(last, detector, seed=11),
        selfie=bytes(cv2.imencode(".jpg", first[..., ::-1])[1].tobytes()),
        attack_camera=y4m_from_frames([f.pixels for f in attack], folder / "print.y4m"),
        attack_card=specimen_card(photo, detector, seed=12),
    )


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright, inputs: Inputs) -> Iterator[Browser]:
    """One Chromium for the session, the head-turn video as its camera."""
    with chromium(playwright, inputs.camera) as browser:
        yield browser


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 412, "height": 900})  # a phone
    yield context.new_page()
    context.close()
