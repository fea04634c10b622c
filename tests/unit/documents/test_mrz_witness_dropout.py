"""Two ways the MRZ judge gets its evidence from real print: the second reader's line of the
wrong length still vouches for what it read from the line's start or end, and the own
recognizer reads coloured print over the MRZ (a stamp) with its colours dropped too."""

from __future__ import annotations

from datetime import date

import cv2
import numpy as np
import pytest
from mrz_helpers import ocr_b_page

from simkyc.documents.mrz_correct import PositionKind, ReadStatus, correct_mrz
from simkyc.documents.mrz_decode import decode_pitched_line, position_alphabets
from simkyc.documents.mrz_layout import TD3
from simkyc.documents.mrz_read import _judged
from simkyc.documents.mrz_witness import MIN_RUN, anchored, witness_line
from simkyc.documents.ocrb import CHROMA, FRAMES_PER_CHAR, OcrbRecognizer, dropout

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
    witness = witness_line(tesseract, reading.lines)
    assert witness is not None
    judged = _judged(reading, AZE, SURE, witness, others=((_own_reads_v_for_n(), SURE),),
                     own=1)
    assert judged.status is ReadStatus.VERIFIED
    # Without that witness the dissent stands, as before.
    alone = _judged(reading, AZE, SURE, None, others=((_own_reads_v_for_n(), SURE),), own=1)
    assert alone.status is ReadStatus.AMBIGUOUS


def test_a_second_reader_that_slipped_still_vouches_for_the_runs_it_read() -> None:
    # Tesseract's reading of the real photo (2 MP): a `G` doubled in the name, fillers lost
    # at the end. Past its slip it reads `ARIN<<FIDAN<<<<<<` exactly, one place on: that
    # run vouches for both `N`s against the own recognizer's sure `V`.
    reading = correct_mrz(AZE, today=TODAY, number_vouched=True)
    tesseract = ("PCAZEQAQGARIN<<FIDAN<<<<<<K<<K<<<<", AZE[1])
    witness = witness_line(tesseract, reading.lines)
    assert witness is not None
    # (Not a run's end where it broke off on a repeated character: the filler before the
    # `K`, as a doubled neighbour reads like a misreading that repeats it.)
    assert witness[:44] == AZE[0][:24] + "?" * 17 + "<" * 3
    judged = _judged(reading, AZE, SURE, witness, others=((_own_reads_v_for_n(), SURE),),
                     own=1)
    assert judged.status is ReadStatus.VERIFIED


def test_short_runs_and_runs_of_fillers_vouch_for_nothing() -> None:
    # One character more at the start, and every sixth one misread: no run of MIN_RUN in
    # place anywhere (a run of fillers alone would agree at any shift), so no vouching.
    want = "ABCDEFGHIJKLMNOPQRSTUV<<<<<<<<<<<<<<<<<<<<<<"
    noisy = "X" + "".join("9" if i % 6 == 5 else c for i, c in enumerate(want))
    letters = [PositionKind.LETTER] * 44
    witness = anchored(noisy, want, letters)
    assert set(witness[:40]) == {"?"}  # the last fillers agree from the end: in place
    assert MIN_RUN >= 8


def test_anchored_keeps_only_the_agreeing_head_and_tail() -> None:
    letters = [PositionKind.LETTER] * 6
    assert anchored("ABXDE", "ABCDEF", letters) == "AB????"
    assert anchored("ABCEF", "ABCDEF", letters) == "ABC?EF"
    assert anchored("ABCDEFG", "ABCDEF", letters) == "ABCDEF"
    # A doubled neighbour reads like a misreading that repeats it: not vouched for.
    assert anchored("XAAB<<", "XAA<<", letters[:5])[2] == "?"
    assert anchored("", "ABC", letters[:3]) == "???"
    assert witness_line(("ABC",), AZE) is None  # another line count: no witness
    # Each character in its place's alphabet, as correct_mrz reads every line: `O` and `B`
    # in a date are 0 and 8.
    digits = [PositionKind.DIGIT] * 4 + [PositionKind.LETTER] * 3
    assert anchored("OBOBCO", "0808COU", digits) == "0808CO?"


# The UK's residence permit specimen: nationality `COU`, a placeholder no state has.
GBR = ("IRGBRZU12345673<<<<<<<<<<<<<<<", "6608198F0808088COU<<<<<<<<<<<6",
       "SAMPLE<<SUSANNA<<<<<<<<<<<<<<<")


def test_two_readers_agreeing_on_an_unknown_state_code_outvote_one_dissenter() -> None:
    # The own recognizer reads COU surely, Tesseract reads it too (its line three fillers
    # too long, its dates' zeros and eights as O and B), RapidOCR reads CUU. Before, the
    # position of a code no state has could not be settled against any dissent; and the
    # witness's line of the wrong length vouched for nothing.
    reading = correct_mrz(GBR, today=TODAY, number_vouched=True)
    rapid = GBR[0] + GBR[1].replace("COU", "CUU") + GBR[2]
    tesseract = (GBR[0], "6608198FOBOBDBBCOU<K<<<<<<<<K<<6", GBR[2])
    witness = witness_line(tesseract, reading.lines)
    assert witness is not None and witness[30:48] == GBR[1][:18]
    own = tuple([20.0] * 90)
    judged = _judged(reading, GBR, own, witness,
                     others=((rapid, tuple([5.4] * 90)),), own=0)
    assert judged.status is ReadStatus.VERIFIED
    # One sure reader alone is still not enough for a code no state has.
    assert _judged(reading, GBR, own, None).status is ReadStatus.AMBIGUOUS
    # Nor two readers against two.
    judged = _judged(reading, GBR, own, witness,
                     others=((rapid, tuple([5.4] * 90)), (rapid, tuple([5.4] * 90))), own=0)
    assert judged.status is ReadStatus.AMBIGUOUS


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


@pytest.mark.parametrize(("tint", "readings"), [(CHROMA - 1, 1), (CHROMA + 10, 2)])
def test_only_a_strip_with_colour_is_read_twice(monkeypatch: pytest.MonkeyPatch, tint: int,
                                                readings: int) -> None:
    """A tint under CHROMA reads as grey alone; over it, the colours-dropped view is read too
    and averaged in (still one probability distribution per window)."""
    own = OcrbRecognizer.load()
    strip = np.full((48, 300, 3), 200, np.uint8)
    strip[..., 2] -= tint
    read = OcrbRecognizer.log_probabilities
    calls: list[int] = []

    def counted(self: OcrbRecognizer, windows: np.ndarray) -> np.ndarray:
        calls.append(len(windows))
        return read(self, windows)

    monkeypatch.setattr(OcrbRecognizer, "log_probabilities", counted)
    scores = own.line_scores(strip)
    assert len(calls) == readings
    assert np.allclose(np.exp(scores).sum(axis=1), 1.0)
