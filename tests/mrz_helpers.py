"""MRZ lines rendered in the real OCR-B face (Debian's fonts-ocr-b), for the tests that read
them back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont
from shared_files import require

OCR_B = Path("/usr/share/fonts/opentype/ocr-b/OCRB.otf")  # Debian fonts-ocr-b


def ocr_b_page(lines: tuple[str, ...], *, size: tuple[int, int], origin: tuple[int, int],
               font_px: int, pitch: int) -> NDArray[np.uint8]:
    """`lines` printed dark on a paper-grey RGB page of `size` (width, height), the first at
    `origin`, one every `pitch` pixels down; skips the test where the font is missing."""
    require(OCR_B, "the OCR-B font (run.sh installs Debian's fonts-ocr-b)")
    page = PILImage.new("RGB", size, (236, 234, 226))
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(OCR_B), font_px)
    for index, line in enumerate(lines):
        draw.text((origin[0], origin[1] + pitch * index), line, font=font, fill=(20, 20, 20))
    return np.asarray(page, dtype=np.uint8).copy()
