"""Helpers for the browser tests: the app served by uvicorn in a thread, Debian's Chromium with
a y4m file as its camera (made at test time, never committed), SPECIMEN card photos, and
screenshots saved with the boxes of the elements that show a real face."""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import httpx
import numpy as np
import uvicorn
from api_world import Api, Shots
from playwright.sync_api import Browser, Page, Playwright, expect

from simkyc.api.state import Services
from simkyc.faces.detect import YuNetDetector
from simkyc.synth.specimen import (
    DocumentKind,
    SpecimenData,
    portrait_from_photo,
    random_specimen,
    render_card,
)
from simkyc.synth.virtual_photo import Shot, photograph
from simkyc.types import Image

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "web"
# Elements whose pixels may show a real face (pixelated by scripts/web_screenshots.py).
FACE_ELEMENTS = ".camera video, img.face"
# Uploading the evidence and judging 5.5 s of video takes the server a few seconds on 2 cores.
JUDGED_MS = 90_000


@dataclass(frozen=True)
class Card:
    """A photo of a SPECIMEN card and the data printed on it."""

    jpeg: bytes
    data: SpecimenData


@dataclass(frozen=True)
class Site:
    """The served app; keys by name: agent, reviewer (CN), capped_agent, capped_reviewer (a
    jurisdiction capping one line per person per operator)."""

    url: str
    services: Services
    keys: dict[str, str]

    def shop(self, client: httpx.Client, inputs: Inputs, card: Card | None = None) -> Api:
        """The API as a shop's systems call it (no browser), with her card and a selfie."""
        document = (card or inputs.card).jpeg
        return Api(client=client, services=self.services, admin="",  # type: ignore[arg-type]
                   shots=Shots(document=document, selfie=inputs.selfie, video=b""))


@dataclass(frozen=True)
class Inputs:
    camera: Path  # the head-turn video's first seconds, y4m
    card: Card  # her card, portrait from the video's last frame
    card_zh: Card  # another card of hers, typed with the name in characters (zh-CN tests)
    selfie: bytes  # JPEG of the video's first frame, for the API-only steps of a test
    attack_camera: Path  # a printed LFW photo swung in perspective, y4m
    attack_card: Card  # the card of the person on that photo


def person(card: Card, *, chinese: bool = False) -> dict[str, str]:
    """The applicant data an agent types from `card` (the name in characters, as printed on
    a resident ID card, when `chinese`)."""
    data = card.data
    name = data.name_zh if chinese and data.name_zh else f"{data.surname} {data.given_names}"
    return {"number": data.number, "name": name,
            "birth_date": data.birth_date.isoformat(), "expiry": data.expiry_date.isoformat()}


def fill_applicant(page: Page, card: Card) -> None:
    """Type `card`'s data into the shared applicant fields (steps.html) of the page."""
    typed = person(card)
    page.get_by_label("Document number").fill(typed["number"])
    page.get_by_label("Full name, as printed").fill(typed["name"])
    page.get_by_label("Date of birth").fill(typed["birth_date"])
    page.get_by_label("Expiry date (valid until)").fill(typed["expiry"])


def specimen_card(face_rgb: Image, detector: YuNetDetector, seed: int) -> Card:
    """A CN SPECIMEN card carrying `face_rgb`'s face, photographed at a slight angle."""
    box = detector.detect(face_rgb)[0].box
    rng = np.random.default_rng(seed)
    data = random_specimen(rng, DocumentKind.CN_RESIDENT_ID)
    card = render_card(data, portrait_from_photo(face_rgb, box))
    photo = photograph(card, rng, shot=Shot(turn_deg=5.0, tilt_deg=10.0, glare=False))
    return Card(jpeg=photo.jpeg, data=data)


def y4m_from_video(video: Path, out: Path, *, seconds: float, fps: int = 15,
                   width: int = 640) -> Path:
    """The first `seconds` of `video` as constant-rate y4m, `width` pixels wide (Chromium's
    fake camera plays it at that rate, in a loop). Frames are placed by their timestamps,
    as the server's decoder reads them (the head-turn AVI's are irregular)."""
    with av.open(str(video)) as container:
        timed = [(float(f.time or 0.0), f.to_ndarray(format="rgb24"))
                 for f in container.decode(video=0)]
    start = timed[0][0]
    frames = []
    for k in range(round(seconds * fps)):
        rgb = [p for t, p in timed if t - start <= k / fps + 1e-6][-1]
        height = round(rgb.shape[0] * width / rgb.shape[1] / 2) * 2
        frames.append(cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA))
    return y4m_from_frames(frames, out, fps)


def y4m_from_frames(frames: list[Image], out: Path, fps: int = 15) -> Path:
    """RGB frames (even sizes) written as y4m, 4:2:0."""
    height, width = frames[0].shape[:2]
    with out.open("wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for rgb in frames:
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YUV_I420).tobytes())
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serve(app: object) -> Iterator[str]:
    """`app` on a free local port (lifespan run, so the engines are loaded); its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,  # type: ignore[arg-type]
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


@contextmanager
def chromium(playwright: Playwright, camera: Path) -> Iterator[Browser]:
    """Debian's Chromium, headless, with `camera` (y4m) as the webcam and the prompt accepted."""
    args = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            "--disable-dev-shm-usage",  # containers often have a small /dev/shm
            f"--use-file-for-fake-video-capture={camera}"]
    if os.geteuid() == 0:
        args.append("--no-sandbox")
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
    try:
        yield browser
    finally:
        browser.close()


