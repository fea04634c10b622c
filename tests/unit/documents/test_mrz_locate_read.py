"""The MRZ locator's bands for lines the text detector cut short, missed or joined to other
text, and the judge's weighing of a sure own recognizer against a doubtful dissenter and of
a format's first letter. Synthetic inputs only (rows, boxes, OCR-B renderings)."""

from __future__ import annotations

from datetime import date

import numpy as np
from mrz_helpers import ocr_b_page

from simkyc.documents.mrz_correct import ReadStatus, correct_mrz
from simkyc.documents.mrz_layout import TD1
from simkyc.documents.mrz_locate import (
    MIN_ROW_LENGTH,
    MrzBand,
    TextBox,
    _extended,
    _rows,
    _stacks,
    _turn,
    band_strips,
    find_bands,
)
from simkyc.documents.mrz_read import RAPID_GUESSES, _judged, _of_format, _to_read, read_band
from simkyc.documents.ocr import CardReader

TODAY = date(2026, 12, 4)
TD1_LINES = ("I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6",
             "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")
LEVEL = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def _box(left: float, right: float, y: float, height: float = 10.0) -> TextBox:
    return TextBox(((left + right) / 2, y), 0.0, right - left, height)


def test_a_line_cut_short_at_its_fillers_joins_the_full_line_beside_it() -> None:
    # A TD1's first line detected only up to its fillers (15 characters, ~10 heights),
    # the second whole: before, the short row was dropped and no band of three formed.
    rows = [[0.0, 100.0, 100.0, 10.0], [0.0, 300.0, 117.0, 10.0], [0.0, 300.0, 134.0, 10.0]]
    assert (rows[0][1] - rows[0][0]) / rows[0][3] < MIN_ROW_LENGTH
    stacks, _ = _stacks(rows)
    assert [0.0, 300.0, 100.0, 10.0] in [[*row] for row in stacks[0]]
    assert len(stacks[0]) == 3
    # Short rows alone (a label column) make no band.
    assert _stacks([[0.0, 80.0, 100.0, 10.0], [0.0, 90.0, 117.0, 10.0]]) == ([], [])


def test_a_row_joined_to_other_text_is_also_kept_in_its_parts() -> None:
    # A card's two sides side by side: the MRZ line on the right shares its level with the
    # left side's text, 150 px (15 heights) away.
    boxes = [_box(0, 60, 100), _box(210, 510, 100)]
    rows = _rows(boxes, LEVEL)
    spans = sorted((round(r[0]), round(r[1])) for r in rows)
    assert (0, 510) in spans and (210, 510) in spans


def test_a_line_the_detector_missed_is_guessed_beside_the_lines_found() -> None:
    # Two rows found of a three-line TD1 (the first under a stamp): a third is guessed
    # above and below at the rows' pitch; a lone passport-long row gets its neighbours.
    stacks, guesses = _stacks([[0.0, 300.0, 117.0, 10.0], [0.0, 300.0, 134.0, 10.0]])
    assert len(stacks) == 1
    centres = sorted(tuple(round(row[2]) for row in guess) for guess in guesses)
    assert (100, 117, 134) in centres and (117, 134, 151) in centres
    _, lone = _stacks([[0.0, 400.0, 200.0, 12.0]])
    assert sorted(tuple(round(row[2]) for row in guess) for guess in lone) == [
        (179, 200), (200, 221)]


def _card(lines: tuple[str, ...]) -> np.ndarray:
    return ocr_b_page(lines, size=(900, 300), origin=(40, 120), font_px=24, pitch=36)


def test_a_band_cut_short_is_lengthened_to_where_the_print_ends() -> None:
    image = _card(TD1_LINES)
    dark = np.flatnonzero(image[100:240].min(axis=(0, 2)) < 100)
    turn, size = _turn(image, 0.0)
    short = MrzBand(0.0, turn, size, tuple((float(dark[0]) + 5, 250.0, 133.0 + 36 * i, 30.0)
                                           for i in range(3)))
    band = _extended(image, short)
    left, right = band.rows[0][:2]
    assert left <= dark[0] + 1 and right >= dark[-1] - 1
    assert all(row[:2] == (left, right) for row in band.rows)
    assert band_strips(image, band, upside_down=False)[0].shape[1] > right - left
    # A band already whole is left as it is.
    assert _extended(image, band).rows == band.rows


