"""Where the machine readable zone lies in a whole image: any place, any angle, any size.

The text detector (RapidOCR's DB model) runs once over the whole image, shrunk to
`DETECT_MAX_SIDE`, and returns each piece of text as a rotated box. An MRZ line is long and
thin, printed in one face at one size, with two or three lines of it stacked close together
and left-aligned (ICAO Doc 9303 Parts 4-7). So the pieces are grouped by their angle, lined
up into rows in the frame of that angle (detection often breaks a line at a run of fillers
`<`), and the rows long enough to be a 30-, 36- or 44-character line (`MIN_ROW_LENGTH` line
heights) are stacked into bands of two or three. Nothing here depends on a card outline or a
portrait: a passport page scanned flat, a card photographed on a table, a visa on a page, a
document lying sideways. Which way up the band reads (0 or 180 degrees) is left to the
reader: the check digits pick it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from simkyc.types import Image

# Detection runs on a copy no longer than this: an MRZ line of a document that spans a
# quarter of a 2 MP photo's width still gets ~8 px per character (DB finds lines of 6 px+).
DETECT_MAX_SIDE = 1280
MAX_ENLARGE = 2.0
# A piece of text shorter than this (length / height) sets no direction of writing; pieces
# down to MIN_FRAGMENT_ASPECT still join a row (a line's last check digits, "<10", found
# apart after a run of fillers the detector skipped).
MIN_PIECE_ASPECT = 2.5
MIN_FRAGMENT_ASPECT = 0.8
# A run of fillers breaks a line into pieces up to ~25 characters (~18 box heights) apart.
MAX_ROW_GAP = 18.0
# Pieces within this many degrees of each other belong to one direction of writing.
ANGLE_TOLERANCE = 6.0
# An MRZ line is 30 (TD1) to 44 (TD3) characters of OCR-B at 2.54 mm pitch, its detected
# box ~3-4 mm high: 19-37 box heights long. 13 leaves room for a line cut short at its end.
MIN_ROW_LENGTH = 13.0
# A line detection stopped at its run of fillers (`I<UTOD231458907` of a TD1's first line,
# 15 characters, ~10 box heights) is kept as the neighbour of a full-length row down to
# this many box heights.
MIN_PART_LENGTH = 6.0
# A gap wider than this (box heights) within a row also splits it in parts (each a row of
# its own besides the whole): OCR-B's widest gap between characters is well under one.
SPLIT_GAP = 3.0
# Lines of one MRZ are 1.3-2.2 box heights apart (centres) and share their left edge.
MAX_LINE_GAP = 2.6
MIN_LINE_GAP = 0.8  # closer than this, two rows are one line's (a row and its part)
ALIGN_SLACK = 2.5  # box heights the rows' left edges (and lengths) may differ by
MAX_BANDS = 4
# A band's rows are lengthened while dark strokes continue with gaps under INK_GAP line
# (box) heights (OCR-B's gap between characters: ~0.3 of a capital, ~0.2 of a box), to at
# most MAX_LINE_LENGTH heights (a 44-character line is ~31 box heights).
INK_GAP = 0.9
MAX_LINE_LENGTH = 36.0
# A row alone this long (box heights) is taken for a 44- or 36-character line whose
# neighbour the detector missed; that neighbour is looked for LINE_PITCH heights away.
LONE_ROW_LENGTH = 22.0
LINE_PITCH = 1.75
# Bands with a line guessed where the detector found none (`_stacks`), read after those
# found whole.
MAX_GUESSES = 12


@dataclass(frozen=True)
class TextBox:
    """One piece of text the detector found: centre, direction and size (image pixels)."""

    centre: tuple[float, float]
    angle: float  # degrees, direction of writing, in [-90, 90)
    length: float
    height: float


@dataclass(frozen=True)
class MrzBand:
    """Two or three MRZ-like rows of text: where they are and how to cut them out.

    `angle` turns the image so the rows run left to right (they may still read upside
    down); `rows` are each row's (left, right, centre y, height) in that turned frame,
    top to bottom, and `turn` is the 2x3 affine matrix of the turn.
    """

    angle: float
    turn: NDArray[np.float64]
    size: tuple[int, int]  # width, height of the turned image
    rows: tuple[tuple[float, float, float, float], ...]
    guessed: bool = False  # a line of it guessed where the detector found none

    @property
    def line_height(self) -> float:
        return float(np.median([row[3] for row in self.rows]))


def text_boxes(quads: NDArray[np.float32] | None, scale: float) -> list[TextBox]:
    """The detector's quadrilaterals (in a copy `scale` times the image) as TextBoxes."""
    boxes: list[TextBox] = []
    for quad in [] if quads is None else quads:
        (cx, cy), (w, h), angle = cv2.minAreaRect(np.asarray(quad, np.float32) / scale)
        if w < h:
            w, h, angle = h, w, angle + 90
        angle = (angle + 90) % 180 - 90
        if h > 0 and w / h >= MIN_FRAGMENT_ASPECT:
            boxes.append(TextBox((float(cx), float(cy)), float(angle), float(w), float(h)))
    return boxes


