"""MRZ lines printed or photographed slanted are measured and set upright before they are
read; upright lines are left exactly as cut. OCR-B rendered here, sheared here."""

from __future__ import annotations

import numpy as np
import pytest
from mrz_helpers import ocr_b_page

from simkyc.documents.mrz_decode import decode_pitched_line, position_alphabets
from simkyc.documents.mrz_layout import TD3
from simkyc.documents.mrz_slant import MIN_SLANT, _sheared, slant, upright
from simkyc.documents.ocrb import FRAMES_PER_CHAR, OcrbRecognizer

# Azerbaijan's passport prints its names line slanted (a real specimen's text).
NAMES = "PCAZEQAQARIN<<FIDAN<<<<<<<<<<<<<<<<<<<<<<<<<"


def _line(lean: float) -> np.ndarray:
    """NAMES in OCR-B, its strokes leaning right by `lean` columns per row (left: < 0)."""
    page = ocr_b_page((NAMES,), size=(820, 48), origin=(10, 10), font_px=24, pitch=40)
    return np.asarray(_sheared(page, -lean)) if lean else page


def _read(strip: np.ndarray) -> str:
    own = OcrbRecognizer.load()
    text, _ = decode_pitched_line(own.line_scores(strip), position_alphabets(TD3)[0],
                                  frames_per_char=FRAMES_PER_CHAR)
    return text


@pytest.mark.parametrize("lean", [0.15, 0.2, -0.2])
def test_a_slanted_line_is_measured(lean: float) -> None:
    assert slant([_line(lean)]) == pytest.approx(lean, abs=0.04)


def test_an_upright_line_is_left_as_cut() -> None:
    strip = _line(0.0)
    assert abs(slant([strip])) < MIN_SLANT
    assert upright([strip])[0] is strip


@pytest.mark.parametrize("lean", [0.15, 0.2])
def test_a_slanted_names_line_is_read_upright(lean: float) -> None:
    # Read as it leans, OCR-B's `N` is taken for `V`, and surely (a lead of ~18, as on the
    # real photo): a name no check digit covers. Set upright first, it reads right.
    slanted = _line(lean)
    assert _read(slanted) != NAMES
    assert _read(upright([slanted])[0]) == NAMES


def test_no_strips_and_empty_strips_are_no_slant() -> None:
    assert slant([]) == 0.0
    empty = np.zeros((0, 0, 3), np.uint8)
    assert upright([empty])[0] is empty
