"""Read a document image: the one reader of the service and of its evaluation.

`DocumentReader` is built once per process (`from_settings`: RapidOCR, the project's own
OCR-B recognizer checked against its pinned SHA-256, Tesseract when installed) and is what
the proofing flow's document step, `simkyc document check`, `simkyc eval documents` and
`bench/documents.py` all call, so the published figures are what the service does:

1. **Portrait** (`portrait.extract_portrait`): a card outline, else the whole image searched
   for a face; the card flattened and turned upright.
2. **The card's text** (when a card-shaped document was found: `card_shaped`): the text
   detector runs once, and only the boxes a reading needs are recognised, each alone
   (`CardReader.recognise`): the visual zone's column, read by its labels, and the band,
   where the SPECIMEN layout prints the MRZ (`card_text`). A PRC resident ID card (the kind
   the applicant selected, or Chinese text or a resident ID number read on it) is also read
   by its own printed labels (`cn_card`: 民族 is never read, 性别 only compared with the
   number's sex digit and dropped); where those labels were read, they are its fields. The
   text around the column is recognised only where the card may be one (its band holds no
   MRZ rows), the header and portrait column only for its labels. A card whose MRZ the
   search's quick pass (below) verified has no PRC card's text and no band to read again:
   only its column is detected and recognised (`_verified_card`).
3. **The MRZ anywhere** on the image (`mrz_read.find_mrz`: morphology's bands read by the
   own recognizer, then the text detector's, RapidOCR, Tesseract as a witness), whether or not
   a card outline or portrait was found; skipped when the band's MRZ verified, or the card
   is a resident ID card (selected as one, or its number read: it has no MRZ). The search
   starts ahead (`mrz_ahead`), beside the portrait; on a card-shaped document the reader
   waits for its quick pass (`SearchAhead.quick`, ~0.1 s of CPU) before reading the card,
   and takes its slow pass only where the sequential reading would have made the same
   search.
4. **Cross-check** of the typed data against every reading (`crosscheck`).

A verified MRZ states the document's issuing state (ICAO 9303 three-letter code), exposed as
`issuing_state` for binding a person to the state that issued the document.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np

from simkyc.config import Settings
from simkyc.documents import ocrb
from simkyc.documents.card_text import (
    CardBoxes,
    CardText,
    band_holds_mrz,
    column_boxes,
    is_cjk,
    read_band_mrz,
    read_card_text,
    split_boxes,
)
from simkyc.documents.cn_card import CnCardText, read_cn_lines
from simkyc.documents.crosscheck import TextCheck, Typed, cross_check
from simkyc.documents.mrz_ahead import SearchAhead, search_tools
from simkyc.documents.mrz_correct import MrzReading
from simkyc.documents.mrz_read import MrzFound, find_mrz
from simkyc.documents.ocr import CardReader, TextLine
from simkyc.documents.ocrb import OcrbRecognizer
from simkyc.documents.portrait import SCAN_ASPECT_RANGE, PortraitResult, extract_portrait
from simkyc.documents.tesseract import TesseractLines
from simkyc.errors import SimkycError
from simkyc.faces.pipeline import FaceEncoder
from simkyc.types import Image

NOTHING_READ = CardText({}, {}, None, None)  # no card found: only the MRZ search is left
# A blank of a card's size and an MRZ strip's height: what `warm` reads once at start.
WARM_CARD_SHAPE, WARM_STRIP_SHAPE = (648, 1027, 3), (48, 640, 3)


def card_shaped(card: Image) -> bool:
    """An upright image shaped like an ID-1 card (SPECIMEN's layout, a PRC card): only there
    is the visual zone read by the card's labels. On a passport page or a whole image with
    no card outline, reading every line of text costs seconds (7-13 s a 2 MP page under load
    9, against 0.4 s for the MRZ search, 2026-12-05) for fields no layout of ours places."""
    height, width = card.shape[:2]
    low, high = SCAN_ASPECT_RANGE
    return min(height, width) > 0 and low <= max(height, width) / min(height, width) <= high


@dataclass(frozen=True, eq=False)
class DocumentReading:
    """What a document image gave: its portrait (or why none), its text checked against the
    typed data, and the seconds each took."""

    portrait: PortraitResult | None
    portrait_failure: SimkycError | None
    text: TextCheck
    portrait_seconds: float
    text_seconds: float

    @property
    def portrait_error(self) -> str | None:
        """The error code saying why no portrait was found (None: found)."""
        return None if self.portrait_failure is None else self.portrait_failure.code

    @property
    def mrz(self) -> MrzReading | None:
        """The MRZ read (None: none read to a format's shape); evidence only if verified."""
        return self.text.text.mrz

    @property
    def mrz_verified(self) -> bool:
        """Every check digit holds and no character outside them is in doubt."""
        return self.mrz is not None and self.mrz.valid

    @property
    def issuing_state(self) -> str | None:
        """The issuing state of a verified MRZ (None: no MRZ verified)."""
        if self.mrz is None or not self.mrz.valid:
            return None
        return self.mrz.result.issuing_state or None

    @property
    def seconds(self) -> float:
        return self.portrait_seconds + self.text_seconds


@dataclass(frozen=True, eq=False)
class DocumentReader:
    """The card OCR (RapidOCR), the own OCR-B recognizer (None: without it, only to measure
    what it adds) and the second MRZ reader (Tesseract; None or not installed: without it),
    with the cross-check's sure score."""

    ocr: CardReader
    own: OcrbRecognizer | None
    second: TesseractLines | None = None
    sure_score: float = 0.95
    slots: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(1))
    """How many documents the process reads at once (the proofing flow takes one per
    reading): one per engine. Each reading's RapidOCR buffers are ~250 MB and readings beyond
    the cores only time-share them, so more at once add memory, not speed (a worker of one
    core reading three cards beside a clip peaked at 850-930 MB, bench/cluster.py,
    2026-12-05)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> DocumentReader:
        """Built once per process: the own recognizer's weights are read and checked here
        (MODEL_UNAVAILABLE when their SHA-256 is not the pinned one); RapidOCR's models
        load on the first read (`warm`)."""
        own = OcrbRecognizer.load(ocrb.WEIGHTS, sha256=ocrb.WEIGHTS_SHA256)
        return cls(CardReader.from_settings(settings), own, TesseractLines(),
                   settings.ocr_sure_score, threading.BoundedSemaphore(settings.pool_size()))

    def warm(self) -> None:
        """Load every model the reading uses by one pass over blanks (the service's start)."""
        self.ocr.read(np.full(WARM_CARD_SHAPE, 255, np.uint8))
        if self.own is not None:
            self.own.line_scores(np.full(WARM_STRIP_SHAPE, 255, np.uint8))

    def read(self, image: Image, *, encoder: FaceEncoder, today: date,
             typed: Typed | None = None, require_portrait: bool = False,
             require_quality: bool = False) -> DocumentReading:
        """The whole reading of the RGB `image` (decoded, within the face engine's size
        limits): portrait, then text, with the MRZ search started ahead (`look_ahead`)
        beside the portrait. `require_portrait`: a portrait error is raised (the rest is
        not read); else it is recorded and the MRZ still looked for."""
        typed = typed or Typed()
        start = time.perf_counter()
        ahead = self.look_ahead(image, today=today, typed=typed)
        portrait: PortraitResult | None = None
        failure: SimkycError | None = None
        try:
            # The search's quick pass runs beside the portrait: a card-shaped
            # document waits for it before its text is read (`text`).
            portrait = extract_portrait(image, encoder, require_quality=require_quality)
        except SimkycError as error:
            if require_portrait:
                if ahead is not None:
                    ahead.cancel()
                raise
            failure = error
        middle = time.perf_counter()
        card = None if portrait is None else portrait.card
        text = self.text(image, card=card, typed=typed, today=today, ahead=ahead)
        return DocumentReading(portrait, failure, text, middle - start,
                               time.perf_counter() - middle)

    def look_ahead(self, image: Image, *, today: date, typed: Typed) -> SearchAhead | None:
        """The MRZ search over the whole `image` started now, with no hint, on a thread of
        its own (`mrz_ahead`); hand it to `text`, which takes its result where the sequential
        reading would have searched the same way, and cancels it elsewhere. None for a
        selected resident ID card (it has no MRZ: none is looked for)."""
        if typed.resident_id:
            return None

        def search(reader: CardReader, own: OcrbRecognizer | None,
                   second: TesseractLines | None) -> MrzFound:
            return find_mrz(reader, image, today=today, second=second, own=own)

        return SearchAhead(search, reader=self.ocr, own=self.own, second=self.second)

    def text(self, image: Image, *, card: Image | None, typed: Typed, today: date,
             ahead: SearchAhead | None = None) -> TextCheck:
        """The document's text against `typed`: the upright `card` (None: none found) read,
        then the MRZ looked for over the whole `image` unless already verified or the card
        is a resident ID card (`ahead`: that search, if started by `look_ahead`, taken when
        it is the same search, else cancelled). The proofing flow runs the portrait
        (`extract_portrait`) with a face engine checked out of its pool and this outside
        it."""
        if ahead is None and card is not None and card_shaped(card):
            ahead = self.look_ahead(image, today=today, typed=typed)  # beside the detector
        try:
            return self._text(image, card=card, typed=typed, today=today, ahead=ahead)
        finally:
            if ahead is not None:
                ahead.cancel()  # a no-op once taken

    def _text(self, image: Image, *, card: Image | None, typed: Typed, today: date,
              ahead: SearchAhead | None) -> TextCheck:
        resident_id = typed.resident_id
        if card is not None and not (resident_id or card_shaped(card)):
            card = None  # a passport page or a whole image: no card's fields to read there
        quick = None if ahead is None or card is None else ahead.quick()
        if card is not None and quick is not None and quick.reading is not None \
                and quick.reading.valid:  # verified, and of a valid document
            return self._verified_card(card, quick, typed, today)
        boxes = None if card is None else split_boxes(self.ocr.detect(card), card.shape)
        lines = [] if card is None or boxes is None else self.ocr.recognise(
            card, np.concatenate((boxes.column, boxes.band)))
        text = NOTHING_READ if card is None else read_band_mrz(self.ocr, card, lines,
                                                                today=today)
        cn = None
        if card is not None and boxes is not None:
            cn = self._cn_card(card, boxes, lines, text, resident_id)
        if cn is not None:  # read by its own labels: SPECIMEN's rows are not its fields
            text = CardText({}, {}, None, text.band_number)
        # A resident ID card has no MRZ: selected as one, or its number read, none is looked
        # for (a wrong selection only leaves fields unreadable, never vouched for).
        resident = (resident_id or text.band_number is not None
                    or (cn is not None and cn.number is not None))
        if not resident and not (text.mrz is not None and text.mrz.valid):
            if ahead is not None and text.number is None:
                found = ahead.take()  # the very search made below: no hint
            else:
                if ahead is not None:
                    ahead.cancel()  # a hint read on the card: not the search made ahead
                ocr, own, second = search_tools(self.ocr, self.own, self.second, like=ahead)
                found = find_mrz(ocr, image, today=today, number_hint=text.number,
                                 second=second, own=own)
            if found.verified or (text.mrz is None and found.reading is not None):
                text = replace(text, mrz=found.reading)
        return TextCheck(text, cross_check(text, typed, sure_score=self.sure_score, cn=cn), cn)

    def _verified_card(self, card: Image, quick: MrzFound, typed: Typed,
                       today: date) -> TextCheck:
        """A card whose MRZ the quick pass verified (and valid: a reading that holds every
        check digit but states an impossible document, e.g. a digit in a name, goes the
        whole way, as before): a document with an MRZ, so no PRC card
        (no band number, no labels of its own) and no band to read again; only the visual
        zone's column is detected and recognised, its fields read by their labels beside
        the MRZ's."""
        lines = self.ocr.recognise(card, column_boxes(self.ocr, card))
        text = replace(read_card_text(lines, card, today=today), mrz=quick.reading)
        return TextCheck(text, cross_check(text, typed, sure_score=self.sure_score), None)

    def _cn_card(self, card: Image, boxes: CardBoxes, lines: list[TextLine], text: CardText,
                 resident_id: bool) -> CnCardText | None:
        """The PRC card read by its printed labels, if it is one (selected, or Chinese text
        or a resident ID number read) and any label was read; else None. The rest of the
        card (its labels sit where SPECIMEN's header and portrait column are) is recognised
        only then; the lines around the column only where the card may be one (its band
        holds no MRZ rows), to look for Chinese text."""
        around: list[TextLine] = []
        if resident_id or (text.band_number is None and not band_holds_mrz(lines, card)):
            around = self.ocr.recognise(card, boxes.around)
        seen = [*lines, *around]
        if not (resident_id or text.band_number is not None
                or any(is_cjk(line.text) for line in seen)):
            return None
        whole = sorted([*seen, *self.ocr.recognise(card, boxes.hidden)],
                       key=lambda line: (line.top, line.left))
        found = read_cn_lines(whole)
        return found if found.values else None
