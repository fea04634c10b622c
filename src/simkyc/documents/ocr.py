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

import cv2
import numpy as np
from numpy.typing import NDArray

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
    text_rec: Any  # the recognizer: its ONNX session, input shape, decoder's classes
    text_det: Any  # the detector: image -> (quadrilaterals, seconds)
    text_score: float  # recognitions below this score are dropped by `__call__`

    def get_crop_img_list(self, img: Any, dt_boxes: list[Any]) -> list[Any]: ...

    def __call__(self, image: Any, **options: bool) -> tuple[list[Any] | None, Any]: ...


class CardReader:
    """Reads every line of text on a card; the models load on the first call."""

    def __init__(self, *, threads: int = 2, min_score: float = 0.5) -> None:
        self.threads, self.min_score = threads, min_score
        self._engine: _Engine | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> CardReader:
        threads = settings.ocr_threads or settings.threads_per_engine()
        return cls(threads=threads, min_score=settings.ocr_min_score)

    def read(self, card: Image) -> list[TextLine]:
        """The text lines of an RGB card image, top to bottom."""
        with self._lock:
            found, _ = self._load()(np.ascontiguousarray(card[:, :, ::-1]))  # it wants BGR
        lines = [_line(item) for item in found or []]
        kept = [line for line in lines if line.score >= self.min_score and line.text.strip()]
        return sorted(kept, key=lambda line: (line.top, line.left))

    def recognise(self, card: Image, boxes: NDArray[np.float32]) -> list[TextLine]:
        """The text of the detector's `boxes` (N x 4 x 2, `card`'s pixels, from `detect`) on
        the RGB `card`, top to bottom: RapidOCR's own crops, each recognised alone, kept as
        `read` keeps them. `detect` once and `recognise` only the boxes a reading needs
        costs a fraction of `read` (recognition is most of it: ~1.0 of 1.3 CPU s on a
        card-shaped 2 MP specimen, scripts/viz_profile.py, 2026-12-05)."""
        if len(boxes) == 0:
            return []
        with self._lock:
            engine = self._load()
            bgr = np.ascontiguousarray(card[:, :, ::-1])
            crops = engine.get_crop_img_list(bgr, [box.copy() for box in boxes])
            # One crop at a time: RapidOCR's batches of 6 pad each line to the batch's
            # widest (and the recognizer's global mixing costs more than linearly in
            # width), and a line's reading then depends on the lines beside it in its
            # batch. Alone, each line reads the same whatever else is on the card, for 32%
            # less CPU (83 lines of 6 specimens' columns; 67 read identically, the rest
            # differ in spaces or a letter, either way).
            texts = [engine.text_rec([crop])[0][0] for crop in crops]
        found = [_line((box, text, score)) for box, (text, score, *_) in
                 zip(boxes, texts, strict=True)]
        least = max(self.min_score, engine.text_score)
        kept = [line for line in found if line.score >= least and line.text.strip()]
        return sorted(kept, key=lambda line: (line.top, line.left))

    def detect(self, image: Image, *, own_size: bool = False) -> NDArray[np.float32] | None:
        """The text detector's quadrilaterals (N x 4 x 2, image pixels) on an RGB image,
        without recognition: where text lies, at any angle. RapidOCR scales an image up
        until its shorter side is 736 px; `own_size` runs the detector at the image's own
        size instead (rounded to 32 px): a crop of an upright card holds text of the
        card's size whatever the crop's shape, and scaling a 440 px crop up to 736 px
        would cost 2.8 times the pixels for nothing."""
        bgr = np.ascontiguousarray(image[:, :, ::-1])
        with self._lock:
            detector = self._load().text_det
            if not own_size:
                boxes, _ = detector(bgr)
            else:
                boxes = _detect_at_own_size(detector, bgr)
        return None if boxes is None or len(boxes) == 0 else np.asarray(boxes, np.float32)

    def frame_probabilities(
        self, strip: Image, *, stretch: float = 1.0
    ) -> tuple[NDArray[np.float32], tuple[str, ...]]:
        """The recognizer's per-frame class probabilities for one line of text filling an
        RGB strip (widened `stretch` times: more frames per character), and its classes
        (0: CTC blank), for a decoding of the caller's own."""
        with self._lock:
            recognizer = self._load().text_rec
            bgr = np.ascontiguousarray(strip[:, :, ::-1])
            if stretch != 1:
                size = (round(bgr.shape[1] * stretch), bgr.shape[0])
                bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_CUBIC)
            _, height, width = recognizer.rec_image_shape
            ratio = max(width / height, bgr.shape[1] / max(bgr.shape[0], 1))
            batch = recognizer.resize_norm_img(bgr, ratio)[np.newaxis].astype(np.float32)
            probabilities = recognizer.session(batch)[0][0]
            classes = tuple(recognizer.postprocess_op.character)
        return np.asarray(probabilities, np.float32), classes

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


def _detect_at_own_size(detector: Any, bgr: Image) -> Any:
    """RapidOCR's `TextDetector.__call__` with its resizing limited to rounding each side to
    a multiple of 32 (no scaling up to 736 px)."""
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    shape = bgr.shape[:2]
    prepare = DetPreProcess(max(shape), "max", detector.mean, detector.std)
    batch = prepare(bgr)
    if batch is None:
        return None
    boxes, _ = detector.postprocess_op(detector.infer(batch)[0], shape)
    return detector.filter_tag_det_res(boxes, shape)


def _line(item: Any) -> TextLine:
    """RapidOCR's [corners, text, score] as a TextLine."""
    corners, text, score = item
    points = np.asarray(corners, np.float64)
    low, high = points.min(axis=0), points.max(axis=0)
    return TextLine(str(text), float(score), float(low[0]), float(low[1]), float(high[0]),
                    float(high[1]))
