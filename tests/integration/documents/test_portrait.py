"""Portrait extraction from photographed specimen cards, document-vs-selfie, and bad input."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image as PILImage

from simkyc.config import Settings
from simkyc.documents.portrait import (
    CardSource,
    extract_portrait,
    extract_portrait_from_bytes,
    find_card,
    find_cards,
    rectify,
)
from simkyc.errors import (
    ImageTooLarge,
    InvalidImage,
    MultipleDocuments,
    NoDocumentFound,
    NoPortraitFound,
)
from simkyc.faces.detect import central_face
from simkyc.faces.match import Decision
from simkyc.faces.pipeline import FaceEncoder, FacePipeline
from simkyc.synth.specimen import (
    CARD_SIZE,
    DocumentKind,
    portrait_from_photo,
    random_specimen,
    render_card,
)
from simkyc.synth.virtual_photo import (
    Shot,
    VirtualPhoto,
    desk_background,
    photograph,
    photograph_cards,
)
from simkyc.types import Image

BUSH = ("George_W_Bush", 7)
BUSH_SELFIE = ("George_W_Bush", 16)
POWELL = ("Colin_Powell", 40)
POWELL_SELFIE = ("Colin_Powell", 182)


def _lfw(lfw_dir: Path, person: tuple[str, int]) -> bytes:
    name, number = person
    return (lfw_dir / "images_deepfunneled" / name / f"{name}_{number:04d}.jpg").read_bytes()


def _card(encoder: FaceEncoder, photo: bytes, seed: int = 0) -> Image:
    """A TD1 specimen card carrying the face of `photo`."""
    pixels = encoder.decoder.decode(photo).pixels
    face = central_face(encoder.detector.detect(pixels), pixels.shape[1], pixels.shape[0])
    data = random_specimen(np.random.default_rng(seed), DocumentKind.TD1_ID_CARD)
    return render_card(data, portrait_from_photo(pixels, face.box))


def _png(image: Image) -> bytes:
    buffer = io.BytesIO()
    PILImage.fromarray(image).save(buffer, "PNG")
    return buffer.getvalue()


def _corner_error(photo: VirtualPhoto, corners: np.ndarray) -> float:
    truth = photo.corners[0]
    return float(
        np.linalg.norm(corners - truth, axis=1).max() / np.linalg.norm(truth[2] - truth[0])
    )


@pytest.fixture(scope="module")
def bush_card(encoder: FaceEncoder, lfw_dir: Path) -> Image:
    return _card(encoder, _lfw(lfw_dir, BUSH))


@pytest.fixture(scope="module")
def lfw_pipeline() -> FacePipeline:
    # LFW's calibration misses the default 5% FNMR target (every decision would be `review`).
    return FacePipeline.from_settings(Settings(population="lfw"))


# --------------------------------------------------------------------------- #
# Extraction
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("turn", [0, 90, 180, 270])
def test_card_at_any_quarter_turn_tilted_with_glare(
    encoder: FaceEncoder, bush_card: Image, turn: int
) -> None:
    rng = np.random.default_rng(turn)
    photo = photograph(bush_card, rng, shot=Shot(turn_deg=turn + 7, tilt_deg=25, glare=True))
    result = extract_portrait_from_bytes(photo.jpeg, encoder, require_quality=False)
    assert result.source is CardSource.PHOTO
    assert _corner_error(photo, result.quad.corners) < 0.05  # the right card, the right way up
    assert result.card.shape == (CARD_SIZE[1], CARD_SIZE[0], 3)
    face = result.sample.face
    assert face.box.x + face.box.width < CARD_SIZE[0] / 2  # the portrait, not the ghost
    assert result.portrait.shape[0] > face.box.height
    assert set(result.timings_ms) >= {"find", "orient", "embed", "decode"}


@pytest.mark.parametrize("seed", range(6))
def test_random_photos_of_the_card(encoder: FaceEncoder, bush_card: Image, seed: int) -> None:
    photo = photograph(bush_card, np.random.default_rng(100 + seed))
    result = extract_portrait(photo.image, encoder, require_quality=False)
    assert _corner_error(photo, result.quad.corners) < 0.1


def test_a_scan_is_the_card_itself(encoder: FaceEncoder, bush_card: Image) -> None:
    upside_down = np.ascontiguousarray(bush_card[::-1, ::-1])
    result = extract_portrait_from_bytes(_png(upside_down), encoder)
    assert result.source is CardSource.SCAN
    assert result.rotation == 180


def test_rectify_undoes_the_perspective(bush_card: Image) -> None:
    photo = photograph(bush_card, np.random.default_rng(9), shot=Shot(turn_deg=0, glare=False))
    flat = rectify(photo.image, find_card(photo.image))
    # Lighting and tint change the colours: compare the pictures' structure (correlation).
    best = max(_correlation(turned, bush_card) for turned in (flat, flat[::-1, ::-1]))
    assert best > 0.8


def _correlation(a: Image, b: Image) -> float:
    gray = [
        cv2.cvtColor(cv2.resize(x, (256, 162)), cv2.COLOR_RGB2GRAY).astype(float) for x in (a, b)
    ]
    z = [(g - g.mean()) / g.std() for g in gray]
    return float((z[0] * z[1]).mean())


@pytest.mark.parametrize("turns", range(4))
def test_turned_corners_describe_the_turned_card(bush_card: Image, turns: int) -> None:
    photo = photograph(bush_card, np.random.default_rng(6), shot=Shot(glare=False))
    quad = find_card(photo.image)
    size = CARD_SIZE if turns % 2 == 0 else CARD_SIZE[::-1]
    turned = np.rot90(rectify(photo.image, quad), -turns)  # clockwise
    direct = rectify(photo.image, quad.turned(turns), size=size)
    assert np.abs(turned.astype(int) - direct.astype(int)).mean() < 12  # half-pixel shifts


def test_huge_arrays_are_worked_on_at_the_working_size(
    encoder: FaceEncoder, bush_card: Image
) -> None:
    photo = photograph(bush_card, np.random.default_rng(4), shot=Shot(turn_deg=90, glare=False))
    huge = cv2.resize(photo.image, None, fx=4, fy=4, interpolation=cv2.INTER_LINEAR)
    result = extract_portrait(huge, encoder, require_quality=False)
    assert result.rotation in {0, 90, 180, 270}


# --------------------------------------------------------------------------- #
# Document vs selfie
# --------------------------------------------------------------------------- #


def test_card_portrait_matches_the_holder_and_not_someone_else(
    encoder: FaceEncoder, lfw_pipeline: FacePipeline, bush_card: Image, lfw_dir: Path
) -> None:
    photo = photograph(bush_card, np.random.default_rng(11), shot=Shot(tilt_deg=20))
    document = extract_portrait_from_bytes(photo.jpeg, lfw_pipeline.encoder).sample
    same = lfw_pipeline.encoder.sample(_lfw(lfw_dir, BUSH_SELFIE))
    other = lfw_pipeline.encoder.sample(_lfw(lfw_dir, POWELL))
    assert lfw_pipeline.compare(document, [same]).decision is Decision.MATCH
    assert lfw_pipeline.compare(document, [other]).decision is Decision.NO_MATCH


def test_powell_card_does_not_match_bush(
    encoder: FaceEncoder, lfw_pipeline: FacePipeline, lfw_dir: Path
) -> None:
    card = _card(encoder, _lfw(lfw_dir, POWELL), seed=1)
    photo = photograph(card, np.random.default_rng(12), shot=Shot(turn_deg=180))
    document = extract_portrait_from_bytes(photo.jpeg, lfw_pipeline.encoder).sample
    bush = lfw_pipeline.encoder.sample(_lfw(lfw_dir, BUSH_SELFIE))
    powell = lfw_pipeline.encoder.sample(_lfw(lfw_dir, POWELL_SELFIE))
    assert lfw_pipeline.compare(document, [bush]).decision is Decision.NO_MATCH
    assert lfw_pipeline.compare(document, [powell]).decision is Decision.MATCH


# --------------------------------------------------------------------------- #
# Bad input: a clear code, never a crash
# --------------------------------------------------------------------------- #


def test_noise_is_no_document(encoder: FaceEncoder) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (960, 1280, 3), dtype=np.uint8)
    with pytest.raises(NoDocumentFound) as caught:
        extract_portrait(noise, encoder)
    assert caught.value.code == "NO_DOCUMENT"
    assert "whole card" in caught.value.message


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.slow  # over 5 s (pytest --durations)
def test_an_empty_desk_is_no_document(encoder: FaceEncoder, seed: int) -> None:
    desk = desk_background(np.random.default_rng(seed))
    with pytest.raises(NoDocumentFound):
        extract_portrait_from_bytes(_png(desk), encoder)


def test_a_face_photo_is_no_document(encoder: FaceEncoder, lfw_dir: Path) -> None:
    with pytest.raises(NoDocumentFound):
        extract_portrait_from_bytes(_lfw(lfw_dir, BUSH), encoder)


def test_a_selfie_shaped_like_a_card_is_no_document(encoder: FaceEncoder, lfw_dir: Path) -> None:
    face = encoder.decoder.decode(_lfw(lfw_dir, BUSH_SELFIE)).pixels
    # A close-up, 560 x 350 like an ID-1 card, the face far too large for a card's portrait.
    selfie = cv2.resize(face, (900, 900))[260:610, 170:730]
    with pytest.raises(NoDocumentFound):
        extract_portrait(np.ascontiguousarray(selfie), encoder)


def test_two_cards_side_by_side(encoder: FaceEncoder, bush_card: Image, lfw_dir: Path) -> None:
    powell_card = _card(encoder, _lfw(lfw_dir, POWELL), seed=3)
    rng = np.random.default_rng(2)
    photo = photograph_cards(
        [bush_card, powell_card], rng, desk_background(rng, (1600, 1200)), shot=Shot(tilt_deg=10)
    )
    with pytest.raises(MultipleDocuments) as caught:
        extract_portrait_from_bytes(photo.jpeg, encoder)
    assert caught.value.code == "MULTIPLE_DOCUMENTS"
    assert caught.value.details() == {"documents": 2}
    with pytest.raises(MultipleDocuments):
        find_card(photo.image)


@pytest.mark.slow  # over 5 s (pytest --durations)
def test_a_card_without_a_portrait(encoder: FaceEncoder) -> None:
    rng = np.random.default_rng(8)
    blank = render_card(random_specimen(rng, DocumentKind.CN_RESIDENT_ID), None)
    photo = photograph(blank, rng, shot=Shot(turn_deg=30))
    assert len(find_cards(photo.image)) == 1
    with pytest.raises(NoPortraitFound) as caught:
        extract_portrait_from_bytes(photo.jpeg, encoder)
    assert caught.value.code == "NO_PORTRAIT"


def test_not_an_image(encoder: FaceEncoder) -> None:
    with pytest.raises(InvalidImage) as caught:
        extract_portrait_from_bytes(b"%PDF-1.7 a scan, but not an image", encoder)
    assert caught.value.code == "INVALID_IMAGE"


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height; its pixels are never decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_a_100_megapixel_image(encoder: FaceEncoder) -> None:
    with pytest.raises(ImageTooLarge) as caught:
        extract_portrait_from_bytes(_png_header_only(12_000, 8_400), encoder)
    assert caught.value.code == "IMAGE_TOO_LARGE"
    assert "pixels" in caught.value.message


def test_find_card_on_drawn_shapes() -> None:
    canvas = np.full((600, 800, 3), 40, np.uint8)
    card = np.array([[100, 150], [420, 130], [440, 330], [110, 345]], np.int32)
    cv2.fillConvexPoly(canvas, card, (235, 235, 225))
    quad = find_card(canvas)
    assert np.abs(np.sort(quad.corners, axis=0) - np.sort(card, axis=0)).max() < 6
    with pytest.raises(NoDocumentFound):
        find_card(np.full((600, 800, 3), 40, np.uint8))
    square = canvas.copy()
    cv2.rectangle(square, (500, 100), (700, 300), (235, 235, 225), -1)  # not card-shaped
    assert len(find_cards(square)) == 1


# --------------------------------------------------------------------------- #
# Any layout: no outline, not shaped like a card
# --------------------------------------------------------------------------- #


def _passport_page(encoder: FaceEncoder, photo: bytes, *, right: bool, ghost: bool) -> Image:
    """A flat scan of a passport data page (125 x 88 mm: aspect 1.42, no card outline in
    it), the holder's photo left or right, a small faded ghost copy on the other side."""
    pixels = encoder.decoder.decode(photo).pixels
    face = central_face(encoder.detector.detect(pixels), pixels.shape[1], pixels.shape[0])
    portrait = portrait_from_photo(pixels, face.box)
    page = np.full((880, 1250, 3), (236, 232, 220), np.uint8)
    big = cv2.resize(portrait, (260, 320))
    x = 900 if right else 90
    page[200:520, x : x + 260] = big
    if ghost:
        small = cv2.cvtColor(cv2.resize(portrait, (90, 110)), cv2.COLOR_RGB2GRAY)
        gx = 120 if right else 1020
        region = page[560:670, gx : gx + 90].astype(np.float32)
        page[560:670, gx : gx + 90] = (0.7 * region + 0.3 * small[:, :, None]).astype(np.uint8)
    return page


@pytest.mark.parametrize("right", [False, True])
def test_a_flat_passport_page_gives_its_portrait_wherever_it_sits(
    encoder: FaceEncoder, lfw_dir: Path, right: bool
) -> None:
    page = _passport_page(encoder, _lfw(lfw_dir, BUSH), right=right, ghost=True)
    found = extract_portrait(page, encoder, require_quality=False)
    assert found.source in {CardSource.IMAGE, CardSource.PHOTO}
    box = found.sample.face.box
    centre_x = box.x + box.width / 2
    # The holder's photo, not the ghost: in the photo's column of the upright page.
    if found.rotation == 0:
        assert (centre_x > 625) == right
    assert found.sample.face.eye_distance > 30