class Screens:
    """Screenshots of each step into artifacts/web/, with the boxes of face elements."""

    def __init__(self, page: Page, prefix: str) -> None:
        self.page, self.prefix = page, prefix
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def shot(self, name: str) -> Path:
        path = ARTIFACTS / f"{self.prefix}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        boxes = {kind: self.boxes(selector) for kind, selector in (
            ("faces", FACE_ELEMENTS), ("ovals", ".camera.live .guide-face"),
            ("frames", ".camera.live .guide-card"),
            ("labels", ".camera.live .hint, .camera.live .prompt"))}
        path.with_suffix(".json").write_text(json.dumps(boxes))
        return path

    def boxes(self, selector: str) -> list[dict[str, float]]:
        """Page coordinates of the visible elements matching `selector`."""
        sx, sy = self.page.evaluate("[window.scrollX, window.scrollY]")
        found = (e.bounding_box() for e in self.page.query_selector_all(selector)
                 if e.is_visible())
        return [{**b, "x": b["x"] + sx, "y": b["y"] + sy} for b in found if b is not None]


def console_errors(page: Page) -> list[str]:
    """Collects the page's script errors and CSP violations as they happen."""
    errors: list[str] = []
    # Refused requests (a 422 for a selfie taken mid-turn) are the API speaking, not errors.
    page.on("console", lambda m: errors.append(m.text) if m.type == "error"
            and not m.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def take_selfie(page: Page) -> None:
    """Take the selfie; while she is turned away the server says so, and the agent (like
    this test) tries again a moment later (the camera's clip loops every 6 s)."""
    liveness = page.get_by_role("heading", name="Liveness check")
    for _ in range(12):
        page.get_by_role("button", name="Take the selfie").click()
        expect(page.locator("#selfie-shoot[aria-busy]")).to_have_count(0, timeout=30_000)
        if liveness.is_visible():
            return
        expect(page.locator("#alert")).to_contain_text("POOR_QUALITY")
        page.wait_for_timeout(500)
    raise AssertionError("no selfie accepted in 12 tries")


def prove(page: Page, card: Card, screens: Screens | None = None) -> None:
    """Card upload, selfie from the camera, the liveness challenge; ends on the decision."""
    expect(page.get_by_role("heading", name="Photo of the ID card")).to_be_visible()
    page.locator("#card-file").set_input_files(
        files=[{"name": "card.jpg", "mimeType": "image/jpeg", "buffer": card.jpeg}])
    expect(page.get_by_role("heading", name="Selfie")).to_be_visible(timeout=30_000)
    # The card's text was read and agrees with what was typed from it.
    expect(page.locator("#card-text")).to_contain_text("Document number: matches the card")
    expect(page.locator("#card-text")).to_contain_text("Date of birth: matches the card")
    expect(page.locator("#selfie-camera.live")).to_be_visible()
    if screens:
        screens.shot("3-selfie")
    take_selfie(page)
    page.get_by_role("button", name="Start the check").click()
    expect(page.locator("#prompt")).to_have_text(re.compile("1/2"), timeout=10_000)
    if screens:
        screens.shot("4-liveness")
    # A verdict other than live stays on the step; live goes on to the decision.
    judged = page.locator('#liveness-result:visible, body:not([data-step="liveness"])')
    expect(judged.first).to_be_attached(timeout=JUDGED_MS)


def line_from_a_shop(site: Site, inputs: Inputs, card: Card | None = None, *,
                     chinese: bool = False) -> dict[str, str]:
    """A line registered for her through the API (a reviewed session, no browser)."""
    card = card or inputs.card
    with httpx.Client(base_url=site.url, timeout=120) as client:
        api = site.shop(client, inputs, card)
        agent = site.keys["agent"]
        proofing_id = api.approved(agent, site.keys["reviewer"], person(card, chinese=chinese))
        response = api.line(agent, proofing_id)
        assert response.status_code == 201, response.text
        line: dict[str, str] = response.json()
        return line


def sign_in(page: Page, site: Site, agent: str = "agent") -> None:
    page.goto(f"{site.url}/web/agent")
    page.get_by_label("Your agent API key").fill(site.keys[agent])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="What does the customer need?")).to_be_visible()


def unlabelled_controls(page: Page) -> list[str]:
    """Form controls, hidden steps included, that no <label> names (file inputs count)."""
    found: list[str] = page.evaluate(
        """() => [...document.querySelectorAll("input, select, textarea")]
             .filter((el) => el.labels.length === 0 && !el.getAttribute("aria-label"))
             .map((el) => el.id || el.name || el.outerHTML)""")
    return found
