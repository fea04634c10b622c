"""Evidence in: a short video or a burst of JPEG frames -> timed RGB frames, within caps.

Videos are decoded from memory with PyAV (FFmpeg): WebM/VP8/VP9 from a browser's
MediaRecorder, MP4/H.264, AVI/MJPEG. Nothing is written to disk.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from simkyc.errors import InvalidImage, InvalidMedia, MediaTooLarge
from simkyc.faces.decode import Decoder
from simkyc.types import Image


@dataclass(frozen=True)
class Frame:
    """One analysed frame: seconds from the start, its index in the source, RGB pixels."""

    t: float
    index: int
    pixels: Image


@dataclass(frozen=True)
class MediaLimits:
    """Caps on what a client may send, and how frames are sampled for analysis."""

    max_bytes: int = 25_000_000
    max_duration_s: float = 20.0
    max_frames: int = 600
    max_side: int = 4096
    analysis_side: int = 640
    sample_fps: float = 15.0
    # FFmpeg's decoding threads; 0: its own choice, every CPU of the machine (plus one).
    # Each thread keeps frames in flight (~7 MB each at 2880x1620): a one-core worker
    # decoding on three threads held ~60 MB more and used more cores than it was given.
    # The decoded frames are the same whatever the count (checked: tests/integration/liveness).
    decode_threads: int = 0


def decode_video(data: bytes, limits: MediaLimits) -> list[Frame]:
    """Decode a video from memory, sampling about `sample_fps` frames per second."""
    _check_bytes(data, limits)
    import av

    try:
        container = av.open(io.BytesIO(data), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, ValueError, OSError, UnicodeDecodeError) as exc:
        raise InvalidMedia("The video cannot be read (WebM, MP4 or AVI expected).") from exc
    with container:
        if not container.streams.video:
            raise InvalidMedia("The file has no video stream.")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame and slice threads: decoding is a third of the time
        stream.codec_context.thread_count = limits.decode_threads
        _check_stream(stream, container, limits)
        frames = list(_sampled(container, stream, limits))
    if not frames:
        raise InvalidMedia("The video holds no decodable frame.")
    return frames


def _check_bytes(data: bytes, limits: MediaLimits) -> None:
    """Empty or over the byte cap."""
    if not data:
        raise InvalidMedia("The evidence is empty (0 bytes).")
    if len(data) > limits.max_bytes:
        raise MediaTooLarge(f"The video is {len(data):,} bytes; the limit is {limits.max_bytes:,}.")


def _check_stream(stream: Any, container: Any, limits: MediaLimits) -> None:
    """Refuse from the header what is too long or too large, before decoding."""
    width, height = stream.codec_context.width or 0, stream.codec_context.height or 0
    if max(width, height) > limits.max_side:
        raise MediaTooLarge(f"The video is {width}x{height}; the limit is {limits.max_side} px.")
    if container.duration is not None and container.duration / 1e6 > limits.max_duration_s:
        raise MediaTooLarge(
            f"The video lasts {container.duration / 1e6:.0f} s; the limit is "
            f"{limits.max_duration_s:.0f} s."
        )


def _sampled(container: Any, stream: Any, limits: MediaLimits) -> Iterator[Frame]:
    """Frames at about sample_fps, resized to the analysis size while converting."""
    import av

    last_slot, start, decoded = -1, None, 0
    try:
        for frame in container.decode(stream):
            decoded += 1
            t = float(frame.time) if frame.time is not None else decoded / 30.0
            start = t if start is None else start
            t -= start
            if t > limits.max_duration_s or decoded > limits.max_frames * 4:
                raise MediaTooLarge(f"The video is longer than {limits.max_duration_s:.0f} s.")
            slot = round(t * limits.sample_fps)  # one frame per 1/sample_fps time slot
            if slot != last_slot:
                last_slot = slot
                yield Frame(t, decoded - 1, _resized(frame, limits.analysis_side))
    except av.error.FFmpegError as exc:
        if decoded == 0:
            raise InvalidMedia("The video is corrupt: no frame could be decoded.") from exc
        # A truncated upload: keep the frames decoded so far; the checks judge if they suffice.


def _resized(frame: Any, side: int) -> Image:
    """RGB pixels, scaled (by FFmpeg's swscale) so the longer side is at most `side`."""
    scale = min(1.0, side / max(frame.width, frame.height))
    width, height = round(frame.width * scale) // 2 * 2, round(frame.height * scale) // 2 * 2
    pixels: Image = frame.to_ndarray(format="rgb24", width=width, height=height)
    return np.ascontiguousarray(pixels)


def decode_frames(
    images: Sequence[tuple[bytes, float]], limits: MediaLimits, decoder: Decoder
) -> list[Frame]:
    """A burst of still frames (JPEG etc.) with their capture times in seconds."""
    if not images:
        raise InvalidMedia("No frames were sent.")
    if len(images) > limits.max_frames:
        raise MediaTooLarge(f"{len(images)} frames were sent; the limit is {limits.max_frames}.")
    if sum(len(data) for data, _ in images) > limits.max_bytes:
        raise MediaTooLarge(f"The frames exceed {limits.max_bytes:,} bytes in all.")
    start = min(t for _, t in images)
    if max(t for _, t in images) - start > limits.max_duration_s:
        raise MediaTooLarge(f"The frames span more than {limits.max_duration_s:.0f} s.")
    frames = []
    for index, (data, t) in enumerate(sorted(images, key=lambda item: item[1])):
        try:
            pixels = decoder.decode(data).pixels
        except InvalidImage as exc:
            raise InvalidMedia(f"A frame cannot be read: {exc.message}") from exc
        frames.append(Frame(t - start, index, _fit(pixels, limits.analysis_side)))
    return frames


def _fit(pixels: Image, side: int) -> Image:
    """Downscale a still frame to the analysis size."""
    longest = max(pixels.shape[:2])
    if longest <= side:
        return pixels
    factor = side / longest
    size = (round(pixels.shape[1] * factor), round(pixels.shape[0] * factor))
    return np.asarray(cv2.resize(pixels, size, interpolation=cv2.INTER_AREA), np.uint8)
