"""The reading pipeline's speed work keeps its results: strips warped alone are the whole
turned image's strips, and the MRZ search run ahead is taken only where the sequential
reading would have made the same search, paused or cancelled elsewhere."""

from __future__ import annotations

import threading
from datetime import date

import cv2
import numpy as np
import pytest

from simkyc.documents.crosscheck import Typed
from simkyc.documents.mrz_ahead import Gate, SearchAhead, SearchCancelled, search_tools
from simkyc.documents.mrz_correct import correct_mrz
from simkyc.documents.mrz_locate import MrzBand, _strip_box, _turn, band_strips
from simkyc.documents.mrz_read import MrzFound
from simkyc.documents.ocr import CardReader
from simkyc.documents.ocrb import OcrbRecognizer
from simkyc.documents.reading import DocumentReader
from simkyc.documents.tesseract import TesseractLines

TODAY = date(2026, 12, 5)
# ICAO Doc 9303 Part 4's specimen passport (Utopia): every check digit holds.
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")


def _textured(height: int, width: int) -> np.ndarray:
    noise = np.random.default_rng(3).integers(0, 256, (height, width, 3), np.uint8)
    return np.asarray(cv2.GaussianBlur(noise, (7, 7), 0), np.uint8)


@pytest.mark.parametrize("angle", [0.0, 3.7, -12.3, 90.0, 178.2])
@pytest.mark.parametrize("upside_down", [False, True])
def test_strips_warped_alone_are_the_turned_images_strips(angle: float,
                                                          upside_down: bool) -> None:
    image = _textured(700, 1100)
    turn, size = _turn(image, angle)
    rows = ((100.3, 900.7, 400.2, 30.1), (120.0, 880.0, 455.5, 29.0),
            (-50.0, 5000.0, 5.0, 20.0))  # the last one runs off the turned frame
    band = MrzBand(angle, turn, size, rows)
    turned = cv2.warpAffine(image, turn, size, flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
    strips = band_strips(image, band, upside_down=upside_down)
    for row, strip in zip(rows[::-1] if upside_down else rows, strips, strict=True):
        x0, top, x1, bottom = _strip_box(row, size)
        whole = turned[top:bottom, x0:x1]
        expected = whole[::-1, ::-1] if upside_down else whole
        assert strip.shape == expected.shape
        # OpenCV's fixed-point coordinates round a moved origin differently: one grey level.
        assert int(np.abs(strip.astype(int) - expected.astype(int)).max()) <= 1


def _found() -> MrzFound:
    return MrzFound(correct_mrz(TD3, today=TODAY), bands=1, seconds=0.0)


class _NoOcr(CardReader):
    """RapidOCR that must not be used: the search's result comes from the search ahead."""

    def detect(self, image: np.ndarray) -> None:  # type: ignore[override]
        raise AssertionError("searched again instead of taking the search ahead")


def test_a_search_ahead_is_taken_when_no_card_was_read() -> None:
    calls: list[str] = []

    def search(reader: CardReader, own: OcrbRecognizer | None,
               second: TesseractLines | None) -> MrzFound:
        calls.append("searched")
        return _found()

    ahead = SearchAhead(search, reader=CardReader(), own=None, second=None)
    checked = DocumentReader(_NoOcr(), None).text(
        np.zeros((64, 64, 3), np.uint8), card=None, typed=Typed(), today=TODAY, ahead=ahead)
    assert calls == ["searched"]
    assert checked.text.mrz is not None and checked.text.mrz.lines == TD3
    assert checked.text.mrz.valid


def test_the_slow_pass_waits_for_the_readers_word_and_stops_when_cancelled() -> None:
    reached = threading.Event()

    class Detector(CardReader):
        def detect(self, image: np.ndarray) -> None:  # type: ignore[override]
            raise AssertionError("a cancelled search must never reach the detector")

    def search(reader: CardReader, own: OcrbRecognizer | None,
               second: TesseractLines | None) -> MrzFound:
        reached.set()
        reader.detect(np.zeros((8, 8, 3), np.uint8))  # waits at the gate
        return _found()

    ahead = SearchAhead(search, reader=Detector(), own=None, second=None)
    assert reached.wait(5)
    ahead.cancel()
    with pytest.raises(SearchCancelled):
        ahead._future.result(timeout=5)


def test_a_cancelled_gate_stops_the_next_step_and_a_late_word_changes_nothing() -> None:
    gate = Gate()
    gate.check()  # undecided and running: the quick pass goes on
    gate.decide(wanted=False)
    gate.decide(wanted=True)  # the first word stands
    with pytest.raises(SearchCancelled):
        gate.check()
    with pytest.raises(SearchCancelled):
        gate.wait()


def test_one_search_recognises_each_strip_once() -> None:
    calls: list[int] = []

    class Counting(CardReader):
        def frame_probabilities(self, strip: np.ndarray, *, stretch: float = 1.0
                                ) -> tuple[np.ndarray, tuple[str, ...]]:
            calls.append(strip.shape[1])
            return np.full((4, 3), float(strip.mean()), np.float32), ("", "A", "<")

    reader, _, _ = search_tools(Counting(), None, None)
    strip = _textured(48, 300)
    first, classes = reader.frame_probabilities(strip, stretch=2.0)
    first[:] = -1  # a caller's change never reaches the next caller
    again, _ = reader.frame_probabilities(strip.copy(), stretch=2.0)
    other, _ = reader.frame_probabilities(_textured(48, 301), stretch=2.0)
    assert calls == [300, 301]
    assert classes == ("", "A", "<")
    assert float(again[0, 0]) == float(np.float32(strip.mean()))
    assert other.shape == (4, 3)


def test_a_search_made_again_reuses_what_the_cancelled_one_recognised() -> None:
    calls: list[int] = []

    class Counting(CardReader):
        def frame_probabilities(self, strip: np.ndarray, *, stretch: float = 1.0
                                ) -> tuple[np.ndarray, tuple[str, ...]]:
            calls.append(strip.shape[1])
            return np.zeros((4, 3), np.float32), ("", "A", "<")

    strip = _textured(48, 200)

    def search(reader: CardReader, own: OcrbRecognizer | None,
               second: TesseractLines | None) -> MrzFound:
        reader.frame_probabilities(strip)
        return _found()

    counting = Counting()
    ahead = SearchAhead(search, reader=counting, own=None, second=None)
    ahead._thread.join(5)
    ahead.cancel()  # a hint was read on the card: the search is made again with it
    again, _, _ = search_tools(counting, None, None, like=ahead)
    again.frame_probabilities(strip)
    assert calls == [200]
