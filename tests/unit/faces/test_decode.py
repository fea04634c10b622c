"""Decode stage: every accepted format and mode, and every kind of bad input."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from simkyc.errors import ImageTooLarge, InvalidImage
from simkyc.faces.decode import Decoder

DECODER = Decoder(max_bytes=5_000_000, max_pixels=40_000_000, max_side=1600)


def _photo() -> Image.Image:
    """A synthetic RGB picture with structure (no real data needed for decoding)."""
    y, x = np.mgrid[0:120, 0:160]
    rgb = np.stack([x * 255 // 160, y * 255 // 120, (x + y) % 256], axis=2).astype(np.uint8)
    return Image.fromarray(rgb)


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP"])
def test_formats_decode_to_rgb(fmt: str) -> None:
    decoded = DECODER.decode(_encode(_photo(), fmt))
    assert decoded.pixels.shape == (120, 160, 3)
    assert decoded.pixels.dtype == np.uint8
    assert decoded.scale == 1.0


def test_exif_orientation_is_honoured() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    decoded = DECODER.decode(_encode(_photo(), "JPEG", exif=exif))
    assert decoded.pixels.shape == (160, 120, 3)


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
@pytest.mark.parametrize("mode", ["RGB", "L", "CMYK"])
def test_pixels_are_pillows_own_upright_rgb(orientation: int, mode: str) -> None:
    """Decoding without Pillow's copies gives the very pixels its copying calls give."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = _encode(_photo().convert(mode), "JPEG", exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))
    np.testing.assert_array_equal(DECODER.decode(data).pixels, expected)


def test_grayscale_cmyk_palette() -> None:
    for mode in ("L", "CMYK", "P"):
        fmt = "JPEG" if mode != "P" else "PNG"
        decoded = DECODER.decode(_encode(_photo().convert(mode), fmt))
        assert decoded.pixels.shape == (120, 160, 3)


def test_alpha_is_composited_on_white() -> None:
    rgba = _photo().convert("RGBA")
    rgba.putalpha(0)
    decoded = DECODER.decode(_encode(rgba, "PNG"))
    assert decoded.pixels.min() == 255


def test_sixteen_bit_png_keeps_its_range() -> None:
    wide = (np.mgrid[0:64, 0:64][1] * 1000).astype(np.uint16)
    decoded = DECODER.decode(_encode(Image.fromarray(wide), "PNG"))
    assert decoded.pixels[0, -1, 0] == round(63000 * 255 / 65535)
    assert decoded.pixels[0, 0, 0] == 0


def test_large_jpeg_is_downscaled_early() -> None:
    big = _photo().resize((4000, 3000))
    decoded = Decoder(50_000_000, 40_000_000, 1000).decode(_encode(big, "JPEG"))
    assert max(decoded.pixels.shape) == 1000
    assert decoded.original_width == 4000
    assert decoded.scale == pytest.approx(0.25)


def test_empty_file() -> None:
    with pytest.raises(InvalidImage, match="empty"):
        DECODER.decode(b"")


def test_not_an_image() -> None:
    with pytest.raises(InvalidImage, match="not an image"):
        DECODER.decode(b"%PDF-1.7 this is a document, not a photo")


def test_truncated_jpeg() -> None:
    data = _encode(_photo().resize((640, 480)), "JPEG")
    with pytest.raises(InvalidImage, match="truncated"):
        DECODER.decode(data[: len(data) // 2])


def test_unsupported_format() -> None:
    with pytest.raises(InvalidImage, match="GIF"):
        DECODER.decode(_encode(_photo(), "GIF"))


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height; its pixels must never be decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(ImageTooLarge, match="pixels"):
        DECODER.decode(_png_header_only(20000, 20000))


def test_real_20000_pixel_png_is_refused(tmp_path: Path) -> None:
    big = Image.new("L", (20000, 20000))
    data = _encode(big, "PNG", compress_level=1)
    with pytest.raises(ImageTooLarge):
        DECODER.decode(data)


def test_over_byte_limit() -> None:
    with pytest.raises(ImageTooLarge, match="bytes"):
        Decoder(100, 40_000_000, 1600).decode(_encode(_photo(), "PNG"))
