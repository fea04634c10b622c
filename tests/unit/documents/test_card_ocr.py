"""Real OCR (RapidOCR's bundled models) of generated SPECIMEN cards, upright as portrait
extraction hands them over, through the service's document reader (`DocumentReader.text`):
a match, a deliberate mismatch, a field made unreadable."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
from shared_files import require

from simkyc.documents.crosscheck import FieldStatus, TextCheck, Typed, TypedField
from simkyc.documents.ocr import CardReader
from simkyc.documents.ocrb import OcrbRecognizer
from simkyc.documents.reading import DocumentReader
from simkyc.synth.specimen import (
    DocumentKind,
    SpecimenData,
    cjk_font_path,
    random_specimen,
    render_card,
)
from simkyc.types import Image

pytestmark = pytest.mark.slow  # each OCRs whole cards: 5-15 s (pytest --durations)

TODAY = date(2026, 11, 22)
WQY_MICROHEI = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
SURE = 0.95


@pytest.fixture(scope="module")
def reader() -> DocumentReader:
    return DocumentReader(CardReader(threads=2), OcrbRecognizer.load(), sure_score=SURE)


def check_text(reader: DocumentReader, card: Image, typed: Typed) -> TextCheck:
    """The card read as the proofing flow reads it (the card is the whole photo here)."""
    return reader.text(card, card=card, typed=typed, today=TODAY)


def _card(kind: DocumentKind, seed: int) -> tuple[SpecimenData, Image]:
    data = random_specimen(np.random.default_rng(seed), kind)
    return data, render_card(data, None)


def _typed(data: SpecimenData, name: str | None = None) -> Typed:
    return Typed(data.number, name or f"{data.given_names} {data.surname}", data.birth_date,
                 data.expiry_date, resident_id=data.kind is DocumentKind.CN_RESIDENT_ID)


def _statuses(check: TextCheck) -> dict[TypedField, FieldStatus]:
    return {field.field: field.status for field in check.fields}


def test_a_passport_card_matches_what_was_typed_and_its_mrz_verifies(
    reader: DocumentReader,
) -> None:
    data, card = _card(DocumentKind.TD3_PASSPORT, 4)
    check = check_text(reader, card, _typed(data))
    assert set(_statuses(check).values()) == {FieldStatus.MATCH}
    assert check.text.mrz is not None and check.text.mrz.valid
    assert check.text.mrz.lines == data.mrz


def test_another_name_typed_is_a_mismatch_showing_what_the_card_says(
    reader: DocumentReader,
) -> None:
    data, card = _card(DocumentKind.TD1_ID_CARD, 5)
    check = check_text(reader, card, _typed(data, name="Sam Udall"))
    name = next(field for field in check.fields if field.field is TypedField.NAME)
    assert name.status is FieldStatus.MISMATCH
    assert name.read is not None and data.surname in name.read.replace(" ", "")
    assert _statuses(check)[TypedField.DOCUMENT_NUMBER] is FieldStatus.MATCH


def test_a_resident_card_in_chinese_matches_and_a_covered_expiry_is_unreadable(
    reader: DocumentReader,
) -> None:
    require(cjk_font_path() or WQY_MICROHEI, "a CJK font (run.sh installs fonts-wqy-microhei)")
    data, card = _card(DocumentKind.CN_RESIDENT_ID, 6)
    assert data.name_zh is not None
    covered = card.copy()
    covered[376:416, 396:900] = 250  # a sticker (or glare) over ISSUED / EXPIRES
    check = check_text(reader, covered, _typed(data, name=data.name_zh))
    assert _statuses(check) == {
        TypedField.DOCUMENT_NUMBER: FieldStatus.MATCH, TypedField.NAME: FieldStatus.MATCH,
        TypedField.BIRTH_DATE: FieldStatus.MATCH, TypedField.EXPIRY_DATE: FieldStatus.UNREADABLE,
    }
    other = check_text(reader, card, _typed(data, name="\u674e\u660e"))  # 李明
    assert _statuses(other)[TypedField.NAME] is FieldStatus.MISMATCH


def test_a_blank_image_reads_nothing(reader: DocumentReader) -> None:
    blank = np.full((648, 1027, 3), 240, np.uint8)
    typed = Typed("E12345678", "ANNA SMITH", date(1980, 1, 1), date(2030, 1, 1))
    text = check_text(reader, blank, typed).text
    assert text.values == {} and text.mrz is None and text.band_number is None
