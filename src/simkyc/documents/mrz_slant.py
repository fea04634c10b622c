"""MRZ lines printed or photographed slanted, set upright before they are read.

OCR-B is an upright face and the recognizers read it upright: the own recognizer, trained
on upright lines, reads an italic `N` as `V` and sure of it (Azerbaijan's passport prints
its names line in a slanted face), and Tesseract doubles or drops characters there. A
camera looking at the page from the side shears the strokes the same way. A band's slant
is measured the way handwriting recognisers deslant a word: the shear at which the
strokes stand most upright is the one whose column profile of ink is the most peaked (its
variance largest: each vertical stroke then falls in few columns). Strips slanted less than
MIN_SLANT are left exactly as cut, so an upright line reads as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import cv2
import numpy as np
from numpy.typing import NDArray

from simkyc.types import Image

_Pixels = TypeVar("_Pixels", Image, NDArray[np.float32])

# Shears tried (columns of shift per row: 0.36 is about 20 degrees): first COARSE, then
# the FINE steps around the best of them, 0.04 (2.3 degrees) apart in all.
COARSE = (-0.36, -0.24, -0.12, 0.0, 0.12, 0.24, 0.36)
FINE = (-0.08, -0.04, 0.04, 0.08)
# Below this (about 4.6 degrees) a line is taken as upright and left untouched. Measured
# (2026-12-05) on the strips of real specimens read at 2 MP: upright OCR-B lines peak
# within 0.05 of 0, Azerbaijan's italic names line at 0.12; OCR-B rendered slanted by
# 0.15-0.25 is measured within 0.03 (tests/unit/documents/test_mrz_slant.py).
MIN_SLANT = 0.08


def slant(strips: Sequence[Image]) -> float:
    """The shear that sets the lines of `strips` (one band's, measured together) upright:
    columns of shift per row from the middle row, positive for strokes leaning right
    (their tops are moved left)."""
    inks = [_ink(strip) for strip in strips if strip.size]
    if not inks:
        return 0.0

    def score(shear: float) -> float:
        return sum(_peakedness(_sheared(ink, shear)) for ink in inks)

    coarse = max(COARSE, key=score)
    if coarse == 0.0:
        return 0.0  # upright (within 0.06, under MIN_SLANT): the usual case, 7 shears
    return max((coarse, *(round(coarse + step, 2) for step in FINE)), key=score)


def upright(strips: Sequence[Image]) -> list[Image]:
    """`strips` sheared upright when their band's `slant` reaches MIN_SLANT; else as they
    are (the very same arrays)."""
    shear = slant(strips)
    if abs(shear) < MIN_SLANT:
        return list(strips)
    return [_sheared(strip, shear) if strip.size else strip for strip in strips]


def _ink(strip: Image) -> NDArray[np.float32]:
    """A strip as ink 0 (paper) .. 1. (At half the width the profile's peak flattens:
    Azerbaijan's italic line measured upright.)"""
    grey = strip if strip.ndim == 2 else cv2.cvtColor(strip, cv2.COLOR_RGB2GRAY)
    small = grey.astype(np.float32)
    low, high = np.percentile(small, 5), np.percentile(small, 95)
    return np.asarray(np.clip((high - small) / max(high - low, 1.0), 0.0, 1.0), np.float32)


def _sheared(image: _Pixels, shear: float) -> _Pixels:
    """`image` with each row shifted by `shear` times its distance from the middle row
    (x' = x + shear * (y - h/2): rows above the middle move left); edges repeated."""
    height, width = image.shape[:2]
    matrix = np.array([[1.0, shear, -shear * height / 2], [0.0, 1.0, 0.0]], np.float32)
    sheared = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(sheared, image.dtype)


def _peakedness(ink: NDArray[np.float32]) -> float:
    """The variance of the ink's column profile."""
    return float(np.var(ink.sum(axis=0)))
