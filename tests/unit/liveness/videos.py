"""Test helper: encode frames into a video in memory with PyAV (no file on disk)."""

from __future__ import annotations

import io
from collections.abc import Iterable

import av
import numpy as np


def encode(frames: Iterable[np.ndarray], *, fps: int = 15, fmt: str = "webm",
           codec: str = "libvpx") -> bytes:
    """Frames (RGB uint8, even sizes) -> container bytes."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=fmt) as container:
        stream = None
        for pixels in frames:
            if stream is None:
                stream = container.add_stream(codec, rate=fps)
                stream.width, stream.height = pixels.shape[1], pixels.shape[0]
                stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        if stream is not None:
            for packet in stream.encode():
                container.mux(packet)
    return buffer.getvalue()
