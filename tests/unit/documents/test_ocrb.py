"""simkyc's own OCR-B recognizer on MRZ lines rendered in the real OCR-B face (no shared data:
the lines are drawn here), its pinned weights, and its place beside the other readers."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from simkyc.documents.mrz_correct import ReadStatus, correct_mrz
from simkyc.documents.mrz_decode import (
    MRZ_ALPHABET,
    decode_line_margins,
    decode_pitched_line,
    decode_pitched_lines,
)
from simkyc.documents.mrz_layout import TD1, TD3, Layout
from simkyc.documents.mrz_read import _judged
from simkyc.documents.ocrb import (
    COARSE_STEP,
    FRAMES_PER_CHAR,
    WEIGHTS,
    WEIGHTS_SHA256,
    OcrbRecognizer,
    grey,
    text_rows,
)
from simkyc.errors import ModelUnavailable
from simkyc.synth.ocrb_lines import OCRB_FONT, random_text, render_line

TODAY = date(2026, 12, 4)
ANY = (frozenset(MRZ_ALPHABET),)  # a position that may hold any MRZ symbol
TD3_LINES = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
             "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
TD1_LINES = ("I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6",
             "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")


@pytest.fixture(scope="module")
def model() -> OcrbRecognizer:
    if not OCRB_FONT.is_file():
        pytest.skip("Debian fonts-ocr-b is not installed")
    return OcrbRecognizer.load()


def _pitched(model: OcrbRecognizer, strip: np.ndarray, width: int) -> tuple[str, tuple[float, ...]]:
    return decode_pitched_line(model.line_scores(strip), ANY * width,
                               frames_per_char=FRAMES_PER_CHAR)


def test_the_weights_are_the_pinned_ones() -> None:
    assert hashlib.sha256(WEIGHTS.read_bytes()).hexdigest() == WEIGHTS_SHA256
    assert WEIGHTS.stat().st_size < 2_000_000


def test_other_weights_are_refused(tmp_path: Path) -> None:
    forged = tmp_path / "ocrb.npz"
    forged.write_bytes(WEIGHTS.read_bytes() + b"\0")
    with pytest.raises(ModelUnavailable):
        OcrbRecognizer.load(forged)


@pytest.mark.parametrize("height", [12.0, 20.0, 32.0])
def test_the_capital_height_and_pitch_are_measured_from_the_strip(height: float) -> None:
    if not OCRB_FONT.is_file():
        pytest.skip("Debian fonts-ocr-b is not installed")
    line = render_line(TD3_LINES[1], np.random.default_rng(1), height=height, clean=True)
    rows = text_rows(grey(line.strip))
    # Small print reads a little taller (blur spreads the ink): within 2.5 px, 20%.
    assert rows.height == pytest.approx(height, abs=2.5)
    assert rows.pitch == pytest.approx(line.pitch, rel=0.2)


@pytest.mark.parametrize(("lines", "layout"), [(TD3_LINES, TD3), (TD1_LINES, TD1)])
@pytest.mark.parametrize("height", [14.0, 24.0])
def test_clean_rendered_lines_are_read_and_verify(
    model: OcrbRecognizer, lines: tuple[str, ...], layout: Layout, height: float
) -> None:
    rng = np.random.default_rng(3)
    scores = [model.line_scores(render_line(text, rng, height=height, clean=True).strip)
              for text in lines]
    decoded = decode_pitched_lines(scores, layout, frames_per_char=FRAMES_PER_CHAR)
    assert decoded is not None
    read, margins = decoded
    assert read == lines
    reading = _judged(correct_mrz(read, today=TODAY), read, margins)
    assert reading.status is ReadStatus.VERIFIED


def test_degraded_rendered_lines_are_mostly_read_right(model: OcrbRecognizer) -> None:
    # Photographed print (blur, noise, tint, tilt, JPEG), the training's own degradations at
    # their worst included: fixed seed, so the figure is exact (91.1% of characters at the
    # line's pitch; 77.0% by the CTC path, whose misses were mostly whole lines whose ground
    # reads as ink, their pitch measured up to twice too long).
    rng = np.random.default_rng(11)
    right = total = 0
    for _ in range(20):
        text = random_text(rng, 44)
        line = render_line(text, rng)
        read, _ = _pitched(model, line.strip, 44)
        right += sum(a == b for a, b in zip(read, text, strict=True))
        total += len(text)
    assert right / total >= 0.9


def test_a_filler_is_not_read_as_k(model: OcrbRecognizer) -> None:
    # RapidOCR reads OCR-B's `<` as K on many real documents; OCR-B's shapes differ a lot.
    rng = np.random.default_rng(5)
    text = "SAMPLE<<SUSANNA<K<KK<<<<<<<<"
    line = render_line(text + "<" * (44 - len(text)), rng, height=18.0, clean=True)
    read, _ = _pitched(model, line.strip, 44)
    assert read.startswith(text)


def test_a_sure_recognizer_that_disagrees_keeps_a_reading_from_being_verified() -> None:
    reading = correct_mrz(TD3_LINES, today=TODAY)
    sure = tuple([5.0] * 88)
    assert _judged(reading, TD3_LINES, sure).valid
    other = ("P<UTOERIKSSON<<ANNA<MARIK<<<<<<<<<<<<<<<<<<<", TD3_LINES[1])
    judged = _judged(reading, TD3_LINES, sure, others=(("".join(other), sure),))
    assert judged.status is ReadStatus.AMBIGUOUS
    unsure = tuple([0.5] * 88)
    # Two recognizers agreeing, neither sure: vouched for.
    assert _judged(reading, TD3_LINES, unsure, others=(("".join(TD3_LINES), unsure),)).valid
    # One unsure recognizer alone: not.
    assert not _judged(reading, TD3_LINES, unsure).valid


@pytest.mark.parametrize("shape", [(0, 0, 3), (0, 40, 3), (3, 200, 3), (40, 5, 3)])
def test_an_empty_or_sliver_strip_gives_no_frames(model: OcrbRecognizer,
                                                  shape: tuple[int, int, int]) -> None:
    # A band at the image's edge cuts out to nothing: no frames, no error.
    assert model.line_scores(np.zeros(shape, np.uint8)).shape == (0, 38)


def test_a_sure_reading_of_no_known_state_code_needs_a_second_reader() -> None:
    # Germany's passport read with `O<<` for `D<<` (a real specimen): the check digits do not
    # cover the issuing state, and O is no state; one sure recognizer is not enough there.
    german = ("P<D<<MUSTERMANN<<ERIKA<<<<<<<<<<<<<<<<<<<<<<",
              "C01X00T478D<<6408125F2702283<<<<<<<<<<<<<<<4")
    misread = ("P<O<<MUSTERMANN<<ERIKA<<<<<<<<<<<<<<<<<<<<<<", german[1])
    sure = tuple([5.0] * 88)
    assert _judged(correct_mrz(german, today=TODAY), german, sure).valid
    judged = _judged(correct_mrz(misread, today=TODAY), misread, sure)
    assert judged.status is ReadStatus.AMBIGUOUS
    # Two readers agreeing on an unlisted code still vouch for it.
    agreeing = _judged(correct_mrz(misread, today=TODAY), misread, sure,
                       others=(("".join(misread), sure),))
    assert agreeing.valid


@pytest.mark.parametrize("seed", [47, 87])
def test_a_missed_or_doubled_character_does_not_shift_the_rest_of_the_line(
    model: OcrbRecognizer, seed: int
) -> None:
    # Two degraded renderings on which the classifier misses one character and sees another
    # twice: the CTC path, free to spend the line's 44 characters anywhere, read the name
    # shifted between the two (seed 47: `ERKSSON<<X4NNA`); at the line's pitch, one
    # character per pitch, it is read right.
    line = render_line(TD3_LINES[0], np.random.default_rng(seed))
    scores = model.line_scores(line.strip)
    ctc, _ = decode_line_margins(scores[::COARSE_STEP], ANY * 44)
    assert sum(a != b for a, b in zip(ctc, TD3_LINES[0], strict=True)) > 3
    read, margins = _pitched(model, line.strip, 44)
    assert read == TD3_LINES[0]
    assert len(margins) == 44
