"""Virtual photographs of specimen cards: a card on a desk, taken with a phone.

Each photo draws, from one random generator, what makes real card photos hard: the card
tilted toward or away from the camera (up to 30 degrees, a pinhole projection), turned in
the image plane (any angle, with 90/180/270 favoured as people hold phones that way), at
various sizes; lighting gradients, a soft shadow, specular glare (sometimes over the
portrait's edge), blur, sensor noise and JPEG compression. The truth (where each card's
corners landed) comes back with the image, for tests and evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from simkyc.documents.card_geometry import CORNER_RADIUS
from simkyc.synth.specimen import PORTRAIT_BOX
from simkyc.types import Image

Points = NDArray[np.float32]
CANVAS_SIZES = ((1280, 960), (1600, 1200), (960, 1280))
MAX_TILT_DEG = 30.0


@dataclass(frozen=True)
class VirtualPhoto:
    """A JPEG photo of one or more cards, its decoded pixels, and where each card is."""

    jpeg: bytes
    image: Image
    corners: tuple[Points, ...]  # per card: (4, 2) image points of its TL, TR, BR, BL corners
    quality: int


@dataclass(frozen=True)
class Shot:
    """Parts of a photo to fix rather than draw at random (None: drawn)."""

    turn_deg: float | None = None  # in-plane, clockwise on screen
    tilt_deg: float | None = None  # out of plane, 0-30
    glare: bool | None = None  # True: a highlight over the portrait's edge; False: none


def photograph(
    card_rgb: Image,
    rng: np.random.Generator,
    background: Image | None = None,
    *,
    shot: Shot = Shot(),
) -> VirtualPhoto:
    """A photo of one card lying on `background` (a random desk when None)."""
    return photograph_cards([card_rgb], rng, background, shot=shot)


def photograph_cards(
    cards: Sequence[Image],
    rng: np.random.Generator,
    background: Image | None = None,
    *,
    shot: Shot = Shot(),
) -> VirtualPhoto:
    """A photo of the cards side by side, each in its own slot of the frame."""
    canvas = background.copy() if background is not None else desk_background(rng)
    height, width = canvas.shape[:2]
    slot_width = width / len(cards)
    corners = []
    for index, card in enumerate(cards):
        slot = (index * slot_width, 0.0, slot_width, float(height))
        target = _pose(rng, card.shape[1], card.shape[0], slot, shot, crowded=len(cards) > 1)
        _lay(canvas, card, target, rng)
        corners.append(target)
    lit = _lighting(canvas.astype(np.float32), rng)
    card_size = (cards[0].shape[1], cards[0].shape[0])
    _glare(lit, corners[0], rng, card_size=card_size, forced=shot.glare)
    jpeg, quality = _camera(lit, rng)
    decoded = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    image = np.ascontiguousarray(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), dtype=np.uint8)
    return VirtualPhoto(jpeg, image, tuple(corners), quality)


def desk_background(rng: np.random.Generator, size: tuple[int, int] | None = None) -> Image:
    """A desk-like surface: wood grain, dark fabric, speckled stone, or pale laminate."""
    width, height = size or CANVAS_SIZES[int(rng.integers(0, len(CANVAS_SIZES)))]
    kind = int(rng.integers(0, 4))
    if kind == 0:
        surface = _wood(rng, width, height)
    else:
        base = {
            1: rng.uniform(30, 80, 3),
            2: rng.uniform(90, 150, 3),
            3: rng.uniform(185, 215, 3),
        }[kind]
        grain = 4.0 if kind == 3 else 14.0
        surface = base + _smooth_noise(rng, width, height, 24)[..., None] * grain
        surface += rng.normal(0, grain / 2, (height, width, 1))
    return np.clip(surface, 0, 255).astype(np.uint8)


def _smooth_noise(
    rng: np.random.Generator, width: int, height: int, cell: int
) -> NDArray[np.float64]:
    """Noise that varies over about `cell` pixels, roughly in [-1, 1]."""
    small = rng.normal(0, 1, (height // cell + 2, width // cell + 2))
    big = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.asarray(big, np.float64)


def _wood(rng: np.random.Generator, width: int, height: int) -> NDArray[np.float64]:
    """Wood grain: warped stripes along a random direction in brown tones."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    angle = rng.uniform(0, np.pi)
    along = x * np.cos(angle) + y * np.sin(angle)
    warp = _smooth_noise(rng, width, height, 96) * 30
    stripes = np.sin((along + warp) / rng.uniform(5, 14))
    tone = 0.5 + 0.25 * stripes + 0.1 * _smooth_noise(rng, width, height, 8)
    dark, light = (
        rng.uniform([60, 35, 15], [110, 70, 40]),
        rng.uniform([150, 100, 60], [200, 150, 100]),
    )
    wood: NDArray[np.float64] = dark + (light - dark) * tone[..., None]
    return wood


