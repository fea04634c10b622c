"""A second, independent MRZ reader: Debian's Tesseract (`tesseract-ocr`), one line at a time.

RapidOCR's general recognizer often reads OCR-B's filler `<` as `K` on a blurred photo;
Tesseract, restricted to the MRZ alphabet, rarely does, but drops or doubles characters
where RapidOCR does not. Each is a candidate for the other's misreads; check digits judge
both, and a character no check digit covers is taken only where the two agree or
RapidOCR is sure of it (`mrz_read`). Tesseract is a system program run as a subprocess
(no Python binding needed); without it, the MRZ is read by RapidOCR alone.
"""

from __future__ import annotations

import logging
import shutil
import subprocess

import cv2

from simkyc.types import Image

log = logging.getLogger(__name__)

MRZ_WHITELIST = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
TIMEOUT_S = 5.0


class TesseractLines:
    """Reads single MRZ lines with the `tesseract` program (None from `read` if absent)."""

    def __init__(self, *, program: str | None = None) -> None:
        self.program = program if program is not None else shutil.which("tesseract")

    @property
    def available(self) -> bool:
        return self.program is not None

    def read(self, strips: list[Image]) -> tuple[str, ...] | None:
        """Each RGB strip (one line of text) read in the MRZ alphabet."""
        if self.program is None:
            return None
        return tuple(self._line(strip) for strip in strips)

    def _line(self, strip: Image) -> str:
        ok, png = cv2.imencode(".png", cv2.cvtColor(strip, cv2.COLOR_RGB2GRAY))
        if not ok or self.program is None:
            return ""
        command = [self.program, "stdin", "stdout", "--psm", "7", "-l", "eng",
                   "-c", f"tessedit_char_whitelist={MRZ_WHITELIST}"]
        try:
            done = subprocess.run(command, input=png.tobytes(), capture_output=True,
                                  timeout=TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            log.warning("tesseract failed: %s", error)
            return ""
        text = done.stdout.decode("ascii", "ignore")
        return "".join(char for char in text if char in MRZ_WHITELIST)
