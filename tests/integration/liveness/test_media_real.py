"""Evidence decoding of a real camera video (the head-turn clip in SIMKYC_DATA_DIR)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from simkyc.liveness.media import Frame, MediaLimits, decode_video

pytestmark = pytest.mark.data


def test_real_head_turn_video_is_downscaled_for_analysis(headturn: Path) -> None:
    frames = decode_video(headturn.read_bytes(), MediaLimits())
    assert max(frames[0].pixels.shape[:2]) == 640


def _fingerprint(frames: list[Frame]) -> str:
    """Every sampled frame's time, source index and pixels, hashed."""
    digest = hashlib.sha256()
    for frame in frames:
        digest.update(f"{frame.t!r} {frame.index}".encode())
        digest.update(frame.pixels.tobytes())
    return digest.hexdigest()


def test_the_decoded_frames_do_not_depend_on_the_decoding_threads(headturn: Path) -> None:
    """A worker decodes on its share of the cores (MediaLimits.decode_threads): the frames it
    analyses are bit for bit those FFmpeg's own thread count gives, on the head-turn clip
    (H.264) and a ZJU eye-blink clip (AVI)."""
    blink = next(iter(sorted((headturn.parents[1] / "zju-eyeblink" / "clips").rglob("*.avi"))))
    for clip in (headturn, blink):
        data = clip.read_bytes()
        prints = {_fingerprint(decode_video(data, MediaLimits(decode_threads=threads)))
                  for threads in (0, 1, 2)}
        assert len(prints) == 1, clip
