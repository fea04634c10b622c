"""Portrait extraction: find the card in a photo, flatten it, turn it upright, take the face.

1. **Find** the card's corners (`card_finder.find_cards`).
2. **Rectify**: a perspective warp of the quadrilateral to a 1027 x 648 card.
3. **Orient**: the face detector runs on the four quarter-turns of the card; the turn with
   the most confident upright face wins (a card lies any way up in a photo).
4. **Sample**: the applicant's face on the card (a "ghost" copy is much smaller and ignored),
   aligned and embedded by the face engine, with a crop of the portrait and its margin.

The largest outlines are tried in turn; one with a portrait wins, two of similar size with
portraits are MULTIPLE_DOCUMENTS. A photo with no card outline whose own shape is a card's
(a flatbed scan, a tight crop) is taken as the card itself. Errors: NO_DOCUMENT, NO_PORTRAIT,
MULTIPLE_DOCUMENTS, and the face engine's own (INVALID_IMAGE, IMAGE_TOO_LARGE,
MULTIPLE_FACES, POOR_QUALITY).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np

from simkyc.documents.card_finder import (
    MULTIPLE,
    NO_DOCUMENT,
    RIVAL_AREA,
    CardQuad,
    find_card,
    find_cards,
    rectify,
    shrunk,
)
from simkyc.errors import MultipleDocuments, NoDocumentFound, NoPortraitFound
from simkyc.faces.detect import Detector, select_applicant
from simkyc.faces.pipeline import FaceEncoder, FaceSample
from simkyc.types import BBox, Face, Image

__all__ = [
    "CardQuad",
    "CardSource",
    "PortraitResult",
    "extract_portrait",
    "extract_portrait_from_bytes",
    "find_card",
    "find_cards",
    "orient",
    "portrait_crop",
    "rectify",
]

# A whole image taken as the card (a scan or a tight crop) must be shaped like one.
SCAN_ASPECT_RANGE = (1.45, 1.75)
MAX_CANDIDATES = 3
# On a card, the portrait's eyes are < 1/6 of the card's length apart (ours: ~1/11); a
# larger face is a photo of a person, not of a document.
MAX_EYES_TO_CARD = 1 / 6
# A flattened card's portrait is about level; the head itself may tilt, up to the quality
# stage's default max_roll (40). Faces seen on a card turned the wrong way often come back
# with landmarks pulled toward level (YuNet regresses toward upright), so this removes only
# some of them: the detector's confidence decides the turn (on 20 LFW faces on specimen
# cards: upright 0.93-0.95, the wrong turns at most 0.92).
MAX_FACE_ROLL_DEG = 40.0
# With no card outline found, the face detector alone says where the portrait is, and a
# chance find in a texture must not pass for one (test_an_empty_desk_is_no_document found one
# on a synthetic wood desk at the detector's own 0.6). 0.8 is a judgment, not a calibration:
# with it, a portrait was found on 88 of the 94 real specimens that show one
# (`simkyc eval documents`, 2026-12-04).
IMAGE_MIN_FACE_SCORE = 0.8
PORTRAIT_MARGIN = 0.5  # crop margin, as a fraction of the face box, on each side


class CardSource(StrEnum):
    """How the card was found: an outline in a photo, or the whole image (a scan)."""

    PHOTO = "photo"
    SCAN = "scan"
    IMAGE = "image"  # no outline, not shaped like a card: the whole image searched for a face


@dataclass(frozen=True, eq=False)
class PortraitResult:
    """The portrait taken from a document, and how it was found."""

    portrait: Image  # the face and its margin, cut from the upright card
    card: Image  # the rectified, upright card
    quad: CardQuad  # the upright card's corners in the input image
    rotation: int  # degrees clockwise the rectified card was turned to stand upright
    source: CardSource
    sample: FaceSample  # face (in `card` pixels), quality report and embedding
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary (no pixels) for the CLI and the API."""
        return {
            "source": self.source.value,
            "rotation": self.rotation,
            "corners": [[round(float(v), 1) for v in point] for point in self.quad.corners],
            "face_box": _box_list(self.sample.face.box),
            "eye_distance": round(self.sample.face.eye_distance, 1),
            "quality_acceptable": self.sample.quality.acceptable,
            "quality_score": round(self.sample.quality.score(), 3),
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }


def _box_list(box: BBox) -> list[float]:
    """x, y, width, height rounded to a tenth of a pixel."""
    return [round(v, 1) for v in (box.x, box.y, box.width, box.height)]


# --------------------------------------------------------------------------- #
# Public entry points
# --------------------------------------------------------------------------- #


def extract_portrait_from_bytes(
    data: bytes, encoder: FaceEncoder, *, require_quality: bool = True
) -> PortraitResult:
    """Decode an uploaded photo or scan (byte and pixel caps apply) and extract its portrait."""
    start = time.perf_counter()
    pixels = encoder.decoder.decode(data).pixels
    decode_ms = (time.perf_counter() - start) * 1000
    result = extract_portrait(pixels, encoder, require_quality=require_quality)
    return replace(result, timings_ms={"decode": decode_ms, **result.timings_ms})


def extract_portrait(
    image: Image, encoder: FaceEncoder, *, require_quality: bool = True,
) -> PortraitResult:
    """The portrait on the one document in `image` (RGB), upright, with its face sample.

    With `require_quality`, a portrait the face engine cannot use (glare, blur) raises
    POOR_QUALITY, as a selfie would.
    """
    laps: dict[str, float] = {}
    image = _fit(image, encoder.decoder.max_side)
    with _lap(laps, "find"):
        candidates = _candidates(image)
    with _lap(laps, "orient"):
        found = _portraits(image, candidates, encoder)
    outlines = any(source is CardSource.PHOTO for _, source in candidates)
    quad, source, card, turns, face = _one_document(found, outlines)
    with _lap(laps, "embed"):
        sample = encoder.sample_face(card, face, require_quality=require_quality)
    return PortraitResult(
        portrait=portrait_crop(card, face.box),
        card=card,
        quad=quad.turned(turns),
        rotation=90 * turns,
        source=source,
        sample=sample,
        timings_ms=laps,
    )


def orient(card: Image, detector: Detector, ambiguity_ratio: float) -> tuple[int, Image, Face]:
    """Quarter-turns (clockwise) that stand the card upright, the turned card, its portrait face.

    The turn is the one showing the most confident upright face; NO_PORTRAIT when there is
    none, or when that face is too large to be a card's portrait (a photo of a person).
    """
    best: tuple[float, int, Image, list[Face]] | None = None
    for turns in range(4):
        turned = np.ascontiguousarray(np.rot90(card, -turns))
        faces = [f for f in detector.detect(turned) if _roll(f) <= MAX_FACE_ROLL_DEG]
        score = max((f.score for f in faces), default=0.0)
        if faces and (best is None or score > best[0]):
            best = (score, turns, turned, faces)
    if best is None:
        raise NoPortraitFound(_NO_PORTRAIT)
    _, turns, turned, faces = best
    limit = MAX_EYES_TO_CARD * max(turned.shape[:2])
    portraits = [f for f in faces if f.eye_distance <= limit]
    if not portraits:
        raise NoPortraitFound(_NO_PORTRAIT)
    return turns, turned, select_applicant(portraits, ambiguity_ratio)


def portrait_crop(card: Image, box: BBox, margin: float = PORTRAIT_MARGIN) -> Image:
    """The face box grown by `margin` of its size on every side, clipped to the card."""
    left = max(0, round(box.x - margin * box.width))
    top = max(0, round(box.y - margin * box.height))
    right = min(card.shape[1], round(box.x + (1 + margin) * box.width))
    bottom = min(card.shape[0], round(box.y + (1 + margin) * box.height))
    return np.ascontiguousarray(card[top:bottom, left:right])


