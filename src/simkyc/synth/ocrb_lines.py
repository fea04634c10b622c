"""Synthetic MRZ lines in the real OCR-B face, printed and photographed, for training and
testing the project's own recognizer (`ocrb`).

A line is drawn character by character at the ICAO pitch in Debian's OCR-B
(`fonts-ocr-b`), then degraded as real documents are: ink weight (bleed or thin print),
paper tint, faint background patterns and guilloche-like waves, uneven lighting, slight
rotation and perspective, defocus and motion blur, low resolution, sensor noise and JPEG.
Then the line is cut out as `mrz_locate.band_strips` cuts a detected row (a margin of a
fraction of the line's height, some background either side). The true centre of every
character in the strip is returned with it: that is what the recognizer learns to find.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from simkyc.documents.mrz_decode import MRZ_ALPHABET
from simkyc.types import Image

OCRB_FONT = Path("/usr/share/fonts/opentype/ocr-b/OCRB.otf")
LETTERS, DIGITS = string.ascii_uppercase, string.digits
RENDER_SIZE = 64  # font size (px) lines are drawn at before being scaled to their size


class OcrbFontMissing(RuntimeError):
    """Debian's fonts-ocr-b is not installed (apt-get install fonts-ocr-b)."""


@dataclass(frozen=True)
class SyntheticLine:
    """A cut-out line (RGB), its text, and each character's centre x in the strip."""

    strip: Image
    text: str
    centres: tuple[float, ...]
    pitch: float


@cache
def _font() -> ImageFont.FreeTypeFont:
    if not OCRB_FONT.is_file():
        raise OcrbFontMissing(f"{OCRB_FONT} not found: install Debian's fonts-ocr-b")
    return ImageFont.truetype(str(OCRB_FONT), RENDER_SIZE)


def random_text(rng: np.random.Generator, width: int) -> str:
    """An MRZ-like line of `width` characters: names with filler runs, document numbers
    and dates, or any mix of the alphabet (runs of `<` as long as real ones)."""
    kind = rng.integers(4)
    if kind == 0:  # a names line: P<UTO SURNAME<<GIVEN<NAMES<<<<
        text = rng.choice(["P<", "I<", "V<", "ID", "AC", "PM", "IR", "C<"])
        text += "".join(rng.choice(list(LETTERS), 3))
        while len(text) < width - rng.integers(0, 15):
            text += "".join(rng.choice(list(LETTERS), rng.integers(2, 11)))
            text += "<" * int(rng.choice([1, 2]))
    elif kind == 1:  # numbers, dates, codes and check digits
        alnum = list(LETTERS + DIGITS)
        text = ""
        while len(text) < width - rng.integers(0, 12):
            part = rng.integers(3)
            if part == 0:
                text += "".join(rng.choice(list(DIGITS), rng.integers(1, 8)))
            elif part == 1:
                text += "".join(rng.choice(alnum, rng.integers(1, 10)))
            else:
                text += "".join(rng.choice(list(LETTERS), rng.integers(1, 4)))
            if rng.random() < 0.3:
                text += "<" * int(rng.integers(1, 5))
    else:  # anything of the alphabet, fillers as common as in real lines
        weights = np.full(len(MRZ_ALPHABET), 1.0)
        weights[-1] = 12.0 if kind == 2 else 4.0
        text = "".join(rng.choice(list(MRZ_ALPHABET), width, p=weights / weights.sum()))
    return str(text + "<" * width)[:width]


def names_text(rng: np.random.Generator, width: int) -> str:
    """A line of `width` characters with no digit: `random_text`'s names kind (or its rare
    digit-free mix), drawn until one comes."""
    while True:
        text = random_text(rng, width)
        if not any(char.isdigit() for char in text):
            return text


def render_line(text: str, rng: np.random.Generator, *, height: float | None = None,
                clean: bool = False) -> SyntheticLine:
    """`text` printed in OCR-B with capitals `height` px high (random when None), degraded
    (not when `clean`), cut out as a detected row is."""
    font = _font()
    cap_top, cap_bottom = font.getbbox("H")[1], font.getbbox("H")[3]
    cap = cap_bottom - cap_top
    advance = font.getlength("A")
    pitch = advance * (1.0 if clean else float(rng.uniform(0.95, 1.06)))
    margin = 2.2 * RENDER_SIZE
    canvas_w = int(margin * 2 + pitch * len(text))
    canvas_h = int(RENDER_SIZE * 3)
    layer = PILImage.new("L", (canvas_w, canvas_h), 0)
    draw = ImageDraw.Draw(layer)
    baseline_top = RENDER_SIZE - cap_top
    centres = []
    for index, char in enumerate(text):
        jitter_x = 0.0 if clean else float(rng.normal(0, 0.015 * pitch))
        jitter_y = 0.0 if clean else float(rng.normal(0, 0.02 * cap))
        x = margin + index * pitch + jitter_x
        draw.text((x, baseline_top + jitter_y), char, font=font, fill=255)
        centres.append(margin + (index + 0.5) * pitch)
    coverage = np.asarray(layer, np.float32) / 255.0
    if not clean:
        weight = rng.integers(-1, 3)
        if weight:
            kernel = np.ones((abs(int(weight)) + 1, abs(int(weight)) + 1), np.uint8)
            op = cv2.dilate if weight > 0 else cv2.erode
            coverage = _f32(op(coverage, kernel))
        coverage *= float(rng.uniform(0.7, 1.0))
    # Everything else at the line's own size (cheap: capitals 9-40 px high).
    scale = (height if height is not None else float(rng.uniform(9, 40))) / cap
    coverage = _f32(cv2.resize(coverage, None, fx=scale, fy=scale,
                               interpolation=cv2.INTER_AREA))
    centres = [c * scale for c in centres]
    top_y, bottom_y, cap_px = RENDER_SIZE * scale, (RENDER_SIZE + cap) * scale, cap * scale
    paper = _paper(rng, coverage.shape[1], coverage.shape[0], cap_px, clean=clean)
    ink_level = 20 if clean else int(rng.integers(0, 90))
    tint = np.array([ink_level] * 3, np.float32) + (0 if clean else rng.normal(0, 12, 3))
    image = paper * (1 - coverage[..., None]) + tint[None, None, :] * coverage[..., None]
    if not clean:
        image, centres, top_y, bottom_y = _tilted(image, centres, top_y, bottom_y, rng)
        image = _camera(image, rng, cap_px)
    # Cut out as band_strips does: the detected box is ~1.2-1.6 capitals high, the strip
    # 1.24 of it, with ~0.8 of it either side of the line (here a little more or less).
    box = cap_px * (1.4 if clean else float(rng.uniform(1.15, 1.7)))
    centre_y = (top_y + bottom_y) / 2 + (0 if clean else float(rng.normal(0, 0.06 * cap_px)))
    half = 0.62 * box
    left = centres[0] - 0.5 * pitch * scale - (0.8 if clean else rng.uniform(0.2, 1.6)) * box
    right = centres[-1] + 0.5 * pitch * scale + (0.8 if clean else rng.uniform(0.2, 1.6)) * box
    y0, y1 = max(0, round(centre_y - half)), round(centre_y + half)
    x0, x1 = max(0, round(left)), round(right)
    strip = np.clip(image[y0:y1, x0:x1], 0, 255).astype(np.uint8)
    return SyntheticLine(np.ascontiguousarray(strip), text,
                         tuple(c - x0 for c in centres), pitch * scale)


