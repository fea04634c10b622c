"""The web pages in Debian's Chromium (Playwright, no browser download), against the app served
by uvicorn on a SQLite registry with the real engines. The camera is a y4m file made at test
time: the head-turn video's first seconds, or a printed LFW photo swung in perspective. The
document is a SPECIMEN card whose portrait is the video's last frame, which the camera never
shows."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime
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
from simkyc.api.state import Services, utc_now
from simkyc.auth.models import Role
from simkyc.config import Settings
from simkyc.db.engine import create_db_engine, session_factory
from simkyc.db.migrate import upgrade
from simkyc.faces.detect import YuNetDetector
from simkyc.liveness.challenge import Action
from simkyc.liveness.media import MediaLimits, decode_video
from simkyc.registry import accounts
from simkyc.rules.profiles import JurisdictionProfile, default_profiles
from simkyc.synth.liveness_attacks import print_attack

# The head-turn video lasts 6.5 s as its decoder reads it (88 frames, irregular timestamps):
# she turns to her right (~0.6 s), to her left (~3.5 s), then faces the camera. The camera
# shows the first 4.5 s, looped; the card's portrait is the last frame, 2 s past that window.
CAMERA_SECONDS = 4.5


# A jurisdiction with a cap of one line per person per operator, to reach the cap cheaply.
PROFILES = {**default_profiles(),
            "ZZ": JurisdictionProfile(max_lines_per_operator=1, source="test: a cap of one")}


def _keys(url: str, now: datetime) -> dict[str, str]:
    """Operators with agents, reviewers and the portal's agent (CN), and a capped one (ZZ)."""
    engine = create_db_engine(url)
    upgrade(engine)
    keys = {}
    try:
        with session_factory(engine)() as db:
            for jurisdiction, names in (("CN", ("agent", "reviewer", "portal")),
                                        ("ZZ", ("capped_agent", "capped_reviewer"))):
                operator = accounts.create_operator(
                    db, name=f"Example Telecom {jurisdiction}", jurisdiction=jurisdiction,
                    profiles=PROFILES, now=now)
                for name in names:
                    role = Role.REVIEWER if name.endswith("reviewer") else Role.AGENT
                    principal = accounts.create_principal(db, role=role, label=name, now=now,
                                                          operator_id=operator.id)
                    keys[name] = accounts.issue_api_key(db, principal_id=principal.id,
                                                        now=now).token
    finally:
        engine.dispose()
    return keys


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The app on a free port, with a population whose calibration decides automatically."""
    require(CHROMIUM, "Debian's chromium")
    folder = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{folder / 'simkyc.db'}"
    keys = _keys(url, utc_now())
    settings = Settings(population="lfw", state_dir=folder, database_url=url,
                        jurisdiction_profiles=PROFILES,
                        web_portal_key=SecretStr(keys.pop("portal")))
    app = create_app(settings)
    with serve(app) as base:
        services: Services = app.state.services
        # TEST-ONLY: the challenge the video performs (turn right, then left), in its slots.
        services.book = ScriptedBook(ttl_s=settings.challenge_ttl_s)
        yield Site(url=base, services=services, keys=keys)


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
        card_zh=specimen_card(last, detector, seed=13),
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