def _pose(
    rng: np.random.Generator,
    card_width: int,
    card_height: int,
    slot: tuple[float, float, float, float],
    shot: Shot,
    *,
    crowded: bool,
) -> Points:
    """Where the card's corners land: tilt, in-plane turn, size and position in `slot`."""
    flat = np.array(
        [[0, 0], [card_width, 0], [card_width, card_height], [0, card_height]], np.float64
    ) - [card_width / 2, card_height / 2]
    tilted = _tilt(flat, rng, shot.tilt_deg)
    turn = shot.turn_deg if shot.turn_deg is not None else _turn(rng)
    turned = tilted @ _rotation(turn).T
    left, top, slot_width, slot_height = slot
    extent = turned.max(axis=0) - turned.min(axis=0)
    fill = rng.uniform(0.45, 0.8) if crowded else rng.uniform(0.5, 0.92)
    scale = fill * min(slot_width / extent[0], slot_height / extent[1])
    placed = turned * scale
    low, high = placed.min(axis=0), placed.max(axis=0)
    margin = 0.02 * min(slot_width, slot_height)
    cx = rng.uniform(left + margin - low[0], left + slot_width - margin - high[0])
    cy = rng.uniform(top + margin - low[1], top + slot_height - margin - high[1])
    corners: Points = (placed + np.array([cx, cy])).astype(np.float32)
    return corners


def _tilt(
    flat: NDArray[np.float64], rng: np.random.Generator, degrees: float | None
) -> NDArray[np.float64]:
    """The card's corners seen by a pinhole camera when the card is tilted up to 30 degrees."""
    tilt = np.radians(degrees if degrees is not None else rng.uniform(0, MAX_TILT_DEG))
    direction = rng.uniform(0, 2 * np.pi)
    ax, ay = tilt * np.cos(direction), tilt * np.sin(direction)
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    points = np.c_[flat, np.zeros(4)] @ (ry @ rx).T
    # The phone 3-6 card half-diagonals away (15-30 cm from an ID-1 card): mild perspective.
    distance = float(np.linalg.norm(flat[0])) * rng.uniform(3.0, 6.0)
    projected: NDArray[np.float64] = points[:, :2] * (distance / (distance + points[:, 2:]))
    return projected


def _turn(rng: np.random.Generator) -> float:
    """In-plane angle in degrees: half the time near 0/90/180/270, else anything."""
    if rng.random() < 0.5:
        return float(90 * rng.integers(0, 4) + rng.normal(0, 5))
    return float(rng.uniform(0, 360))


def _rotation(degrees: float) -> NDArray[np.float64]:
    """2x2 rotation by `degrees`, clockwise on screen (y points down)."""
    a = np.radians(degrees)
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


def _lay(canvas: Image, card: Image, target: Points, rng: np.random.Generator) -> None:
    """Warp the card (rounded corners, anti-aliased) onto the canvas, with a soft shadow."""
    height, width = card.shape[:2]
    source = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    matrix = cv2.getPerspectiveTransform(source, target)
    size = (canvas.shape[1], canvas.shape[0])
    mask = np.zeros((height, width), np.uint8)
    _rounded_rectangle(mask, CORNER_RADIUS)
    alpha = np.asarray(cv2.warpPerspective(mask, matrix, size), np.float32) / 255.0
    warped = np.asarray(cv2.warpPerspective(card, matrix, size), np.float32)
    out = canvas.astype(np.float32)
    if rng.random() < 0.6:
        offset = rng.uniform(2, 10, 2)
        shift = np.array([[1, 0, offset[0]], [0, 1, offset[1]]], np.float32)
        shadow = np.asarray(cv2.GaussianBlur(cv2.warpAffine(alpha, shift, size), (0, 0), 6))
        out *= 1 - 0.35 * shadow[..., None]
    cover = alpha[..., None]
    canvas[:] = np.clip(out * (1 - cover) + warped * cover, 0, 255).astype(np.uint8)