def find_bands(image: Image, boxes: list[TextBox]) -> list[MrzBand]:
    """The MRZ-like bands the text pieces form: the runs of rows found, the likeliest
    (longest rows) first, up to MAX_BANDS; then up to MAX_GUESSES bands with a line the
    detector missed, guessed beside the rows it found (`_stacks`)."""
    found: list[tuple[float, MrzBand]] = []
    guessed: list[tuple[float, MrzBand]] = []
    for angle in _directions(boxes):
        members = [b for b in boxes if _angle_gap(b.angle, angle) <= ANGLE_TOLERANCE]
        turn, size = _turn(image, angle)
        stacks, guesses = _stacks(_rows(members, turn))
        for band_rows in stacks:  # the longer the rows, the likelier an MRZ
            score = sum(right - left for left, right, _, _ in band_rows)
            found.append((score, MrzBand(angle, turn, size, tuple(band_rows))))
        for band_rows in guesses:  # a lone long row before a short run of two
            if not all(0 <= row[2] < size[1] for row in band_rows):
                continue  # a line guessed beyond the image's edge
            score = band_rows[0][1] - band_rows[0][0]
            guessed.append((score, MrzBand(angle, turn, size, tuple(band_rows), True)))
    bands = _best(found, MAX_BANDS) + _best(guessed, MAX_GUESSES)
    return [_extended(image, band) for band in bands]


