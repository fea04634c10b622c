"""Evidence decoding: formats, caps and broken input, all as clear errors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from videos import encode

from simkyc.errors import InvalidMedia, MediaTooLarge
from simkyc.faces.decode import Decoder
from simkyc.liveness.media import MediaLimits, decode_frames, decode_video

LIMITS = MediaLimits()


def _frames(count: int, width: int = 64, height: int = 48) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (height, width, 3), dtype=np.uint8) for _ in range(count)]


@pytest.mark.parametrize(("fmt", "codec"), [("webm", "libvpx"), ("webm", "libvpx-vp9"),
                                            ("mp4", "libx264"), ("avi", "mjpeg")])
def test_browser_and_camera_formats_decode(fmt: str, codec: str) -> None:
    frames = decode_video(encode(_frames(30), fps=15, fmt=fmt, codec=codec), LIMITS)
    assert 25 <= len(frames) <= 30
    assert frames[0].pixels.shape == (48, 64, 3)
    assert frames[1].t > frames[0].t


def test_sampling_keeps_about_sample_fps() -> None:
    frames = decode_video(encode(_frames(60), fps=30), MediaLimits(sample_fps=10))
    assert 18 <= len(frames) <= 22


def test_empty_corrupt_and_wrong_container() -> None:
    with pytest.raises(InvalidMedia, match="empty"):
        decode_video(b"", LIMITS)
    with pytest.raises(InvalidMedia):
        decode_video(b"\x1a\x45\xdf\xa3 not really a webm" * 10, LIMITS)
    with pytest.raises(InvalidMedia):
        decode_video(b"%PDF-1.4 a document" * 100, LIMITS)


def test_truncated_video_keeps_what_decodes() -> None:
    data = encode(_frames(30), fmt="avi", codec="mjpeg")
    frames = decode_video(data[: len(data) // 2], LIMITS)
    assert 0 < len(frames) < 30


def test_ten_minute_video_is_refused() -> None:
    data = encode(_frames(600, 16, 16), fps=1)  # 10 minutes at 1 fps
    with pytest.raises(MediaTooLarge, match="s"):
        decode_video(data, LIMITS)


def test_8k_frames_are_refused_from_the_header() -> None:
    data = encode(_frames(1, 7680, 4320), fmt="avi", codec="mjpeg")
    with pytest.raises(MediaTooLarge, match="7680x4320"):
        decode_video(data, LIMITS)


def test_byte_cap() -> None:
    with pytest.raises(MediaTooLarge):
        decode_video(b"x" * 101, MediaLimits(max_bytes=100))


def test_jpeg_burst_with_timestamps() -> None:
    ok, encoded = cv2.imencode(".jpg", _frames(1, 320, 240)[0])
    assert ok
    photo = encoded.tobytes()
    frames = decode_frames([(photo, 10.2), (photo, 10.0), (photo, 10.1)], LIMITS,
                           Decoder(10**8, 10**8, 4000))
    assert [round(f.t, 1) for f in frames] == [0.0, 0.1, 0.2]
    with pytest.raises(InvalidMedia):
        decode_frames([], LIMITS, Decoder(10**8, 10**8, 4000))
    with pytest.raises(InvalidMedia, match="frame"):
        decode_frames([(b"junk", 0.0)], LIMITS, Decoder(10**8, 10**8, 4000))