def _rounded_rectangle(mask: NDArray[np.uint8], radius: int) -> None:
    """Fill `mask` with a white rectangle whose corners are rounded by `radius`."""
    height, width = mask.shape
    cv2.rectangle(mask, (radius, 0), (width - 1 - radius, height - 1), (255,), -1)
    cv2.rectangle(mask, (0, radius), (width - 1, height - 1 - radius), (255,), -1)
    for x, y in (
        (radius, radius),
        (width - 1 - radius, radius),
        (radius, height - 1 - radius),
        (width - 1 - radius, height - 1 - radius),
    ):
        cv2.circle(mask, (x, y), radius, (255,), -1, lineType=cv2.LINE_AA)


def _lighting(image: NDArray[np.float32], rng: np.random.Generator) -> NDArray[np.float32]:
    """Uneven light: a brightness gradient across the frame, a tint, an overall exposure."""
    height, width = image.shape[:2]
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = ((x - width / 2) * np.cos(angle) + (y - height / 2) * np.sin(angle)) / max(width, height)
    gain = rng.uniform(0.8, 1.1) * (1 + rng.uniform(-0.35, 0.35) * ramp)
    tint = rng.uniform(0.93, 1.07, 3).astype(np.float32)
    lit: NDArray[np.float32] = image * gain[..., None] * tint
    return lit


def _glare(
    image: NDArray[np.float32],
    corners: Points,
    rng: np.random.Generator,
    *,
    card_size: tuple[int, int],
    forced: bool | None,
) -> None:
    """Half the time, a specular highlight on the card; often over the portrait's edge."""
    width, height = card_size
    if forced is False or (forced is None and rng.random() < 0.5):
        return
    left, top, right, bottom = PORTRAIT_BOX
    if forced or rng.random() < 0.4:  # on the portrait box's border
        side = int(rng.integers(0, 4))
        t = rng.uniform(0, 1)
        centre = [
            (left + t * (right - left), top),
            (right, top + t * (bottom - top)),
            (left + t * (right - left), bottom),
            (left, top + t * (bottom - top)),
        ][side]
    else:
        centre = (rng.uniform(0.1, 0.9) * width, rng.uniform(0.1, 0.9) * height)
    source = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    matrix = cv2.getPerspectiveTransform(source, corners)
    spot = cv2.perspectiveTransform(np.array([[centre]], np.float32), matrix)[0, 0]
    scale = float(np.linalg.norm(corners[1] - corners[0])) / width
    axes = np.array([rng.uniform(0.05, 0.16) * width, 0.0]) * scale
    axes[1] = axes[0] * rng.uniform(0.3, 0.8)
    blob = np.zeros(image.shape[:2], np.float32)
    cv2.ellipse(
        blob,
        (round(float(spot[0])), round(float(spot[1]))),
        (round(float(axes[0])), round(float(axes[1]))),
        float(rng.uniform(0, 180)),
        0,
        360,
        (1.0,),
        -1,
    )
    blob = np.asarray(cv2.GaussianBlur(blob, (0, 0), max(2.0, float(axes[1]) / 2)), np.float32)
    strength = rng.uniform(0.6, 1.0)
    image += (255 - np.minimum(image, 255)) * (strength * blob)[..., None]


def _camera(image: NDArray[np.float32], rng: np.random.Generator) -> tuple[bytes, int]:
    """Blur (focus or motion), sensor noise, then JPEG at quality 60-95."""
    if rng.random() < 0.15:
        length = int(rng.integers(3, 10))
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1 / length
        rotate = cv2.getRotationMatrix2D(
            (length / 2 - 0.5, length / 2 - 0.5), rng.uniform(0, 180), 1
        )
        streak = cv2.warpAffine(kernel, rotate, (length, length))
        image = np.asarray(cv2.filter2D(image, -1, streak), np.float32)
    elif rng.random() < 0.7:
        image = np.asarray(cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, 1.6)), np.float32)
    image = image + rng.normal(0, rng.uniform(1, 6), image.shape).astype(np.float32)
    quality = int(rng.integers(60, 96))
    bgr = cv2.cvtColor(np.clip(image, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("OpenCV could not encode the virtual photo as JPEG.")
    return encoded.tobytes(), quality
