"""Finding 6: a 1x4000 PNG of 89 bytes gave a 500 on every image endpoint (a resize with a
zero scale). Degenerate images are INVALID_IMAGE; no image of any size, mode or truncation
gives a server error on any image endpoint."""

from __future__ import annotations

import io
from typing import Any

import pytest
from api_world import Api, applicant
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

ENDPOINTS = ("verify", "document", "portrait", "selfie", "stills")
_sessions: dict[int, tuple[str, str]] = {}


def _png(width: int, height: int, mode: str = "RGB", fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), 128 if mode in {"L", "P", "1", "I;16"} else None
              ).save(out, format=fmt)
    return out.getvalue()


def _session(api: Api) -> tuple[str, str]:
    """An agent and a pending session of theirs, one per app."""
    if id(api) not in _sessions:
        agent = api.staff("agent", api.operator())
        _sessions[id(api)] = (agent, api.start(agent, applicant()))
    return _sessions[id(api)]


def post_image(api: Api, endpoint: str, image: bytes) -> Any:
    """Send `image` to one image endpoint the way its clients do."""
    agent, proofing_id = _session(api)
    base = f"/v1/proofing-sessions/{proofing_id}"
    if endpoint == "verify":
        files = {"document": ("d.png", image, "image/png"), "selfie": ("s.png", image, "image/png")}
        return api.call("POST", "/v1/faces/verify", api.admin, files=files)
    if endpoint == "stills":
        # An open challenge's nonce (the flow checks it before it decodes a frame), on a
        # session and person of its own: failed answers count towards liveness lockouts.
        base = f"/v1/proofing-sessions/{api.start(agent, applicant())}"
        nonce = api.ok("POST", f"{base}/liveness-challenges", agent)["nonce"]
        return api.call("POST", f"{base}/liveness", agent, data={"nonce": nonce},
                        files=[("stills", ("a.png", image, "image/png"))] * 2)
    data = {"source": "portrait"} if endpoint == "portrait" else {}
    kind = "selfie" if endpoint == "selfie" else "document"
    return api.call("POST", f"{base}/{kind}", agent, data=data,
                    files={"image": ("i.png", image, "image/png")})


@pytest.mark.parametrize("size", [(1, 4000), (4000, 1), (1, 1), (3, 2000), (2000, 40)])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_degenerate_images_are_invalid_image_not_a_server_error(
    api: Api, endpoint: str, size: tuple[int, int]
) -> None:
    response = post_image(api, endpoint, _png(*size))
    assert response.status_code == 400, response.text
    # The liveness endpoint reports its evidence as media, whatever the frame's fault.
    assert response.json()["error"]["code"] == (
        "INVALID_MEDIA" if endpoint == "stills" else "INVALID_IMAGE")
    assert "pixels" in response.json()["error"]["message"]


_MODES = st.sampled_from(["1", "L", "P", "RGB", "RGBA", "LA", "I;16", "CMYK"])
_FORMATS = st.sampled_from(["PNG", "BMP", "JPEG", "WEBP"])


def _encoded(width: int, height: int, mode: str, fmt: str) -> bytes:
    image = Image.new(mode, (width, height))
    try:
        out = io.BytesIO()
        image.save(out, format=fmt)
    except (OSError, ValueError, KeyError):  # this format cannot carry this mode
        out = io.BytesIO()
        image.convert("RGB").save(out, format=fmt)
    return out.getvalue()


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(size=st.tuples(st.integers(1, 2400), st.integers(1, 2400)),
       kind=st.tuples(_MODES, _FORMATS), keep=st.floats(0.0, 1.0),
       endpoint=st.sampled_from(ENDPOINTS))
def test_no_image_gives_a_server_error(
    api: Api, size: tuple[int, int], kind: tuple[str, str], keep: float, endpoint: str
) -> None:
    data = _encoded(*size, *kind)
    truncated = data[: max(1, round(len(data) * keep))] if keep < 1.0 else data
    response = post_image(api, endpoint, truncated)
    assert response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/json")
    if response.status_code >= 400:
        assert response.json()["error"]["code"] and response.json()["error"]["message"]
