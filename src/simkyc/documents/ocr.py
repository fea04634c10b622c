"""Text on an upright card image, read by RapidOCR's PP-OCRv4 models in ONNX Runtime.

The `rapidocr_onnxruntime` wheel carries its detection, orientation and recognition models
(Chinese and Latin; Apache-2.0), so nothing is downloaded. The engine is built on the first
read, once per `CardReader`, never at import. It is installed without its declared
`opencv-python` dependency (see run.sh): simkyc's one cv2 is opencv-contrib-python.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from simkyc.config import Settings
from simkyc.errors import ModelUnavailable
from simkyc.types import Image

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TextLine:
    """One line of text found on the card: what it says, how sure, where (card pixels)."""

    text: str
    score: float
    left: float
    top: float
    right: float
    bottom: float

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def centre_y(self) -> float:
        return (self.top + self.bottom) / 2


class _Engine(Protocol):
    def __call__(self, image: Any, **options: bool) -> tuple[list[Any] | None, Any]: ...


class CardReader:
    """Reads every line of text on a card; the models load on the first call."""

    def __init__(self, *, threads: int = 2, min_score: float = 0.5) -> None:
        self.threads, self.min_score = threads, min_score
        self._engine: _Engine | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> CardReader:
        return cls(threads=settings.ocr_threads, min_score=settings.ocr_min_score)

    def read(self, card: Image) -> list[TextLine]:
        """The text lines of an RGB card image, top to bottom."""
        with self._lock:
            found, _ = self._load()(np.ascontiguousarray(card[:, :, ::-1]))  # it wants BGR
        lines = [_line(item) for item in found or []]
        kept = [line for line in lines if line.score >= self.min_score and line.text.strip()]
        return sorted(kept, key=lambda line: (line.top, line.left))

    def recognize(self, strip: Image) -> tuple[str, float]:
        """The text of one line of text filling an RGB image strip (no detection)."""
        with self._lock:
            found, _ = self._load()(np.ascontiguousarray(strip[:, :, ::-1]), use_det=False,
                                    use_cls=False)
        if not found:
            return "", 0.0
        text, score = found[0]
        return str(text), float(score)

    def _load(self) -> _Engine:
        if self._engine is None:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as error:
                raise ModelUnavailable(
                    "The OCR models are not installed (rapidocr_onnxruntime, see run.sh)."
                ) from error
            self._engine = RapidOCR(
                intra_op_num_threads=self.threads, inter_op_num_threads=1, text_score=0.3,
                use_cls=False,  # the card is upright already (portrait extraction turned it)
            )
            log.info("RapidOCR loaded (%d threads)", self.threads)
        return self._engine


def _line(item: Any) -> TextLine:
    """RapidOCR's [corners, text, score] as a TextLine."""
    corners, text, score = item
    points = np.asarray(corners, np.float64)
    low, high = points.min(axis=0), points.max(axis=0)
    return TextLine(str(text), float(score), float(low[0]), float(low[1]), float(high[0]),
                    float(high[1]))