def test_find_bands_lists_guesses_after_the_runs_found() -> None:
    image = _card(TD1_LINES)
    boxes = [_box(40, 500, 133, 30), _box(40, 500, 169, 30)]
    bands = find_bands(image, boxes)
    assert len(bands[0].rows) == 2  # the run found first
    assert any(len(band.rows) == 3 for band in bands[1:])


def test_the_own_recognizer_sure_of_a_filler_outweighs_a_doubtful_k() -> None:
    # France's residence permit: RapidOCR read the name's `<<` as `K` (lead 2.5), the own
    # recognizer `<` (lead 21.6); before, one sure dissenter made the reading AMBIGUOUS.
    reading = correct_mrz(TD1_LINES, today=TODAY)
    text = "".join(TD1_LINES)
    position = 60 + 8  # line 3: ERIKSSON<<
    assert text[position] == "<"
    rapid = text[:position] + "K" + text[position + 1 :]
    sure = [9.0] * 90
    own = sure.copy()
    own[position] = 21.6
    doubtful = sure.copy()
    doubtful[position] = 2.5
    judged = _judged(reading, tuple(rapid[i : i + 30] for i in (0, 30, 60)),
                     tuple(doubtful), others=((text, tuple(own)),), own=1)
    assert judged.confirmed
    # Without the own recognizer's weight, or with too little of it, the doubt stands.
    args = (reading, tuple(rapid[i : i + 30] for i in (0, 30, 60)), tuple(doubtful))
    assert not _judged(*args, others=((text, tuple(own)),)).confirmed
    own[position] = 7.0  # 7.0 - 2.5 < 5: not enough to be believed alone
    assert not _judged(*args, others=((text, tuple(own)),), own=1).confirmed
    # A letter is not outweighed so: the own recognizer can be sure and wrong on one.
    letter = 60 + 1  # the R of ERIKSSON
    rapid = text[:letter] + "P" + text[letter + 1 :]
    own = sure.copy()
    own[letter] = 21.6
    doubtful = sure.copy()
    doubtful[letter] = 2.5
    judged = _judged(reading, tuple(rapid[i : i + 30] for i in (0, 30, 60)),
                     tuple(doubtful), others=((text, tuple(own)),), own=1)
    assert judged.status is ReadStatus.AMBIGUOUS


def test_a_reading_with_another_formats_first_letter_is_not_confirmed() -> None:
    # Liechtenstein's card, its first character half outside the image, read `Z`: the
    # check digits hold, but Doc 9303 gives a TD1 only A, C or I there.
    cut = ("Z" + TD1_LINES[0][1:], *TD1_LINES[1:])
    reading = correct_mrz(cut, today=TODAY)
    assert reading.confirmed
    assert _of_format(reading, TD1).status is ReadStatus.AMBIGUOUS
    assert _of_format(correct_mrz(TD1_LINES, today=TODAY), TD1).confirmed


def test_rapidocr_reads_only_the_first_guessed_bands() -> None:
    turn, size = _turn(np.zeros((10, 10, 3), np.uint8), 0.0)
    found = [MrzBand(0.0, turn, size, ((0.0, 9.0, 2.0, 1.0), (0.0, 9.0, 4.0, 1.0)))]
    guessed = [MrzBand(0.0, turn, size, ((0.0, 9.0, float(i), 1.0),), True) for i in range(5)]
    bands = found + guessed
    assert _to_read(bands, rapid=False) == bands
    assert [band.rows for band in _to_read(bands, rapid=True)] == [
        band.rows for band in bands[: 1 + RAPID_GUESSES]]


def test_no_line_is_guessed_beyond_the_images_edge_and_an_empty_row_is_not_read() -> None:
    # A run of two rows at the top of the image: the third line guessed above it would lie
    # outside the image; its strip had no pixels and RapidOCR's resize raised (a 2 MP
    # specimen, 2026-12-05).
    image = _card(TD1_LINES)
    boxes = [_box(40, 500, 8, 12), _box(40, 500, 30, 12)]
    for band in find_bands(image, boxes):
        assert all(0 <= row[2] < band.size[1] for row in band.rows)
    turn, size = _turn(image, 0.0)
    outside = MrzBand(0.0, turn, size, ((40.0, 500.0, -30.0, 12.0), (40.0, 500.0, 8.0, 12.0)))
    assert read_band(CardReader(threads=1), image, outside, upside_down=False,
                     today=TODAY) is None
