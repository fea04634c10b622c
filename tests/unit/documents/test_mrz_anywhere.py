"""The MRZ found and read anywhere in an image (any place, angle, size), judged by its check
digits; a name no check digit covers is not VERIFIED unless the reader is sure of it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont
from shared_files import missing, require

from simkyc.documents.findings import DocumentError
from simkyc.documents.mrz_correct import ReadStatus, correct_mrz
from simkyc.documents.mrz_layout import MRV_A, TD1, TD3
from simkyc.documents.mrz_read import (
    _judged,
    _layouts,
    _of_format,
    find_mrz,
    name_tail_fillers,
    unprotected,
)
from simkyc.documents.ocr import CardReader
from simkyc.documents.tesseract import TesseractLines
from simkyc.types import Image

TODAY = date(2026, 12, 4)
OCR_B = Path("/usr/share/fonts/opentype/ocr-b/OCRB.otf")  # Debian fonts-ocr-b
# ICAO Doc 9303's own specimens (Part 4 TD3, Part 5 TD1).
TD3_LINES = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
             "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
TD1_LINES = ("I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6",
             "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")


@pytest.fixture(scope="module")
def reader() -> CardReader:
    return CardReader(threads=2)


def _page(lines: tuple[str, ...], *, size: tuple[int, int] = (1400, 1000)) -> Image:
    """A pale page with some text and the MRZ in OCR-B near its bottom, no card outline."""
    require(OCR_B, "the OCR-B font (run.sh installs Debian's fonts-ocr-b)")
    page = PILImage.new("RGB", size, (238, 236, 228))
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(OCR_B), 34)
    draw.text((80, 120), "SURNAME / NOM  ERIKSSON", font=ImageFont.truetype(str(OCR_B), 26),
              fill=(40, 40, 60))
    for index, line in enumerate(lines):
        top = size[1] - 80 - 52 * (len(lines) - index)
        draw.text((80, top), line, font=font, fill=(20, 20, 20))
    return np.asarray(page, dtype=np.uint8).copy()


def _turned(image: Image, degrees: float) -> Image:
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    size = (int(height * sin + width * cos), int(height * cos + width * sin))
    matrix[0, 2] += size[0] / 2 - width / 2
    matrix[1, 2] += size[1] / 2 - height / 2
    return np.asarray(cv2.warpAffine(image, matrix, size, borderValue=(90, 80, 70)), np.uint8)


@pytest.mark.parametrize("degrees", [0, 90, 180, 270, 12])
@pytest.mark.slow  # over 5 s (pytest --durations, tests/unit)
def test_a_passport_mrz_is_read_at_any_angle(reader: CardReader, degrees: float) -> None:
    found = find_mrz(reader, _turned(_page(TD3_LINES), degrees), today=TODAY)
    assert found.verified and found.reading is not None
    assert found.reading.lines == TD3_LINES
    assert found.issuing_state == "UTO"


@pytest.mark.slow  # over 5 s (pytest --durations, tests/unit)
def test_a_card_mrz_is_read_without_any_card_outline(reader: CardReader) -> None:
    # With Tesseract as the second reader, as `read_document` runs it (fillers in the
    # number-or-letter positions need a sure reading or a second reader's agreement).
    found = find_mrz(reader, _page(TD1_LINES, size=(900, 700)), today=TODAY,
                     second=TesseractLines())
    assert found.reading is not None and found.reading.lines == TD1_LINES
    # Verified, or (RapidOCR unsure of a filler, Tesseract not agreeing) only ambiguous.
    assert found.verified or found.reading.status is ReadStatus.AMBIGUOUS
    assert found.reading.lines == TD1_LINES


@pytest.mark.slow  # over 5 s (pytest --durations, tests/unit)
def test_a_page_without_mrz_gives_no_verified_reading(reader: CardReader) -> None:
    page = _page(("THIS IS AN ORDINARY LINE OF PRINTED TEXT",))
    found = find_mrz(reader, page, today=TODAY)
    assert not found.verified and found.issuing_state is None


def test_a_misread_name_that_verifies_is_only_ambiguous() -> None:
    misread = (TD3_LINES[0].replace("ANNA", "AMNA"), TD3_LINES[1])
    reading = correct_mrz(misread, today=TODAY)
    assert reading.valid  # the check digits do not cover the name
    margins = [5.0] * 88
    unsure = list(margins)
    unsure[TD3_LINES[0].index("ANNA") + 1] = 0.2  # the recognizer hesitated on that letter
    assert _judged(reading, misread, tuple(margins)).valid
    judged = _judged(reading, misread, tuple(unsure))
    assert judged.status is ReadStatus.AMBIGUOUS and not judged.valid
    # A second reader agreeing vouches for it; one disagreeing does not.
    assert _judged(reading, misread, tuple(unsure), "".join(misread)).valid
    assert not _judged(reading, misread, tuple(unsure), "".join(TD3_LINES)).valid


def test_a_reading_other_than_the_constrained_decoding_is_only_ambiguous() -> None:
    reading = correct_mrz(TD3_LINES, today=TODAY)
    decoded = (TD3_LINES[0].replace("MARIA", "MAPIA"), TD3_LINES[1])
    assert not _judged(reading, decoded, tuple([5.0] * 88)).valid
    assert replace(reading).valid


def test_names_and_codes_are_unprotected_but_numbers_are_covered() -> None:
    td3 = set(unprotected(TD3))
    assert set(range(0, 44)) <= td3  # line 1: code, state, name
    assert not {44, 53, 57, 63, 65, 71, 87} & td3  # number, dates, checks
    assert 54 in td3 and 64 in td3  # nationality, sex
    td1 = set(unprotected(TD1))
    assert set(range(60, 90)) <= td1 and 5 not in td1


def test_tesseract_reads_an_ocr_b_line_when_installed() -> None:
    second = TesseractLines()
    if not second.available:
        missing("tesseract-ocr is not installed (run.sh installs it)")
    page = _page((TD3_LINES[1],), size=(1100, 200))
    strip = page[200 - 80 - 52 - 6 : 200 - 80 + 6, 60:1080]
    read = second.read([strip])
    assert read is not None and len(read[0]) >= 40


def test_k_for_a_filler_in_a_number_field_verifies_blindly_so_is_only_ambiguous() -> None:
    # K (20) and < (0) weigh the same mod 10 in every check digit: a personal number read
    # "...K" for "...<" satisfies its check, so only a sure reading of it verifies.
    truth = ("PAMDACIOBANAS<<RITA<<<<<<<<<<<<<<<<<<<<<<<<<",
             "AA00000000MDA8107178F21052640000000000000<00")
    misread = (truth[0], truth[1][:41] + "K" + truth[1][42:])
    reading = correct_mrz(misread, today=TODAY)
    assert reading.valid
    unsure = [5.0] * 88
    unsure[44 + 41] = 0.3
    assert not _judged(reading, misread, tuple(unsure)).valid
    assert _judged(reading, misread, tuple([5.0] * 88)).valid


def test_a_letter_three_fillers_after_the_name_does_not_contest_the_filler() -> None:
    # Part 3 §4.6: no name component follows three fillers. A reader sure of `C` for a
    # trailing `<` there (a general recognizer on OCR-B's filler) is no doubt, as long as
    # another reader is sure of the filler; the same `C` next to the name still is.
    reading = correct_mrz(TD3_LINES, today=TODAY)
    text = TD3_LINES[0]
    tail = text.index("MARIA") + len("MARIA") + 5
    sure = [5.0] * 88
    contesting = "".join(TD3_LINES)
    contesting = contesting[:tail] + "C" + contesting[tail + 1 :]
    other = ((contesting, tuple([5.0] * 88)),)
    assert _judged(reading, TD3_LINES, tuple(sure), others=other).valid
    near = text.index("MARIA") + len("MARIA") + 1
    close = "".join(TD3_LINES)
    close = close[:near] + "C" + close[near + 1 :]
    judged = _judged(reading, TD3_LINES, tuple(sure), others=((close, tuple([5.0] * 88)),))
    assert judged.status is ReadStatus.AMBIGUOUS
    assert name_tail_fillers(text + TD3_LINES[1], TD3) == frozenset(
        range(text.index("MARIA") + len("MARIA") + 3, 44))


def test_a_confirmed_reading_of_an_invalid_document_is_not_valid() -> None:
    # The Czech passport specimen prints the birth date 110229 (no 29 February in 2011 or
    # 1911) with check digits that hold: the reading is the MRZ as printed (confirmed), the
    # document is not valid, so its fields are no evidence.
    lines = ("P<CZESPECIMEN<<VZOR<<<<<<<<<<<<<<<<<<<<<<<<<",
             "99006000<8CZE1102299F16090641152291111<<<<24")
    reading = correct_mrz(lines, today=TODAY, number_vouched=True)
    assert reading.confirmed and not reading.valid
    assert [f.code for f in reading.result.errors] == [DocumentError.BAD_DATE]
    broken = (lines[0], lines[1][:-1] + "5")
    assert not correct_mrz(broken, today=TODAY, number_vouched=True).confirmed


def test_a_lone_reader_must_be_surer_than_one_of_two() -> None:
    # Iceland's specimen: the own recognizer alone read AEVARSOOTTIR (D as O) at a margin
    # of 2.2; alone it is not enough, with a second reader agreeing it is.
    truth = ("PAISLAEVARSDOTTIR<<THURIDUR<OESP<<<<<<<<<<<<",
             "A2040611<0ISL1212123F1106297121212<1239<<<66")
    misread = (truth[0].replace("SDOTT", "SOOTT"), truth[1])
    reading = correct_mrz(misread, today=TODAY, number_vouched=True)
    assert reading.confirmed
    margins = [9.0] * 88
    margins[truth[0].index("SDOTT") + 1] = 2.2
    assert _judged(reading, misread, tuple(margins)).status is ReadStatus.AMBIGUOUS
    second = ("".join(misread), tuple([0.5] * 88))
    assert _judged(reading, misread, tuple(margins), others=(second,)).confirmed


def test_a_dissenter_is_heard_only_where_its_symbol_could_be() -> None:
    # Line 2 of a TD1 holds optional data the composite covers: a reader sure of `C` where
    # the others read `<` is no doubt (a C would fail the composite), but `K` (the filler's
    # twin of equal weight) is.
    reading = correct_mrz(TD1_LINES, today=TODAY)
    text = "".join(TD1_LINES)
    position = 30 + 20  # line 2, position 21: optional data
    assert text[position] == "<"
    sure = tuple([9.0] * 90)
    for symbol, doubt in (("C", False), ("K", True)):
        other = text[:position] + symbol + text[position + 1 :]
        judged = _judged(reading, TD1_LINES, sure, others=((other, sure),))
        assert (judged.status is ReadStatus.AMBIGUOUS) is doubt


def test_two_agreeing_readers_outvote_one_sure_dissenter() -> None:
    # RapidOCR sure of a name shifted by one letter; the own recognizer (sure) and the
    # second reader (Tesseract) agree on the printed name.
    reading = correct_mrz(TD3_LINES, today=TODAY)
    text = "".join(TD3_LINES)
    shifted = text.replace("ERIKSSON", "RIKSSONE")
    sure = tuple([9.0] * 88)
    lone = _judged(reading, TD3_LINES, sure, others=((shifted, sure),))
    assert lone.status is ReadStatus.AMBIGUOUS
    assert _judged(reading, TD3_LINES, sure, text, others=((shifted, sure),)).confirmed


VISA = ("V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L8988901C4XXX4009078F96121096ZE184226B<<<<<<")


def test_a_visa_decoded_as_a_passport_is_not_confirmed() -> None:
    # The own recognizer read a mark before Utopia's visa as `1` (`1V<UTO...`), so only the
    # passport's TD3 was tried: its last position is a check digit, the decoder had to read
    # a digit for the visa's filler, and correction made the composite hold (`...<<<<<4`).
    as_passport = (VISA[0], VISA[1][:-1] + "4")
    reading = correct_mrz(as_passport, today=TODAY)
    assert reading.confirmed
    assert not _of_format(reading, TD3).confirmed
    assert _of_format(correct_mrz(VISA, today=TODAY), MRV_A).confirmed
    # The visa's formats are tried when V is the line's first or second character.
    assert MRV_A in _layouts(2, ("1V<UTOERIKSSON<<ANNA", VISA[1]))
    assert MRV_A in _layouts(2, VISA)
    assert MRV_A not in _layouts(2, ("P<UTOERIKSSON", VISA[1]))


def test_a_lone_reader_needs_only_the_usual_margin_for_the_formats_document_letter() -> None:
    # Utopia's passport: a mark before the line leaves the own recognizer 2.7 sure of its P.
    lines = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
             "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
    reading = correct_mrz(lines, today=TODAY)
    margins = (2.7,) + (9.0,) * 87
    assert _judged(reading, lines, margins, lone_margin=4.0).confirmed
    assert not _judged(reading, lines, (1.0,) + (9.0,) * 87, lone_margin=4.0).confirmed
    # Any other letter no check digit covers still needs the lone reader's margin, and so
    # does an ID card's I (A and C are its format's letters too).
    name = (9.0,) * 5 + (2.7,) + (9.0,) * 82
    assert not _judged(reading, lines, name, lone_margin=4.0).confirmed
    card = correct_mrz(TD1_LINES, today=TODAY)
    assert card.confirmed
    assert not _judged(card, TD1_LINES, (2.7,) + (9.0,) * 89, lone_margin=4.0).confirmed
