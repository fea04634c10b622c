"""Specimen cards: valid numbers and MRZs, determinism by seed, the card and its photo."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkyc.documents.cn_id import validate_cn_resident_id
from simkyc.documents.mrz import MrzFormat, parse_mrz
from simkyc.synth.specimen import (
    CARD_SIZE,
    PORTRAIT_BOX,
    DocumentKind,
    cjk_font_path,
    cover,
    portrait_from_photo,
    random_specimen,
    render_card,
)
from simkyc.synth.virtual_photo import (
    CANVAS_SIZES,
    Shot,
    desk_background,
    photograph,
    photograph_cards,
)
from simkyc.types import BBox

TODAY = date(2026, 1, 1)
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


def _face_photo() -> np.ndarray:
    """A stand-in for a portrait: a gradient with a dark oval (no real face needed here)."""
    y, x = np.mgrid[0:240, 0:200]
    image = np.stack([x, y, (x + y) // 2], axis=2).astype(np.uint8)
    image[60:180, 50:150] //= 3
    return image


@given(SEEDS)
@settings(max_examples=200, deadline=None)
def test_resident_id_numbers_are_valid(seed: int) -> None:
    data = random_specimen(np.random.default_rng(seed), DocumentKind.CN_RESIDENT_ID)
    result = validate_cn_resident_id(data.number, today=TODAY)
    assert result.valid, result.errors
    assert result.birth_date == data.birth_date
    assert data.mrz == ()
    assert data.name_zh is not None and len(data.name_zh) == 2


@given(SEEDS, st.sampled_from([DocumentKind.TD1_ID_CARD, DocumentKind.TD3_PASSPORT]))
@settings(max_examples=200, deadline=None)
def test_mrzs_are_valid_and_say_what_the_card_says(seed: int, kind: DocumentKind) -> None:
    data = random_specimen(np.random.default_rng(seed), kind)
    result = parse_mrz(data.mrz, today=TODAY)
    assert result.valid, result.errors
    assert result.format is (MrzFormat.TD1 if kind is DocumentKind.TD1_ID_CARD else MrzFormat.TD3)
    assert result.document_number == data.number
    assert result.birth_date == data.birth_date
    assert result.expiry_date == data.expiry_date
    assert (result.surname, result.given_names) == (data.surname, data.given_names)
    assert result.issuing_state == result.nationality == "UTO"  # ICAO's fictitious state


def test_same_seed_same_specimen_card_and_photo() -> None:
    def make() -> tuple[object, np.ndarray, bytes]:
        rng = np.random.default_rng(42)
        data = random_specimen(rng, DocumentKind.TD1_ID_CARD)
        card = render_card(data, _face_photo())
        return data, card, photograph(card, rng).jpeg

    first, second = make(), make()
    assert first[0] == second[0]
    assert np.array_equal(first[1], second[1])
    assert first[2] == second[2]


def test_different_seeds_differ() -> None:
    kind = DocumentKind.CN_RESIDENT_ID
    numbers = {random_specimen(np.random.default_rng(seed), kind).number for seed in range(20)}
    assert len(numbers) == 20


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_card_is_id1_size_with_the_portrait_in_its_box(kind: DocumentKind) -> None:
    data = random_specimen(np.random.default_rng(0), kind)
    card = render_card(data, _face_photo())
    blank = render_card(data, None)
    assert card.shape == (CARD_SIZE[1], CARD_SIZE[0], 3)
    assert card.dtype == np.uint8
    left, top, right, bottom = PORTRAIT_BOX
    inside = np.abs(card.astype(int) - blank.astype(int))[
        top + 4 : bottom - 4, left + 4 : right - 4
    ]
    assert inside.mean() > 20  # the portrait is there ...
    assert np.array_equal(card[:78], blank[:78])  # ... and the SPECIMEN header is the same


def test_chinese_name_needs_a_cjk_font() -> None:
    path = cjk_font_path()
    assert path is None or path.is_file()


def test_cover_fills_the_box() -> None:
    assert cover(_face_photo(), (312, 384)).shape == (384, 312, 3)
    assert cover(_face_photo(), (50, 20)).shape == (20, 50, 3)


def test_portrait_crop_is_padded_outside_the_photo() -> None:
    crop = portrait_from_photo(_face_photo(), BBox(150, 0, 80, 100))
    assert crop.shape == (170, 138, 3)
    assert (crop[0, -1] == (214, 222, 230)).all()  # backdrop beyond the photo's corner


def test_photo_keeps_the_card_in_frame() -> None:
    rng = np.random.default_rng(7)
    card = render_card(random_specimen(rng, DocumentKind.TD3_PASSPORT), _face_photo())
    for _ in range(5):
        photo = photograph(card, rng)
        height, width = photo.image.shape[:2]
        assert (width, height) in CANVAS_SIZES
        assert 60 <= photo.quality <= 95
        corners = photo.corners[0]
        assert (corners >= 0).all()
        assert (corners[:, 0] < width).all() and (corners[:, 1] < height).all()


@pytest.mark.parametrize("turn", [0, 90, 180, 270])
def test_shot_fixes_the_turn(turn: int) -> None:
    rng = np.random.default_rng(3)
    card = render_card(random_specimen(rng, DocumentKind.TD1_ID_CARD), _face_photo())
    corners = photograph(card, rng, shot=Shot(turn_deg=turn, tilt_deg=0)).corners[0]
    top = corners[1] - corners[0]  # the card's top edge, left to right
    angle = np.degrees(np.arctan2(top[1], top[0])) % 360
    assert min(abs(angle - turn), 360 - abs(angle - turn)) < 1


def test_two_cards_lie_apart() -> None:
    rng = np.random.default_rng(5)
    card = render_card(random_specimen(rng, DocumentKind.TD1_ID_CARD), _face_photo())
    photo = photograph_cards([card, card], rng, desk_background(rng, (1600, 1200)))
    left, right = photo.corners
    assert left[:, 0].max() < right[:, 0].min()
