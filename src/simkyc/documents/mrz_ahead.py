"""The MRZ search run ahead, beside the portrait, on a thread of its own.

`DocumentReader.read` looks for the MRZ over the whole image (`mrz_read.find_mrz`) only
after the portrait and the card's text, because the card may make the search needless (its
band's MRZ verified, or it is a resident ID card) or give it a hint (the visual zone's
document number). Most documents settle neither: a passport page, or a photo with no card
outline, is searched with no hint at all. So the search starts at once, with no hint, while
the portrait is found (ONNX Runtime and OpenCV release the GIL: the two share the 2 cores),
and the reader then takes its result only where the sequential reading would have made the
very same call (`find_mrz` with no hint); anywhere else it is cancelled and, where still
needed, made again as before. The one exception is the quick pass's own verified result
(`SearchAhead.quick`): a card-shaped document waits for it before its text is read, and an
MRZ it verified settles the card's reading (no band read again, only the visual zone's
column: `reading.DocumentReader`).

What a cancelled search may cost is bounded: it runs its quick pass (morphology and the own
recognizer, ~0.1-0.4 s of CPU) at once, but waits before the text detector, the first step
of its slow pass (seconds), until the reader says whether the result is wanted (`Gate`).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import cast

import numpy as np
from numpy.typing import NDArray

from simkyc.documents.mrz_read import MrzFound
from simkyc.documents.ocr import CardReader
from simkyc.documents.ocrb import OcrbRecognizer
from simkyc.documents.tesseract import TesseractLines
from simkyc.types import Image


class SearchCancelled(Exception):
    """Raised inside a search ahead whose result the reader no longer wants."""


class Gate:
    """The reader's word to a search ahead: undecided, wanted, or cancelled."""

    def __init__(self) -> None:
        self._decided = threading.Event()
        self._wanted = False
        # Set when the search waits for `decide` (its quick pass done) or has ended.
        self.idle = threading.Event()

    def decide(self, *, wanted: bool) -> None:
        """Wanted: the search goes on to its slow pass; else it stops at its next step."""
        if not self._decided.is_set():
            self._wanted = wanted
            self._decided.set()

    def check(self) -> None:
        """Raise SearchCancelled when the result is no longer wanted."""
        if self._decided.is_set() and not self._wanted:
            raise SearchCancelled

    def wait(self) -> None:
        """Block until the reader decides (the slow pass's door); then `check`."""
        self.idle.set()
        self._decided.wait()
        self.check()


def _key(strip: Image, *extra: float) -> tuple[object, ...]:
    """A strip's identity: its shape and a digest of its pixels."""
    digest = hashlib.blake2b(np.ascontiguousarray(strip).tobytes(), digest_size=16).digest()
    return (strip.shape, digest, *extra)


class _GatedReader:
    """RapidOCR as the search sees it: its detector (the slow pass's first step) waits at
    the gate, every recognition checks it; a strip read once is not read again."""

    def __init__(self, reader: CardReader, gate: Gate) -> None:
        self._reader, self._gate = reader, gate
        self._read: dict[tuple[object, ...], tuple[NDArray[np.float32], tuple[str, ...]]] = {}

    def detect(self, image: Image) -> NDArray[np.float32] | None:
        self._gate.wait()
        return self._reader.detect(image)

    def frame_probabilities(
        self, strip: Image, *, stretch: float = 1.0
    ) -> tuple[NDArray[np.float32], tuple[str, ...]]:
        self._gate.check()
        key = _key(strip, stretch)
        if key not in self._read:
            self._read[key] = self._reader.frame_probabilities(strip, stretch=stretch)
        frames, classes = self._read[key]
        return frames.copy(), classes


class _GatedOwn:
    """The own recognizer, checking the gate before each line; a line read once is not
    read again."""

    def __init__(self, own: OcrbRecognizer, gate: Gate) -> None:
        self._own, self._gate = own, gate
        self._read: dict[tuple[object, ...], NDArray[np.float64]] = {}

    def line_scores(self, strip: Image) -> NDArray[np.float64]:
        self._gate.check()
        key = _key(strip)
        if key not in self._read:
            self._read[key] = self._own.line_scores(strip)
        return self._read[key].copy()


class _GatedSecond:
    """Tesseract, checking the gate before each band."""

    def __init__(self, second: TesseractLines, gate: Gate) -> None:
        self._second, self._gate = second, gate

    @property
    def available(self) -> bool:
        return self._second.available

    def read(self, strips: list[Image]) -> tuple[str, ...] | None:
        self._gate.check()
        return self._second.read(strips)


def search_tools(reader: CardReader, own: OcrbRecognizer | None,
                 second: TesseractLines | None, gate: Gate | None = None, *,
                 like: SearchAhead | None = None
                 ) -> tuple[CardReader, OcrbRecognizer | None, TesseractLines | None]:
    """The readers one MRZ search is given: behind `gate` (None: one already open), and
    remembering each strip they read. One search reads the same strips more than once: the
    own recognizer reads the text detector's bands in its own pass and again as RapidOCR's
    witness, and Tesseract's pass reads the likeliest band by both once more. Each strip is
    recognised once (the same pixels give the same scores: the results do not change)."""
    if gate is None:
        gate = Gate()
        gate.decide(wanted=True)
    gated_reader = _GatedReader(reader, gate)
    gated_own = None if own is None else _GatedOwn(own, gate)
    if like is not None:  # what a cancelled search ahead recognised serves the search again
        gated_reader._read = like.readers[0]._read
        if gated_own is not None and like.readers[1] is not None:
            gated_own._read = like.readers[1]._read
    return (cast(CardReader, gated_reader),
            None if gated_own is None else cast(OcrbRecognizer, gated_own),
            None if second is None else cast(TesseractLines, _GatedSecond(second, gate)))


Search = Callable[[CardReader, OcrbRecognizer | None, TesseractLines | None], MrzFound]


class SearchAhead:
    """One search started on its own thread with gated readers; `take` (its result, the
    reader wanting it) or `cancel` ends it."""

    def __init__(self, search: Search, *, reader: CardReader, own: OcrbRecognizer | None,
                 second: TesseractLines | None) -> None:
        self.gate = Gate()
        self._future: Future[MrzFound] = Future()
        gated = search_tools(reader, own, second, self.gate)
        self.readers = (cast(_GatedReader, gated[0]), cast(_GatedOwn | None, gated[1]))
        self._thread = threading.Thread(target=self._run, args=(search, *gated),
                                        name="mrz-ahead", daemon=True)
        self._thread.start()

    def _run(self, search: Search, reader: CardReader, own: OcrbRecognizer | None,
             second: TesseractLines | None) -> None:
        try:
            self._future.set_result(search(reader, own, second))
        except BaseException as error:  # handed to the taker, never lost
            self._future.set_exception(error)
        finally:
            self.gate.idle.set()

    def quick(self) -> MrzFound | None:
        """What the quick pass verified (morphology's bands read by the own recognizer,
        ~0.1 s of CPU), once it is known; None when it verified nothing (the search then
        waits, undecided, before its slow pass: `take` or `cancel` it). A card-shaped
        document whose MRZ this verifies is read no further for its MRZ
        (`reading.DocumentReader`)."""
        self.gate.idle.wait()
        if not self._future.done() or self._future.exception() is not None:
            return None
        found = self._future.result()
        return found if found.verified else None

    def take(self) -> MrzFound:
        """The search's result (its errors raised here, in the reader's thread)."""
        self.gate.decide(wanted=True)
        return self._future.result()

    def cancel(self) -> None:
        """Stop the search at its next step; its result, if any, is dropped."""
        self.gate.decide(wanted=False)