def _paper(rng: np.random.Generator, width: int, height: int, cap: float, *, clean: bool
           ) -> NDArray[np.float32]:
    """Paper or card: a tint, a soft wash, faint waves and specks (security printing)."""
    if clean:
        return np.full((height, width, 3), 245.0, np.float32)
    base = rng.uniform(150, 255) - rng.uniform(0, 40, 3)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.broadcast_to(base.astype(np.float32), (height, width, 3)).copy()
    for _ in range(int(rng.integers(0, 4))):
        freq = rng.uniform(0.3, 4.0) / cap
        phase = rng.uniform(0, 6.3)
        angle = rng.uniform(0, np.pi)
        wave = np.sin(freq * (x * np.cos(angle) + y * np.sin(angle)) + phase)
        image += rng.uniform(-25, 25, 3).astype(np.float32)[None, None, :] * wave[..., None]
    if rng.random() < 0.3:  # faint text or lines behind
        layer = PILImage.new("L", (width, height), 0)
        draw = ImageDraw.Draw(layer)
        for _ in range(int(rng.integers(1, 6))):
            y0 = rng.uniform(0, height)
            draw.line((0, y0, width, y0 + rng.uniform(-0.5, 0.5) * cap), fill=255,
                      width=int(rng.integers(1, 3)))
        image -= (np.asarray(layer, np.float32)[..., None] / 255.0) * rng.uniform(10, 60)
    return image


def _tilted(image: NDArray[np.float32], centres: list[float], top: float, bottom: float,
            rng: np.random.Generator) -> tuple[NDArray[np.float32], list[float], float, float]:
    """A slight turn and keystone left after a band was levelled (its angle is measured
    from the detector's boxes, to a degree or so)."""
    h, w = image.shape[:2]
    angle = float(rng.normal(0, 0.6))
    keystone = float(rng.normal(0, 0.015)) * h
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    dst = np.array([[0, keystone], [w, -keystone], [w, h + keystone], [0, h - keystone]],
                   np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    turn = np.vstack([cv2.getRotationMatrix2D((w / 2, (top + bottom) / 2), angle, 1.0),
                      [0, 0, 1]])
    full = turn @ matrix
    warped = cv2.warpPerspective(image, full, (w, h), borderMode=cv2.BORDER_REPLICATE)
    mid = (top + bottom) / 2
    points = np.array([[[c, mid] for c in centres]], np.float32)
    moved = cv2.perspectiveTransform(points, full)[0]
    shift = float(np.mean(moved[:, 1]) - mid)
    return (np.asarray(warped, np.float32), [float(p[0]) for p in moved],
            top + shift, bottom + shift)


def _camera(image: NDArray[np.float32], rng: np.random.Generator, cap: float
            ) -> NDArray[np.float32]:
    """Lighting, focus, resolution, noise and compression of a photo or scan."""
    h, w = image.shape[:2]
    ramp = np.linspace(rng.uniform(0.6, 1.1), rng.uniform(0.6, 1.1), w, dtype=np.float32)
    image = image * ramp[None, :, None]
    if rng.random() < 0.7:
        sigma = float(rng.uniform(0.2, 0.09 * cap))
        image = _f32(cv2.GaussianBlur(image, (0, 0), sigma))
    if rng.random() < 0.2:
        length = int(rng.integers(2, max(3, int(0.2 * cap))))
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1.0 / length
        image = _f32(cv2.filter2D(image, -1, kernel))
    if rng.random() < 0.3:  # printed or captured at a lower resolution
        factor = float(rng.uniform(0.4, 0.8))
        small = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        image = _f32(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR))
    image = image + rng.normal(0, rng.uniform(0, 12), image.shape).astype(np.float32)
    pixels = np.clip(image, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        quality = int(rng.integers(25, 95))
        ok, data = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            pixels = np.asarray(cv2.imdecode(data, cv2.IMREAD_UNCHANGED), np.uint8)
    return _f32(pixels)


def _f32(array: object) -> NDArray[np.float32]:
    return np.asarray(array, np.float32)