def _extended(image: Image, band: MrzBand) -> MrzBand:
    """`band` with its rows' ends moved out to where the print ends: left or right, as long
    as dark strokes continue with no gap wider than INK_GAP line heights (detection often
    stops a line where its run of fillers starts, so the strip would lose the line's last
    characters; a line at the image's edge loses its first). Never shorter, never longer
    than MAX_LINE_LENGTH heights."""
    width = band.size[0]
    height = band.line_height
    top = min(row[2] for row in band.rows) - 0.5 * height
    bottom = max(row[2] for row in band.rows) + 0.5 * height
    box = (0, max(0, round(top)), width, min(band.size[1], round(bottom)))
    strip = _warp_strip(image, band.turn, box)
    if strip.size == 0:
        return band
    grey = cv2.cvtColor(strip, cv2.COLOR_RGB2GRAY) if strip.ndim == 3 else strip
    size = max(3, round(height))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    strokes = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, kernel)
    _, ink = cv2.threshold(strokes, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    columns = (ink > 0).sum(axis=0) >= max(1, round(0.1 * (box[3] - box[1])))
    left, right = band.rows[0][0], band.rows[0][1]
    gap, limit = INK_GAP * height, MAX_LINE_LENGTH * height
    new_left, new_right = _ink_end(columns, left, -1, gap), _ink_end(columns, right, 1, gap)
    new_left = max(new_left, right - limit)
    new_right = min(new_right, new_left + limit) if new_right - new_left > limit else new_right
    if new_left >= left and new_right <= right:
        return band
    rows = tuple((min(left, new_left), max(right, new_right), centre, h)
                 for _, _, centre, h in band.rows)
    return MrzBand(band.angle, band.turn, band.size, rows, band.guessed)


def _ink_end(columns: NDArray[np.bool_], start: float, step: int, gap: float) -> float:
    """From column `start`, the last inked column going `step`-wards before a run of
    `gap` columns without ink."""
    last = x = int(np.clip(round(start), 0, len(columns) - 1))
    while 0 <= x < len(columns) and abs(x - last) <= gap:
        if columns[x]:
            last = x
        x += step
    return float(last)


def _best(bands: list[tuple[float, MrzBand]], count: int) -> list[MrzBand]:
    """The `count` highest-scoring bands, each place once."""
    chosen: list[MrzBand] = []
    for _, band in sorted(bands, key=lambda item: -item[0]):
        rounded = [tuple(round(v) for v in row) for row in band.rows]
        if all(round(band.angle, 1) != round(other.angle, 1)
               or rounded != [tuple(round(v) for v in row) for row in other.rows]
               for other in chosen):
            chosen.append(band)
        if len(chosen) == count:
            break
    return chosen


def band_strips(image: Image, band: MrzBand, *, upside_down: bool) -> list[Image]:
    """Each row of `band` cut out level (turned 180 degrees, bottom row first, if
    `upside_down`), with a margin of a fraction of its height. Only the strips are warped
    (`_strip_box`, `_warp_strip`), not the whole turned image: the same pixels, up to
    OpenCV's fixed-point rounding, for a few hundredths of the work (a band of a 2 MP photo
    turned whole cost ~11 ms a warp, twice per band: 10.5 s of warps over the 68 specimens'
    slow path, 2026-12-05)."""
    strips: list[Image] = []
    for row in band.rows:
        strip = _warp_strip(image, band.turn, _strip_box(row, band.size))
        strips.append(np.ascontiguousarray(strip[::-1, ::-1]) if upside_down else strip)
    return strips[::-1] if upside_down else strips


def _strip_box(row: tuple[float, float, float, float],
               size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The pixel box (left, top, right, bottom) of one row and its margins in the turned
    frame, clipped to that frame."""
    width, height = size
    left, right, centre, row_height = row
    half, pad = 0.62 * row_height, 0.8 * row_height
    top, bottom = max(0, round(centre - half)), min(height, round(centre + half))
    x0, x1 = max(0, round(left - pad)), min(width, round(right + pad))
    return x0, top, max(x0, x1), max(top, bottom)


def _warp_strip(image: Image, turn: NDArray[np.float64],
                box: tuple[int, int, int, int]) -> Image:
    """The `box` (left, top, right, bottom) of the image turned by `turn`, warped alone: the
    turn moved so that the box's corner is the origin."""
    x0, top, x1, bottom = box
    if x1 <= x0 or bottom <= top:
        return np.zeros((max(0, bottom - top), max(0, x1 - x0), *image.shape[2:]), np.uint8)
    moved = turn.copy()
    moved[0, 2] -= x0
    moved[1, 2] -= top
    strip = cv2.warpAffine(image, moved, (x1 - x0, bottom - top), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(strip, np.uint8)


def _directions(boxes: list[TextBox]) -> list[float]:
    """The main directions of writing: the longest pieces' angles, each once."""
    found: list[float] = []
    for box in sorted(boxes, key=lambda b: -b.length / b.height):
        if box.length / box.height < MIN_PIECE_ASPECT:
            break
        if all(_angle_gap(box.angle, angle) > ANGLE_TOLERANCE for angle in found):
            found.append(box.angle)
        if len(found) == 3:
            break
    return found


def _angle_gap(a: float, b: float) -> float:
    """Degrees between two directions of a line (180 apart is the same line)."""
    gap = abs(a - b) % 180
    return min(gap, 180 - gap)


def _turn(image: Image, angle: float) -> tuple[NDArray[np.float64], tuple[int, int]]:
    """The affine turn by `angle` degrees that makes that direction horizontal, sized to
    keep the whole image."""
    height, width = image.shape[:2]
    matrix = np.asarray(cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0),
                        np.float64)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(height * sin + width * cos) + 1, int(height * cos + width * sin) + 1
    matrix[0, 2] += new_w / 2 - width / 2
    matrix[1, 2] += new_h / 2 - height / 2
    return matrix, (new_w, new_h)


def _rows(boxes: list[TextBox], turn: NDArray[np.float64]) -> list[list[float]]:
    """Pieces turned level and joined into rows: [left, right, centre y, height]. Besides
    each row, its parts between gaps wider than SPLIT_GAP line heights (an MRZ printed on
    the same level as the card's other text, a card's two sides side by side: the row
    joins them, the band is one part). Rows shorter than MIN_ROW_LENGTH are kept down to
    MIN_PART_LENGTH: a line cut short where detection stopped at its run of fillers
    (`_stacks` takes one only beside a full-length row)."""
    pieces = []
    for box in boxes:
        x, y = turn @ np.array([box.centre[0], box.centre[1], 1.0])
        pieces.append([x - box.length / 2, x + box.length / 2, float(y), box.height])
    pieces.sort(key=lambda p: p[0])
    rows: list[list[list[float]]] = []  # each row's pieces, left to right
    for piece in pieces:
        row = next((r for r in rows if abs(_joined(r)[2] - piece[2]) < 0.5 * _joined(r)[3]
                    and piece[0] - _joined(r)[1] < MAX_ROW_GAP * _joined(r)[3]
                    and 0.6 < piece[3] / _joined(r)[3] < 1.6), None)
        if row is None:
            rows.append([piece])
        else:
            row.append(piece)
    found: list[list[float]] = []
    for row in rows:
        joined = _joined(row)
        for part in [joined, *(_joined(p) for p in _parts(row, joined[3]))]:
            if (part[1] - part[0]) / part[3] >= MIN_PART_LENGTH and part not in found:
                found.append(part)
    return found


def _joined(pieces: list[list[float]]) -> list[float]:
    """Pieces of one row as one [left, right, centre y, height]: the centre weighted by
    each piece's length, the tallest piece's height."""
    spans = [max(p[1] - p[0], 1e-6) for p in pieces]
    centre = sum(p[2] * s for p, s in zip(pieces, spans, strict=True)) / sum(spans)
    return [min(p[0] for p in pieces), max(p[1] for p in pieces), centre,
            max(p[3] for p in pieces)]


def _parts(pieces: list[list[float]], height: float) -> list[list[list[float]]]:
    """A row's pieces split where the gap between two exceeds SPLIT_GAP heights ([] when
    there is no such gap)."""
    parts: list[list[list[float]]] = [[pieces[0]]]
    right = pieces[0][1]
    for piece in pieces[1:]:
        if piece[0] - right > SPLIT_GAP * height:
            parts.append([])
        parts[-1].append(piece)
        right = max(right, piece[1])
    return parts if len(parts) > 1 else []


def _stacks(rows: list[list[float]]) -> tuple[list[list[tuple[float, float, float, float]]],
                                              list[list[tuple[float, float, float, float]]]]:
    """Runs of two or three rows one under the other, left-aligned and of one height, at
    least one of them MIN_ROW_LENGTH long: possible MRZs. Every row of a run spans the
    run's full width (detection often stops a line where its run of fillers starts). A
    row as long as a passport's line (LONE_ROW_LENGTH heights) also gives the two runs its
    missing neighbour would make, and a run of two the two runs of three a third line
    would make, at the run's own line pitch (a line the detector missed: under a stamp,
    faint, at the image's edge): the second list, guesses."""
    rows = sorted(rows, key=lambda r: r[2])
    stacks: list[list[list[float]]] = []
    for start, first in enumerate(rows):
        stack = [first]
        for row in rows[start + 1 :]:
            last = stack[-1]
            height = max(last[3], row[3])
            if row[2] - last[2] > MAX_LINE_GAP * height:
                break
            if (row[2] - last[2] > MIN_LINE_GAP * height
                    and abs(row[0] - first[0]) <= ALIGN_SLACK * height
                    and 0.7 < row[3] / last[3] < 1.4):
                stack.append(row)
            if len(stack) == 3:
                break
        if len(stack) >= 2 and any(_long(row) for row in stack):
            stacks.append(stack)
            if len(stack) == 3 and any(_long(row) for row in stack[1:]):
                stacks.append(stack[1:])
    guesses: list[list[list[float]]] = []
    for row in rows:
        if (row[1] - row[0]) / row[3] >= LONE_ROW_LENGTH:
            pitch = LINE_PITCH * row[3]
            guesses += [[[*row[:2], row[2] - pitch, row[3]], row],
                        [row, [*row[:2], row[2] + pitch, row[3]]]]
    for stack in stacks:
        if len(stack) == 2:
            (top, bottom), pitch = stack, stack[1][2] - stack[0][2]
            guesses += [[[*top[:2], top[2] - pitch, top[3]], top, bottom],
                        [top, bottom, [*bottom[:2], bottom[2] + pitch, bottom[3]]]]
    return [_widened(stack) for stack in stacks], [_widened(stack) for stack in guesses]


def _long(row: list[float]) -> bool:
    """A row long enough to be a whole MRZ line (or most of one)."""
    return (row[1] - row[0]) / row[3] >= MIN_ROW_LENGTH


def _widened(stack: list[list[float]]) -> list[tuple[float, float, float, float]]:
    """The rows of a run, each given the run's full width."""
    left, right = min(r[0] for r in stack), max(r[1] for r in stack)
    return [(left, right, r[2], r[3]) for r in stack]


def detection_copy(image: Image) -> tuple[Image, float]:
    """The image scaled so its longer side is DETECT_MAX_SIDE (a small image is enlarged at
    most MAX_ENLARGE times: the detector misses text under ~6 px high), its contrast
    evened out (a dim photo's print is faint), and the scale used."""
    height, width = image.shape[:2]
    scale = min(MAX_ENLARGE, DETECT_MAX_SIDE / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    resized = image if scale == 1.0 else cv2.resize(image, size, interpolation=interpolation)
    lab = cv2.cvtColor(resized, cv2.COLOR_RGB2LAB)
    lab[:, :, 0] = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(lab[:, :, 0])
    return np.asarray(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB), np.uint8), scale


def degrees(value: float) -> float:
    """An angle rounded to a tenth of a degree (for reports)."""
    return round(math.fmod(value, 360.0), 1)


# The fast locator (classic MRZ finders: blackhat, horizontal gradient, closing): runs on a
# copy this wide; a line's characters are joined by a closing MORPH_JOIN character heights
# wide; the boxes it finds are tighter than the detector's by about DB_BOX_RATIO (DB's
# unclipped boxes), which `band_strips`' margins are sized for.
MORPH_MAX_SIDE = 1000
DB_BOX_RATIO = 1.4
MIN_MORPH_HEIGHT = 5  # px in the copy: smaller print is left to the detector


def morphology_boxes(image: Image) -> list[TextBox]:
    """Long thin runs of dark print on a lighter ground, as TextBoxes in image pixels:
    found by morphology alone (milliseconds), no neural network. The text detector stays
    the fallback (`text_boxes`): this finds only level-ish print of a common size well,
    the case most documents are."""
    height, width = image.shape[:2]
    scale = min(1.0, MORPH_MAX_SIDE / max(height, width))
    small = image if scale == 1.0 else cv2.resize(
        image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    grey = np.asarray(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), np.uint8)
    boxes: list[TextBox] = []
    for char_height in (8, 14, 24):
        boxes += _morph_pass(grey, char_height, scale)
    return boxes


def _morph_pass(grey: NDArray[np.uint8], char_height: int, scale: float) -> list[TextBox]:
    """One pass for print about `char_height` px high in the copy."""
    rect = cv2.getStructuringElement(cv2.MORPH_RECT, (char_height * 2 + 1, char_height + 1))
    blackhat = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, rect)
    gradient = np.abs(cv2.Sobel(blackhat, cv2.CV_32F, 1, 0, ksize=-1))
    peak = float(gradient.max())
    if peak <= 0:
        return []
    gradient_u8 = (255 * gradient / peak).astype(np.uint8)
    join = cv2.getStructuringElement(cv2.MORPH_RECT, (char_height * 2 + 1, 1))
    closed = cv2.morphologyEx(gradient_u8, cv2.MORPH_CLOSE, join)
    _, mask = cv2.threshold(closed, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    square = np.ones((3, 3), np.uint8)
    mask = cv2.dilate(cv2.erode(mask, square), square)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes: list[TextBox] = []
    for contour in contours:
        (cx, cy), (w, h), angle = cv2.minAreaRect(contour)
        if w < h:
            w, h, angle = h, w, angle + 90
        angle = (angle + 90) % 180 - 90
        if h < MIN_MORPH_HEIGHT or not 0.5 * char_height <= h <= 2.0 * char_height:
            continue
        if w / h < MIN_FRAGMENT_ASPECT:
            continue
        boxes.append(TextBox((cx / scale, cy / scale), float(angle), w / scale,
                             DB_BOX_RATIO * h / scale))
    return boxes
