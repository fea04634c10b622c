"""Two ways the MRZ judge gets its evidence from real print: the second reader's line of the
wrong length still vouches for what it read from the line's start or end, and the own
recognizer reads coloured print over the MRZ (a stamp) with its colours dropped too."""

from __future__ import annotations

from datetime import date

import cv2
import numpy as np
import pytest
from mrz_helpers import ocr_b_page

from simkyc.documents.mrz_correct import ReadStatus, correct_mrz
from simkyc.documents.mrz_decode import decode_pitched_line, position_alphabets
from simkyc.documents.mrz_layout import TD3
from simkyc.documents.mrz_read import _anchored, _fitting, _judged
from simkyc.documents.ocrb import FRAMES_PER_CHAR, OcrbRecognizer, dropout

TODAY = date(2026, 12, 5)
# Azerbaijan's passport as printed (a real specimen's MRZ, all check digits valid).
AZE = ("PCAZEQAQARIN<<FIDAN<<<<<<<<<<<<<<<<<<<<<<<<<",
       "C946302620AZE6707297F23031072W12IMJ<<<<<<<40")
SURE = tuple([8.0] * 88)


def _own_reads_v_for_n() -> str:
    """The own recognizer's reading of AZE's first line with `V` for both `N`s, sure of
    it (as on the real dim photo, at a lead of 18)."""
    return AZE[0].replace("N", "V") + AZE[1]


def test_a_second_reader_short_of_fillers_vouches_for_what_it_read_from_the_start() -> None:
    # RapidOCR reads N, the own recognizer V, both sure; Tesseract reads the name right but
    # loses ten fillers further on. Before, its line of the wrong length vouched for
    # nothing, and the sure dissent left the right reading AMBIGUOUS.
    reading = correct_mrz(AZE, today=TODAY, number_vouched=True)
    tesseract = (AZE[0][:26] + "K<KK<K<<", AZE[1])
    witness = _fitting(tesseract, reading.lines)
    assert witness is not None
    judged = _judged(reading, AZE, SURE, witness, others=((_own_reads_v_for_n(), SURE),),
                     own=1)
    assert judged.status is ReadStatus.VERIFIED
    # Without that witness the dissent stands, as before.
    alone = _judged(reading, AZE, SURE, None, others=((_own_reads_v_for_n(), SURE),), own=1)
    assert alone.status is ReadStatus.AMBIGUOUS


def test_a_shifted_second_reader_vouches_for_nothing_after_its_slip() -> None:
    # A character dropped before the name and fillers lost at the end: every character
    # after the slip is compared one place off, never slid back into line, so the reader
    # vouches for no letter of the name (from the end, only for the fillers it kept).
    reading = correct_mrz(AZE, today=TODAY, number_vouched=True)
    slipped = (AZE[0][:3] + AZE[0][4:34], AZE[1])
    witness = _fitting(slipped, reading.lines)
    assert witness is not None
    assert witness[:44] == "PCA" + "?" * 26 + "<" * 15
    judged = _judged(reading, AZE, SURE, witness, others=((_own_reads_v_for_n(), SURE),),
                     own=1)
    assert judged.status is ReadStatus.AMBIGUOUS


def test_anchored_keeps_only_the_agreeing_head_and_tail() -> None:
    assert _anchored("ABXDE", "ABCDEF") == "AB????"
    assert _anchored("ABCEF", "ABCDEF") == "ABC?EF"
    assert _anchored("ABCDEFG", "ABCDEF") == "ABCDEF"[:6]
    assert _anchored("", "ABC") == "???"
    assert _fitting(("ABC",), ("ABC", "DEF")) is None  # another line count: no witness


def test_dropping_colours_lightens_coloured_print_and_keeps_black_ink() -> None:
    strip = np.zeros((2, 2, 3), np.uint8)
    strip[0, 0] = (20, 20, 20)  # black ink
    strip[0, 1] = (200, 30, 40)  # a red stamp
    strip[1] = (240, 238, 230)  # paper
    dropped = dropout(strip)
    assert dropped.shape == (2, 2)
    assert dropped[0, 0] == 20 and dropped[0, 1] == 200 and dropped[1, 0] == 240


def _stamped(line: str) -> np.ndarray:
    """`line` in OCR-B with a red stamp's strokes over its 4th-8th characters, the ink on
    top where the two cross."""
    page = ocr_b_page((line,), size=(820, 48), origin=(10, 10), font_px=24, pitch=40)
    mask = np.zeros(page.shape[:2], np.uint8)
    for k in range(6):
        cv2.line(mask, (60 + 12 * k, 0), (90 + 12 * k, 47), 255, 3)
    cv2.circle(mask, (95, 24), 22, 255, 3)
    red = np.array([200, 40, 50], np.float32)
    stamped = np.where((mask > 0)[..., None], red, page.astype(np.float32))
    ink = page.mean(axis=2, keepdims=True) < 100
    return np.where(ink, page, stamped).astype(np.uint8)


def test_a_red_stamp_over_the_line_is_not_read_as_letters() -> None:
    # In grey the stamp's strokes read as ink: `QAT` was read `LOD` at leads of 5-10, sure
    # enough to verify a name alone; with the colours dropped too, the line reads right.
    line = "P<QATAL<KAABI<<ALI<HAMAD<ABDULLAH<<<<<<<<<<<"
    own = OcrbRecognizer.load()
    read, _ = decode_pitched_line(own.line_scores(_stamped(line)), position_alphabets(TD3)[0],
                                  frames_per_char=FRAMES_PER_CHAR)
    assert read == line


@pytest.mark.parametrize("shape", [(48, 300), (48, 300, 3)])
def test_grey_and_colour_strips_give_one_score_per_window(shape: tuple[int, ...]) -> None:
    own = OcrbRecognizer.load()
    strip = np.full(shape, 230, np.uint8)
    scores = own.line_scores(strip)
    assert scores.ndim == 2 and scores.shape[1] == 38
    assert np.allclose(np.exp(scores).sum(axis=1), 1.0)
