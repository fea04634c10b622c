"""simkyc's own OCR-B recognizer for MRZ lines: a small classifier slid along the line.

An MRZ line is one row of OCR-B at a fixed pitch (10 characters per inch, ICAO Doc 9303
Part 3) from a 37-symbol alphabet (A-Z, 0-9, `<`). In the OCR-B face a character's advance
is about its capital height (0.99 in Debian's fonts-ocr-b), so once the capital height of a
cut-out line is measured (`text_rows`) the pitch is known without reading anything. A window
one pitch wide is slid along the line an eighth of a pitch at a time; each window is
classified (a two-hidden-layer MLP, numpy only) as one of the 37 symbols centred in it, or
`blank` (between two characters). The per-window log-probabilities have the layout of
`mrz_decode.mrz_scores` (column 0 blank, then A-Z, 0-9, `<`). They are decoded as what they
are, a fixed-pitch line (`mrz_decode.decode_pitched_lines`): exactly its format's number of
characters, one pitch apart, each position from its own alphabet, so a character the
classifier misses or sees twice cannot shift the rest of the line.

The weights are trained on synthetic lines only (`ocrb_lines`, `scripts/train_ocrb.py`,
fixed seed), never on the real specimens, which are evaluation data. They are loaded by
path and checked against their pinned SHA-256 (`WEIGHTS_SHA256`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from simkyc.documents.mrz_decode import MRZ_ALPHABET
from simkyc.errors import ModelUnavailable
from simkyc.types import Image

CLASSES = "\x00" + MRZ_ALPHABET  # 0: blank (between characters), then the MRZ symbols
WINDOW_W, WINDOW_H = 20, 24  # the classifier's input, pixels
# A window spans one pitch across, and the capital height plus this share above and below.
WINDOW_MARGIN = 0.25
PITCH_PER_HEIGHT = 0.99  # OCR-B: advance / capital height (Debian fonts-ocr-b, OCRB.otf)
MIN_STRIP_HEIGHT = 6  # px: a strip this low holds no legible line
# A colour strip is read with its colours dropped too (`dropout`) unless its channels
# differ by less than this almost everywhere (`_colourless`): grey print on grey-white paper,
# as most MRZ strips are, costs the second reading (~45 ms of CPU a document) for nothing.
CHROMA = 24
# Windows an eighth of a pitch apart: each character centred within 1/16 pitch once, and a
# character's neighbour 8 windows on (`FRAMES_PER_CHAR`), which the fixed-pitch decoder
# needs to tell a neighbour (8 +- 20%) from a character seen twice (~4) or missed (~16).
STRIDE = 0.125
FRAMES_PER_CHAR = round(1 / STRIDE)
# The weights were trained on windows a quarter pitch apart (`scripts/train_ocrb.py`); the
# recognizer's free reading (`mrz_decode.greedy_text`, which picks the formats to try) was
# measured on that grid too: every COARSE_STEP-th window is that grid.
TRAIN_STRIDE = 0.25
COARSE_STEP = round(TRAIN_STRIDE / STRIDE)
WEIGHTS = Path(__file__).with_name("ocrb_mlp.npz")
# SHA-256 of WEIGHTS, as `scripts/train_ocrb.py --seed 7 --lines 3000 --epochs 8` wrote them
# (323 KB; 99.0% of held-out synthetic windows right).
WEIGHTS_SHA256 = "86cd874874180964bedae258979abc4b41ad6e659a523f1e09cc02ea16529d6e"


@dataclass(frozen=True)
class TextRows:
    """Where a line's characters sit in its strip (grey, 0-255): top and bottom row of the
    capitals, and the pitch that follows from their height."""

    top: float
    bottom: float

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def pitch(self) -> float:
        return PITCH_PER_HEIGHT * self.height


def grey(strip: Image) -> NDArray[np.float32]:
    """A strip as grey levels 0 (ink) .. 1 (paper), stretched between its 5th and 95th
    percentiles (print contrast and lighting vary a lot between documents)."""
    g = strip if strip.ndim == 2 else cv2.cvtColor(strip, cv2.COLOR_RGB2GRAY)
    g = g.astype(np.float32)
    low, high = np.percentile(g, 5), np.percentile(g, 95)
    return np.asarray(np.clip((g - low) / max(high - low, 1.0), 0.0, 1.0), np.float32)


def text_rows(g: NDArray[np.float32]) -> TextRows:
    """The capital height of the line in `g`: the longest run of rows dense in ink around
    the strip's middle (rows whose ink share reaches a third of the densest row's)."""
    height = g.shape[0]
    ink = (g < 0.5).mean(axis=1)
    smooth = np.convolve(ink, np.ones(3) / 3, mode="same")
    dense = smooth >= max(0.33 * float(smooth.max()), 0.02)
    middle = height // 2
    best, best_len = (0.2 * height, 0.8 * height), 0.0
    start = None
    for row in range(height + 1):
        on = row < height and dense[row]
        if on and start is None:
            start = row
        elif not on and start is not None:
            covers = start <= middle + 0.25 * height and row >= middle - 0.25 * height
            if covers and row - start > best_len:
                best, best_len = (float(start), float(row)), float(row - start)
            start = None
    top, bottom = best
    if bottom - top < 0.3 * height:  # nothing sensible found: the strip's usual proportion
        top, bottom = 0.19 * height, 0.81 * height
    return TextRows(top, bottom)


def windows(g: NDArray[np.float32], rows: TextRows, *, start: float = 0.0,
            stop: float | None = None, stride: float = STRIDE
            ) -> tuple[NDArray[np.float32], NDArray[np.float64]]:
    """The classifier's inputs along the line: one window per `stride` pitch from `start` to
    `stop` (x of the window's centre, strip pixels), each WINDOW_H x WINDOW_W, flattened;
    and the centres."""
    pitch = rows.pitch
    stop = g.shape[1] if stop is None else stop
    centres = np.arange(start, stop, stride * pitch)
    margin = WINDOW_MARGIN * rows.height
    top, bottom = rows.top - margin, rows.bottom + margin
    # One resize of the whole line to the window grid, then slices: cheap and exact.
    scale_x = WINDOW_W / pitch
    pad = int(np.ceil(pitch + margin)) + 2
    padded = cv2.copyMakeBorder(g, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    band = padded[max(0, round(top) + pad) : round(bottom) + pad]
    width = max(WINDOW_W, round(padded.shape[1] * scale_x))
    shrink = scale_x < 1 or band.shape[0] > WINDOW_H
    line = cv2.resize(band, (width, WINDOW_H),
                      interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    lefts = np.round((centres + pad) * scale_x - WINDOW_W / 2).astype(np.int64)
    lefts = np.clip(lefts, 0, max(0, line.shape[1] - WINDOW_W))
    out = np.stack([line[:, left : left + WINDOW_W] for left in lefts]) if len(lefts) else (
        np.zeros((0, WINDOW_H, WINDOW_W), np.float32))
    return out.reshape(len(lefts), -1).astype(np.float32), centres


@dataclass(frozen=True, eq=False)
class OcrbRecognizer:
    """The trained MLP: weights and biases of its three layers."""

    layers: tuple[tuple[NDArray[np.float32], NDArray[np.float32]], ...]

    @classmethod
    def load(cls, path: Path = WEIGHTS, *, sha256: str | None = WEIGHTS_SHA256
             ) -> OcrbRecognizer:
        """The weights at `path`, refused unless their SHA-256 is `sha256` (None: any)."""
        data = path.read_bytes()
        if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
            raise ModelUnavailable(f"{path} is not the OCR-B recognizer this release pins "
                                   "(SHA-256 differs): reinstall simkyc.")
        with np.load(path) as arrays:
            count = len([k for k in arrays.files if k.startswith("w")])
            layers = tuple((arrays[f"w{i}"].astype(np.float32), arrays[f"b{i}"].astype(np.float32))
                           for i in range(count))
        return cls(layers)

    def log_probabilities(self, inputs: NDArray[np.float32]) -> NDArray[np.float64]:
        """Each input window's log-probability of blank and each MRZ symbol, (n, 38)."""
        x = inputs
        for index, (weights, bias) in enumerate(self.layers):
            x = x @ weights + bias
            if index < len(self.layers) - 1:
                x = np.maximum(x, 0.0)
        x = x.astype(np.float64)
        x -= x.max(axis=1, keepdims=True)
        logs: NDArray[np.float64] = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
        return logs

    def line_scores(self, strip: Image) -> NDArray[np.float64]:
        """The per-window scores of one cut-out line (any size, RGB or grey), left to right,
        STRIDE pitch apart, in `mrz_decode`'s column layout. (Choosing among window widths
        from the line's own period as well read more synthetic lines but fewer real ones,
        and verified 3 wrong: the capitals' height alone decides the window; the decoder
        finds the pitch in frames within PITCH_SEARCH of it.)

        A colour strip is read twice, as grey levels and with its colours dropped
        (`dropout`), at the same windows, and the two readings' probabilities averaged: a
        character the two views disagree on (a stamp's red over an `L` read `I` in grey,
        surely) is then in doubt, where one view alone was sure and wrong."""
        if strip.shape[0] < MIN_STRIP_HEIGHT or strip.shape[1] < 2 * MIN_STRIP_HEIGHT:
            return np.zeros((0, len(CLASSES)))  # a band cut at the image's edge: no frames
        g = grey(strip)
        rows = text_rows(g)
        scores = self.log_probabilities(windows(g, rows)[0])
        if strip.ndim == 2:
            return scores
        bright = dropout(strip)
        if _colourless(strip, bright):
            return scores
        dropped = self.log_probabilities(windows(grey(bright), rows)[0])
        mean = np.logaddexp(scores, dropped) - np.log(2.0)
        return np.asarray(mean, np.float64)


def _colourless(strip: Image, bright: Image) -> bool:
    """Whether dropping the strip's colours (`bright`, its `dropout`) changes it by less than
    CHROMA levels almost everywhere (its 99th percentile of max - min channel; max - grey is
    never more): the dropped view would read as the grey one, so it is not read."""
    spread = bright.astype(np.int16) - strip.min(axis=2)
    return float(np.percentile(spread, 99)) < CHROMA


def dropout(strip: Image) -> Image:
    """An RGB strip with its colours dropped: each pixel's brightest channel. The MRZ is
    printed in black (ICAO Doc 9303 Part 3: it must read in the near infrared, where only
    carbon-black ink absorbs), so ink stays dark in every channel while coloured print over
    or under it (stamps, security inks, a UV lamp's tint) turns light, as a reader's
    infrared camera sees it. Measured on 400 unseen synthetic names lines
    (`scripts/calibrate_ocrb_margin.py --lines 400`): letters misread with a lead of
    `mrz_read.MIN_MARGIN_ALONE` or more 4 -> 1 with both views averaged (right letters that
    sure 94.2% -> 92.9%, re-measured 2026-12-05 with CHROMA); the dropped view alone read
    worse (45 -> 69 wrong of ~9,700), the recognizer being trained on grey."""
    return np.ascontiguousarray(strip.max(axis=2))
