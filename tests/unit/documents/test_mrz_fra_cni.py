"""France's national ID card of 1988-2021 (2 x 36, not ICAO's TD2): parsed by its own
layout, judged by its three check digits, its names never taken as covered, and read from
a rendering in OCR-B."""

from __future__ import annotations

from datetime import date

from mrz_helpers import ocr_b_page

from simkyc.documents.mrz import parse_mrz
from simkyc.documents.mrz_correct import correct_mrz
from simkyc.documents.mrz_layout import FRA_CNI, TD2, MrzFormat, layout_for
from simkyc.documents.mrz_read import _of_format, find_mrz, unprotected
from simkyc.documents.ocr import CardReader
from simkyc.documents.ocrb import OcrbRecognizer

TODAY = date(2026, 12, 4)
# The card's published specimen (BERTHIER CORINNE): every check digit holds as printed.
CNI = ("IDFRABERTHIER<<<<<<<<<<<<<<<<<<<<<<<", "9409923102854CORINNE<<<<<<<6512068F4")
# Germany's 2001 card: a real TD2 of two lines of 36.
DEU_TD2 = ("IDD<<MUSTERMANN<<ERIKA<<<<<<<<<<<<<<", "1220001518D<<6408125<1110078<<<<<<<0")


def test_the_french_card_is_parsed_by_its_own_layout() -> None:
    assert layout_for(CNI) is FRA_CNI and layout_for(DEU_TD2) is TD2
    result = parse_mrz(CNI, today=TODAY)
    assert result.format is MrzFormat.FRA_CNI and result.valid
    assert (result.surname, result.given_names) == ("BERTHIER", "CORINNE")
    assert result.document_number == "940992310285"
    assert result.birth_date == date(1965, 12, 6)
    assert result.issuing_state == result.nationality == "FRA"
    assert result.expiry_date is None and result.is_expired(TODAY)  # none: fail closed
    assert [check.name.value for check in result.checks] == [
        "document_number", "birth_date", "composite"]
    # Read as ICAO's TD2 the same lines fail their check digits.
    assert not parse_mrz(DEU_TD2, today=TODAY).errors


def test_each_check_digit_of_the_french_card_holds_or_fails() -> None:
    birth = (CNI[0], CNI[1][:33] + "9" + CNI[1][34:])
    assert not parse_mrz(birth, today=TODAY).valid
    surname = ("IDFRABERTHIEP" + CNI[0][13:], CNI[1])  # only the composite covers it
    result = parse_mrz(surname, today=TODAY)
    assert [check.ok for check in result.checks] == [True, True, False]


def test_the_french_cards_names_are_never_taken_as_covered() -> None:
    # Its composite check digit spans both lines; a misread name satisfies it one time in
    # ten, so names stay for the readers to vouch for, as on every other format.
    open_positions = set(unprotected(FRA_CNI))
    assert set(range(5, 30)) <= open_positions  # the surname
    assert set(range(49, 63)) <= open_positions  # the given names
    assert not {36, 48, 63, 69, 71} & open_positions  # the number, dates and checks
    reading = correct_mrz(CNI, today=TODAY, number_vouched=True)
    assert _of_format(reading, FRA_CNI).confirmed
    assert not _of_format(reading, TD2).confirmed


def test_the_french_card_is_read_from_an_ocr_b_rendering() -> None:
    image = ocr_b_page(CNI, size=(1100, 420), origin=(60, 250), font_px=30, pitch=46)
    found = find_mrz(CardReader(threads=1), image, today=TODAY, own=OcrbRecognizer.load())
    assert found.verified and found.reading is not None
    assert found.reading.lines == CNI
