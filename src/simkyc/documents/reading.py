"""Read a whole document image: its MRZ anywhere, its portrait on any layout.

The two are independent: the MRZ is looked for over the whole image (`mrz_read`), whether
or not a card outline or a portrait is found, and the portrait is found by
`portrait.extract_portrait` (an outline, else the whole image searched for a face). A
verified MRZ states the document's issuing state (ICAO 9303 three-letter code), exposed
as `issuing_state` for binding a person to the state that issued the document.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

from simkyc.documents.mrz_read import MrzFound, find_mrz
from simkyc.documents.ocr import CardReader
from simkyc.documents.ocrb import OcrbRecognizer
from simkyc.documents.portrait import PortraitResult, extract_portrait
from simkyc.documents.tesseract import TesseractLines
from simkyc.errors import SimkycError
from simkyc.faces.pipeline import FaceEncoder
from simkyc.types import Image


@dataclass(frozen=True, eq=False)
class DocumentReading:
    """What a document image gave: its MRZ search, its portrait (or the error code saying
    why none), and the seconds each took."""

    mrz: MrzFound
    portrait: PortraitResult | None
    portrait_error: str | None
    mrz_seconds: float
    portrait_seconds: float

    @property
    def issuing_state(self) -> str | None:
        """The issuing state of a verified MRZ (None: no MRZ verified)."""
        return self.mrz.issuing_state

    @property
    def seconds(self) -> float:
        return self.mrz_seconds + self.portrait_seconds


def read_document(image: Image, *, encoder: FaceEncoder, reader: CardReader, today: date,
                  second: TesseractLines | None = None,
                  own: OcrbRecognizer | None = None) -> DocumentReading:
    """The MRZ and the portrait of the document in the RGB `image` (decoded, within the
    face engine's size limits); `own` is the project's OCR-B recognizer (`ocrb`)."""
    start = time.perf_counter()
    mrz = find_mrz(reader, image, today=today, second=second, own=own)
    middle = time.perf_counter()
    portrait: PortraitResult | None = None
    error: str | None = None
    try:
        portrait = extract_portrait(image, encoder, require_quality=False)
    except SimkycError as failure:
        error = failure.code
    end = time.perf_counter()
    return DocumentReading(mrz, portrait, error, middle - start, end - middle)