# --------------------------------------------------------------------------- #
# Choosing the document
# --------------------------------------------------------------------------- #

_NO_PORTRAIT = (
    "A document was found but no portrait on it. Photograph the side of the card that carries "
    "the holder's photo, without glare over the face."
)


@dataclass(frozen=True, eq=False)
class _Found:
    """A candidate outline whose card shows an upright portrait."""

    quad: CardQuad
    source: CardSource
    turns: int
    card: Image
    face: Face


def _candidates(image: Image) -> list[tuple[CardQuad, CardSource]]:
    """The largest card outlines, then the whole image: a scan if it is shaped like a card,
    else any image (a passport page, a card's two sides on one sheet, a document whose
    outline was not found), its portrait found by face detection over all of it."""
    found = [(q, CardSource.PHOTO) for q in find_cards(image)[:MAX_CANDIDATES]]
    height, width = image.shape[:2]
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    card_shaped = (SCAN_ASPECT_RANGE[0] <= max(width, height) / min(width, height)
                   <= SCAN_ASPECT_RANGE[1])
    if card_shaped:
        found.append((CardQuad(corners if width >= height else np.roll(corners, -1, axis=0)),
                      CardSource.SCAN))
    else:
        found.append((CardQuad(corners), CardSource.IMAGE))  # read as it is, not reshaped
    return found


def _portraits(
    image: Image, candidates: list[tuple[CardQuad, CardSource]], encoder: FaceEncoder
) -> list[_Found]:
    """The candidates that carry a portrait, each rectified and turned upright."""
    found: list[_Found] = []
    for quad, source in candidates:
        if source is not CardSource.PHOTO and found:
            break  # an outline with a portrait beats the whole-image guess
        card = image if source is CardSource.IMAGE else rectify(image, quad)
        try:
            turns, upright, face = orient(card, encoder.detector, encoder.ambiguity_ratio)
        except NoPortraitFound:
            continue
        if source is CardSource.IMAGE and face.score < IMAGE_MIN_FACE_SCORE:
            continue  # no outline vouches for a document: a face must be clear to count
        found.append(_Found(quad, source, turns, upright, face))
    return found


def _one_document(
    found: list[_Found], outlines: bool
) -> tuple[CardQuad, CardSource, Image, int, Face]:
    """The document to read: errors when there is none, or two of similar size.

    Without a portrait, a card outline means NO_PORTRAIT; a photo merely shaped like a card
    (the whole-image guess) means NO_DOCUMENT.
    """
    if not found:
        raise NoPortraitFound(_NO_PORTRAIT) if outlines else NoDocumentFound(NO_DOCUMENT)
    first = found[0]
    rivals = [f for f in found[1:] if f.quad.area >= RIVAL_AREA * first.quad.area]
    if rivals:
        raise MultipleDocuments(MULTIPLE, count=len(rivals) + 1)
    return first.quad, first.source, first.card, first.turns, first.face


def _roll(face: Face) -> float:
    """How far the eye line is from level, in degrees (0-180)."""
    right_eye, left_eye = face.landmarks[0], face.landmarks[1]
    dx, dy = left_eye - right_eye
    return abs(float(np.degrees(np.arctan2(dy, dx))))


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


def _fit(image: Image, max_side: int) -> Image:
    """Huge arrays are worked on at the face engine's working size."""
    return shrunk(image, max_side)[0]


class _lap:  # noqa: N801 - used like a function: `with _lap(laps, "find"):`
    """Adds the milliseconds spent in a `with` block to `laps[name]`."""

    def __init__(self, laps: dict[str, float], name: str) -> None:
        self.laps, self.name = laps, name

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *_: object) -> None:
        elapsed = (time.perf_counter() - self.start) * 1000
        self.laps[self.name] = self.laps.get(self.name, 0.0) + elapsed
