"""How much of a card the document reader reads (`DocumentReader.text`): the detector once,
then only the boxes a reading needs; a card whose MRZ the search's quick pass verified has
only its visual zone's column read. The box split and the search's quick result need no
models; the readings use RapidOCR's bundled models on drawn SPECIMEN cards."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from simkyc.documents.card_text import split_boxes
from simkyc.documents.crosscheck import FieldStatus, Typed, TypedField
from simkyc.documents.mrz_ahead import SearchAhead
from simkyc.documents.mrz_correct import correct_mrz
from simkyc.documents.mrz_read import MrzFound
from simkyc.documents.ocr import CardReader, TextLine
from simkyc.documents.ocrb import OcrbRecognizer
from simkyc.documents.reading import DocumentReader
from simkyc.synth.specimen import DocumentKind, random_specimen, render_card
from simkyc.types import Image

TODAY = date(2026, 12, 5)
CARD = (648, 1027, 3)
# ICAO 9303 Part 4's TD3 example (Utopia): every check digit holds.
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")


def _box(left: float, top: float, right: float, bottom: float) -> NDArray[np.float32]:
    return np.array([[left, top], [right, top], [right, bottom], [left, bottom]], np.float32)


def _found() -> MrzFound:
    reading = correct_mrz(TD3, today=date(2010, 1, 1))
    assert reading.confirmed
    return MrzFound(reading, 1, 0.0)


# --------------------------------------------------------------------------- #
# Which boxes are read (no models)
# --------------------------------------------------------------------------- #


def test_the_detectors_boxes_are_split_by_where_they_lie_on_the_card() -> None:
    boxes = np.stack([
        _box(410, 150, 700, 180),  # the visual zone's column (its left edge at x 400)
        _box(40, 520, 990, 560),  # the band (MRZ or resident number)
        _box(760, 300, 990, 330),  # right of the column: around
        _box(300, 20, 700, 50),  # the header
        _box(60, 200, 250, 230),  # the portrait column
    ])
    split = split_boxes(boxes, CARD)
    assert [len(split.column), len(split.band), len(split.around), len(split.hidden)] == \
        [1, 1, 1, 2]
    assert split.column[0][0][0] == 410 and split.band[0][0][1] == 520
    assert split.around[0][0][0] == 760
    empty = split_boxes(None, CARD)
    assert all(len(group) == 0 for group in (empty.column, empty.band, empty.around,
                                             empty.hidden))


# --------------------------------------------------------------------------- #
# The search's quick pass (no models)
# --------------------------------------------------------------------------- #


class _Door:
    """A CardReader stand-in whose detector is the search's slow pass."""

    def detect(self, image: Image) -> None:
        return None

    def frame_probabilities(self, strip: Image, *, stretch: float = 1.0) -> tuple[Any, ...]:
        return np.zeros((1, 2), np.float32), ("", "A")


def _search_ahead(search: Any) -> SearchAhead:
    return SearchAhead(search, reader=_Door(), own=None, second=None)  # type: ignore[arg-type]


def test_quick_hands_over_what_the_quick_pass_verified() -> None:
    found = _found()
    ahead = _search_ahead(lambda reader, own, second: found)
    assert ahead.quick() is found


def test_quick_is_none_when_the_search_reaches_its_slow_pass_and_take_still_runs_it() -> None:
    slow = threading.Event()

    def search(reader: Any, own: Any, second: Any) -> MrzFound:
        reader.detect(np.zeros((8, 8, 3), np.uint8))  # waits for the reader's word
        slow.set()
        return MrzFound(None, 0, 0.0)

    ahead = _search_ahead(search)
    assert ahead.quick() is None
    assert not slow.is_set()  # held at the slow pass's door until taken
    assert ahead.take().reading is None and slow.is_set()


# --------------------------------------------------------------------------- #
# What the reader recognises (RapidOCR's bundled models)
# --------------------------------------------------------------------------- #


class _Recording(CardReader):
    """The real card OCR, recording what it is asked to detect and recognise."""

    def __init__(self) -> None:
        super().__init__(threads=2)
        self.detected: list[tuple[tuple[int, ...], bool]] = []
        self.recognised: list[int] = []
        self.strips = 0

    def detect(self, image: Image, *, own_size: bool = False) -> NDArray[np.float32] | None:
        self.detected.append((image.shape, own_size))
        return super().detect(image, own_size=own_size)

    def recognise(self, card: Image, boxes: NDArray[np.float32]) -> list[TextLine]:
        self.recognised.append(len(boxes))
        return super().recognise(card, boxes)

    def frame_probabilities(self, strip: Image, *, stretch: float = 1.0) -> Any:
        self.strips += 1
        return super().frame_probabilities(strip, stretch=stretch)


class _Settled:
    """A search ahead whose quick pass gave `found` (None: it went on to its slow pass,
    which found nothing)."""

    def __init__(self, found: MrzFound | None) -> None:
        self.found, self.taken = found, False

    def quick(self) -> MrzFound | None:
        return self.found

    def take(self) -> MrzFound:
        self.taken = True
        return MrzFound(None, 0, 0.0)

    def cancel(self) -> None:
        pass


@pytest.fixture(scope="module")
def own() -> OcrbRecognizer:
    return OcrbRecognizer.load()


@pytest.mark.slow
def test_a_card_whose_mrz_the_quick_pass_verified_has_only_its_column_read(
    own: OcrbRecognizer,
) -> None:
    data = random_specimen(np.random.default_rng(4), DocumentKind.TD3_PASSPORT)
    card = render_card(data, None)
    ocr = _Recording()
    reader = DocumentReader(ocr, own)
    found = _found()
    typed = Typed(data.number, f"{data.given_names} {data.surname}", data.birth_date,
                  data.expiry_date)
    check = reader.text(card, card=card, typed=typed, today=TODAY,
                        ahead=_Settled(found))  # type: ignore[arg-type]
    assert check.text.mrz is found.reading  # the band is not read again
    assert ocr.strips == 0 and check.cn is None
    # The detector ran once, on the column alone, at the card's own size.
    assert len(ocr.detected) == 1 and ocr.detected[0][1]
    assert ocr.detected[0][0][0] < CARD[0] and ocr.detected[0][0][1] < CARD[1]
    assert len(ocr.recognised) == 1
    # The visual zone is still read: its fields agree with what was typed.
    statuses = {field.field: field.status for field in check.fields}
    assert statuses[TypedField.BIRTH_DATE] is FieldStatus.MATCH
    assert statuses[TypedField.DOCUMENT_NUMBER] is FieldStatus.MATCH
    assert check.text.values  # read from the card, not only the MRZ


@pytest.mark.slow
def test_a_card_with_mrz_rows_has_nothing_around_its_column_recognised(
    own: OcrbRecognizer,
) -> None:
    data = random_specimen(np.random.default_rng(5), DocumentKind.TD1_ID_CARD)
    card = render_card(data, None)
    ocr = _Recording()
    reader = DocumentReader(ocr, own)
    ahead = _Settled(None)
    check = reader.text(card, card=card, typed=Typed(), today=TODAY,
                        ahead=ahead)  # type: ignore[arg-type]
    boxes = split_boxes(CardReader(threads=2).detect(card), card.shape)
    assert len(ocr.detected) == 1 and not ocr.detected[0][1]  # the whole card, once
    # The column and the band only: the band holds MRZ rows, so no PRC card's text is
    # looked for around them.
    assert ocr.recognised == [len(boxes.column) + len(boxes.band)]
    assert len(boxes.around) + len(boxes.hidden) > 0
    assert check.text.mrz is not None and check.cn is None
