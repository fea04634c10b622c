"""Evidence decoding of a real camera video (the head-turn clip in SIMKYC_DATA_DIR)."""

from __future__ import annotations

from pathlib import Path

import pytest

from simkyc.liveness.media import MediaLimits, decode_video

pytestmark = pytest.mark.data


def test_real_head_turn_video_is_downscaled_for_analysis(headturn: Path) -> None:
    frames = decode_video(headturn.read_bytes(), MediaLimits())
    assert max(frames[0].pixels.shape[:2]) == 640
