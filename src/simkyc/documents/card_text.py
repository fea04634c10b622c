"""The fields printed on an upright card, from the lines OCR found on it.

The visual zone is read by its labels (SURNAME, GIVEN NAMES, NAME, NAME (PINYIN), DATE OF
BIRTH, DOCUMENT NO., ISSUED / EXPIRES), matched loosely because OCR misreads small print;
a value whose label was not read takes the layout's next row after the previous value's.
The band at the bottom holds the MRZ or, on a resident ID card, the 18-character number.
Each MRZ line is read whole (a strip across the band, widened), decoded to its format's
length and alphabets from the recognizer's frames (`mrz_decode`), and also rebuilt from the
pieces detection found (OCR drops runs of `<`; OCR-B is monospace, so a piece's place on
the line gives its first character's position); of the combinations that verify, the
first whose name is the visual zone's wins, else the first.

Layout knowledge (rows, bands) is simkyc's own SPECIMEN layout. When no MRZ verifies where
that layout puts it and the band holds no resident ID number, `reading.DocumentReader`
looks for the MRZ anywhere on the image (`mrz_read.find_mrz`): a real document's own design.
"""

from __future__ import annotations

import difflib
import itertools
import re
import statistics
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from simkyc.documents.cn_id import validate_cn_resident_id
from simkyc.documents.mrz_correct import TO_DIGIT, MrzReading, ReadStatus, correct_mrz
from simkyc.documents.mrz_decode import decode_lines, greedy_text, mrz_scores, mrz_text
from simkyc.documents.mrz_layout import TD1, TD2, TD3
from simkyc.documents.ocr import CardReader, TextLine
from simkyc.types import Image

# Fractions of the card's height and width (ID-1, 85.6 x 54 mm).
BAND_TOP = 0.765  # the machine zone's white band starts at 496 of 648 px
# The visual zone's column starts at x = 400 of 1027; a card found a little off shifts it.
FIELDS_LEFT, COLUMN_SLACK = 400 / 1027, 0.07
HEADER_BOTTOM, FIELDS_TOP = 0.125, 0.14  # the header band ends at 78 of 648 px
LABEL_GAP = 32 / 648  # label to its value ~26 px (centres); value to the next label ~38
LABEL_MATCH = 0.7  # difflib ratio of a line to a label, letters only
# Detection of the column alone reaches this far (of the card's height) past its edges: a
# line whose centre is inside is found whole (a value line is ~30 px of 648).
COLUMN_PAD = 0.03
MRZ_MIN_ROW = 24  # the shortest MRZ line is 30 characters
MRZ_PIECE = 12  # what detection finds of a blurred MRZ row: 14-19 characters seen
# An MRZ strip is widened this many times before recognition: the recognizer gives one frame
# per 8 px of a 48 px high line, ~3 per character, too few for CTC to spell runs of `<`
# (each repeat needs a blank between). Widening 1.5/2/2.5/3 times: 75.2/75.9/70.3/59.3% of
# MRZs read and valid, against 58.6% unwidened (`simkyc.eval.documents --count 200
# --seed 1`, its 145 MRZ cards, with mrz_decode).
MRZ_STRETCH = 2.0
_DATE = re.compile(r"(\d{2})\D?(\d{2})\D?(\d{4})")  # DD.MM.YYYY; OCR bends the dots


class Field(StrEnum):
    """What a printed value is."""

    SURNAME = "surname"
    GIVEN_NAMES = "given_names"
    NAME = "name"  # a whole name (resident ID cards): Chinese, or Latin letters
    NAME_LATIN = "name_latin"  # NAME (PINYIN)
    BIRTH_DATE = "birth_date"
    NUMBER = "number"
    VALIDITY = "validity"  # issued - expires


LABELS = {
    "SURNAME": Field.SURNAME,
    "GIVENNAMES": Field.GIVEN_NAMES,
    "NAME": Field.NAME,
    "NAMEPINYIN": Field.NAME_LATIN,
    "DATEOFBIRTH": Field.BIRTH_DATE,
    "DOCUMENTNO": Field.NUMBER,
    "ISSUEDEXPIRES": Field.VALIDITY,
}
ROWS_MRZ = (Field.SURNAME, Field.GIVEN_NAMES, Field.BIRTH_DATE, Field.NUMBER, Field.VALIDITY)
ROWS_CN = (Field.NAME, Field.NAME_LATIN, Field.BIRTH_DATE, Field.NUMBER, Field.VALIDITY)
ROWS_CN_LATIN = (Field.NAME, Field.BIRTH_DATE, Field.NUMBER, Field.VALIDITY)


@dataclass(frozen=True)
class CardText:
    """What the card says, as read; None where a field was not read."""

    values: dict[Field, str]
    scores: dict[Field, float]
    mrz: MrzReading | None
    band_number: str | None  # the resident ID number printed in the band

    @property
    def birth_date(self) -> date | None:
        found = _dates(self.values.get(Field.BIRTH_DATE, ""))
        return found[0] if found else None

    @property
    def expiry_date(self) -> date | None:
        found = _dates(self.values.get(Field.VALIDITY, ""))
        return found[-1] if found else None

    @property
    def number(self) -> str | None:
        value = self.values.get(Field.NUMBER)
        return compact(value) if value else None


@dataclass(frozen=True)
class CardBoxes:
    """The text detector's boxes on an upright card (N x 4 x 2 each, card pixels) by where
    they lie in SPECIMEN's layout, so that only those a reading needs are recognised:
    - `column`: the visual zone's column (what `read_card_text` reads the fields from);
    - `band`: the band (an MRZ, or a resident ID number);
    - `around`: the rest of the card below the header and right of the portrait column
      (read only to see whether the card prints Chinese: a PRC card);
    - `hidden`: the header band and the portrait column (read only for a PRC card's own
      labels, which its design prints there)."""

    column: NDArray[np.float32]
    band: NDArray[np.float32]
    around: NDArray[np.float32]
    hidden: NDArray[np.float32]


def split_boxes(boxes: NDArray[np.float32] | None, shape: tuple[int, ...]) -> CardBoxes:
    """`boxes` (the detector's, on a card of `shape`) by region, as `read_card_text` draws
    them (a box's centre decides; the column by its left edge)."""
    quads = np.zeros((0, 4, 2), np.float32) if boxes is None else boxes
    height, width = shape[:2]
    low, high = quads.min(axis=1), quads.max(axis=1)  # (N, 2): left/top, right/bottom
    centre_x, centre_y = (low[:, 0] + high[:, 0]) / 2, (low[:, 1] + high[:, 1]) / 2
    band = centre_y >= BAND_TOP * height
    middle = (centre_y >= FIELDS_TOP * height) & ~band
    column = middle & (np.abs(low[:, 0] / width - FIELDS_LEFT) <= COLUMN_SLACK)
    hidden = (centre_y < HEADER_BOTTOM * height) | (
        middle & (centre_x < (FIELDS_LEFT - COLUMN_SLACK) * width))
    around = ~(band | column | hidden)
    return CardBoxes(quads[column], quads[band], quads[around], quads[hidden])


def column_boxes(reader: CardReader, card: Image) -> NDArray[np.float32]:
    """The detector's boxes of the visual zone's column alone (`CardBoxes.column`), found on
    that part of the card (right of the portrait column, between the header and the band,
    with COLUMN_PAD around it) at the card's own size: about 40% of the pixels the whole
    card's detection scales up to."""
    height, width = card.shape[:2]
    pad = round(COLUMN_PAD * height)
    left = max(0, round((FIELDS_LEFT - COLUMN_SLACK) * width) - pad)
    top, bottom = max(0, round(FIELDS_TOP * height) - pad), round(BAND_TOP * height) + pad
    boxes = reader.detect(card[top:bottom, left:], own_size=True)
    if boxes is None:
        return np.zeros((0, 4, 2), np.float32)
    return split_boxes(boxes + np.array([left, top], np.float32), card.shape).column


def band_holds_mrz(lines: Sequence[TextLine], card: Image) -> bool:
    """The band's lines of `card` look like MRZ rows (a document with an MRZ: not a PRC
    resident ID card, whose band holds its number)."""
    band = [line for line in lines if line.centre_y >= BAND_TOP * card.shape[0]]
    return bool(_mrz_row_lines(band))


def read_band_mrz(reader: CardReader, card: Image, lines: Sequence[TextLine], *,
                  today: date) -> CardText:
    """The card's fields from its OCR `lines`, with each MRZ line of the band read again as
    a whole strip (detection drops lone check digits after a run of fillers; a strip keeps
    them) and decoded to each format's shape."""
    band = [line for line in lines if line.centre_y >= BAND_TOP * card.shape[0]]
    frames = [reader.frame_probabilities(_strip(card, row), stretch=MRZ_STRETCH)
              for row in _mrz_row_lines(band)]
    strips = tuple(mrz_text(greedy_text(*line)) for line in frames)
    scores = [mrz_scores(*line) for line in frames]
    decoded: tuple[tuple[str, ...], ...] = ()
    for layout in (TD1, TD3, TD2):  # TD2 (~30 ms a line) only if a passport's did not verify
        reading = decode_lines(scores, layout)
        if reading is not None:
            decoded += (reading,)
            text = read_card_text(lines, card, today=today, strips=strips, decoded=decoded)
            if text.mrz is not None and text.mrz.valid:
                return text
    return read_card_text(lines, card, today=today, strips=strips, decoded=decoded)


def read_card_text(
    lines: Sequence[TextLine], card: Image, *, today: date, strips: Sequence[str] = (),
    decoded: Sequence[tuple[str, ...]] = (),
) -> CardText:
    """The fields of the card whose OCR lines are `lines` (in `card`'s pixels); `decoded` are
    whole MRZs decoded to a format's shape (`mrz_decode`), tried first; `strips` the MRZ
    lines read whole, tried before the lines pieced together from `lines`."""
    height, width = card.shape[:2]
    band = [line for line in lines if line.centre_y >= BAND_TOP * height]
    visual = [line for line in lines
              if FIELDS_TOP * height <= line.centre_y < BAND_TOP * height
              and abs(line.left / width - FIELDS_LEFT) <= COLUMN_SLACK
              and not _watermark(line.text)]
    values, scores = _visual_fields(visual, height)
    hint = compact(values[Field.NUMBER]) if Field.NUMBER in values else None
    surname, given = values.get(Field.SURNAME), values.get(Field.GIVEN_NAMES)
    name = compact(surname + given) if surname and given else None
    mrz = _best_mrz(band, tuple(strips), tuple(decoded), today=today, hint=hint, name=name)
    return CardText(values, scores, mrz, _band_number(band))


def _best_mrz(
    band: Sequence[TextLine], strips: tuple[str, ...], decoded: tuple[tuple[str, ...], ...],
    *, today: date, hint: str | None, name: str | None = None,
) -> MrzReading | None:
    """A reading that verifies, each line decoded to shape, read whole (if of the right
    length) or pieced together, in each width the line count allows; else the first
    reading. Check digits do not cover the name (nor a filler read as a letter where none
    is checked): a reading that verifies stays VERIFIED only when its name is the visual
    zone's (`name`, an independent reading); without that agreement it is AMBIGUOUS, never
    evidence. (Real documents read this way, 2 MP, 2026-12-05: 13 of 25 band readings that
    satisfied every check digit differed from the transcription, `<` read as K in names and
    fillers.)"""
    first: MrzReading | None = None
    verified: MrzReading | None = None
    for width in (30,) if len(_mrz_row_lines(band)) == 3 else (44, 36):
        pieced = mrz_rows(band, width)
        if not pieced:
            return None
        whole = strips if len(strips) == len(pieced) else ("",) * len(pieced)
        shaped = next((d for d in decoded if len(d) == len(pieced) and len(d[0]) == width),
                      ("",) * len(pieced))
        options = [tuple(dict.fromkeys(x for x in candidates if len(x) == width))
                   for candidates in zip(shaped, whole, pieced, strict=True)]
        for lines in itertools.product(*options):
            reading = correct_mrz(lines, today=today, number_hint=hint)
            if reading.valid and name is not None and _mrz_name(reading) == name:
                return reading
            verified = verified or (reading if reading.valid else None)
            first = first or reading
    if verified is not None:
        return replace(verified, status=ReadStatus.AMBIGUOUS)
    return first


def _mrz_name(reading: MrzReading) -> str:
    """The name an MRZ states, letters only, surname first."""
    return compact(f"{reading.result.surname}{reading.result.given_names}")


# --------------------------------------------------------------------------- #
# The visual zone
# --------------------------------------------------------------------------- #


def _visual_fields(
    lines: list[TextLine], height: int
) -> tuple[dict[Field, str], dict[Field, float]]:
    """Values by their labels; a value whose label was misread is a date, the validity or
    the number by its content, else the next row's field."""
    rows = _layout_rows(lines)
    ordered = sorted(lines, key=lambda item: item.centre_y)
    values: dict[Field, str] = {}
    scores: dict[Field, float] = {}
    label: Field | None = None
    row = -1
    for index, line in enumerate(ordered):
        following = ordered[index + 1] if index + 1 < len(ordered) else None
        named = _label(line.text)
        # A label sits just above its value (value rows are further apart than that).
        if named is not None or (following is not None and _label(following.text) is None
                                 and following.centre_y - line.centre_y < LABEL_GAP * height):
            label = named
            continue
        field = label or _by_content(line.text)
        row = rows.index(field) if field in rows else row + 1
        label = None
        if row < len(rows) and rows[row] not in values:
            values[rows[row]], scores[rows[row]] = line.text.strip(), line.score
    return values, scores


def _by_content(text: str) -> Field | None:
    """The field a value must be by its content: a number (mostly digits, no separators),
    two dates, one date."""
    digits = sum(char.isdigit() for char in text)
    if digits >= 5 and digits >= len(compact(text)) / 2 and not re.search(r"[.,:/-]", text):
        return Field.NUMBER
    dates = len(_dates(text))
    if dates:
        return Field.VALIDITY if dates > 1 else Field.BIRTH_DATE
    return None


def _label(text: str) -> Field | None:
    """The label `text` reads as, if it is close enough to one."""
    letters = re.sub(r"[^A-Z]", "", text.upper())
    if len(letters) < 4:
        return None
    best = max(LABELS, key=lambda name: difflib.SequenceMatcher(None, letters, name).ratio())
    ratio = difflib.SequenceMatcher(None, letters, best).ratio()
    return LABELS[best] if ratio >= LABEL_MATCH else None


def _layout_rows(lines: list[TextLine]) -> tuple[Field, ...]:
    """The card's rows: a Chinese name first means the resident ID layout with pinyin."""
    if any(is_cjk(line.text) for line in lines):
        return ROWS_CN
    if any(_label(line.text) in {Field.SURNAME, Field.GIVEN_NAMES} for line in lines):
        return ROWS_MRZ
    if any(_label(line.text) is Field.NAME for line in lines):
        return ROWS_CN_LATIN
    return ROWS_MRZ


def _watermark(text: str) -> bool:
    """A piece of the diagonal SPECIMEN watermark."""
    letters = re.sub(r"[^A-Z]", "", text.upper())
    return len(letters) >= 3 and letters in "SPECIMEN"


def is_cjk(text: str) -> bool:
    """`text` holds Chinese (CJK) characters."""
    return any("CJK" in unicodedata.name(char, "") for char in text)


def _dates(text: str) -> list[date]:
    """Every DD.MM.YYYY date in `text`, after OCR's letter-for-digit confusions. A date of
    the printed length is cut at the separators' places, whatever OCR made of them."""
    squeezed = text.replace(" ", "").upper()
    pieces = [squeezed] if len(squeezed) == 10 else []
    if len(squeezed) == 21:  # "DD.MM.YYYY - DD.MM.YYYY"
        pieces = [squeezed[:10], squeezed[11:]]
    fixed = [_date_or_none(p[6:10], p[3:5], p[0:2]) for p in pieces]
    if fixed and all(fixed):
        return [day for day in fixed if day is not None]
    digits = "".join(TO_DIGIT.get(char, char) for char in squeezed)
    found = [_date_or_none(year, month, day) for day, month, year in _DATE.findall(digits)]
    return [day for day in found if day is not None]


def _date_or_none(year: str, month: str, day: str) -> date | None:
    """The date the digit groups give (letters read for digits undone), or None."""
    digits = ["".join(TO_DIGIT.get(char, char) for char in part) for part in (year, month, day)]
    if not all(part.isdigit() for part in digits):
        return None
    try:
        return date(int(digits[0]), int(digits[1]), int(digits[2]))
    except ValueError:
        return None


def compact(text: str) -> str:
    """Upper case, letters and digits only (a document number as compared)."""
    return re.sub(r"[^0-9A-Z]", "", text.upper())


# --------------------------------------------------------------------------- #
# The band: MRZ or resident ID number
# --------------------------------------------------------------------------- #


def _mrz_row_lines(band: Sequence[TextLine]) -> list[list[TextLine]]:
    """The band's text rows, if they look like an MRZ: two or three rows of at least
    MRZ_PIECE characters found, three or one with fillers or MRZ_MIN_ROW characters
    (detection drops runs of fillers, blur turns them into letters or digits; a resident
    ID card's band holds a label, 8 characters, and its 18-character number)."""
    rows = _rows(list(band))
    texts = ["".join(mrz_text(line.text) for line in row) for row in rows]
    long = all(len(text) >= MRZ_PIECE for text in texts)
    looks = len(rows) == 3 or any("<<" in text or len(text) >= MRZ_MIN_ROW for text in texts)
    return rows if len(rows) in {2, 3} and long and looks else []


def _strip(card: Image, row: list[TextLine]) -> Image:
    """The whole width of the band at one text row, with a little margin."""
    top, bottom = min(line.top for line in row), max(line.bottom for line in row)
    pad = 0.15 * (bottom - top)
    margin = card.shape[1] // 100
    return card[max(0, int(top - pad)) : int(bottom + pad) + 1, margin:-margin]


def mrz_rows(band: Sequence[TextLine], width: int) -> tuple[str, ...]:
    """The MRZ's lines of `width` characters rebuilt from the pieces OCR found in the band
    (empty: no MRZ)."""
    rows = _mrz_row_lines(band)
    if not rows:
        return ()  # no MRZ: a resident ID card's band has its number alone
    pieces = [(line, mrz_text(line.text)) for row in rows for line in row]
    pieces = [(line, value) for line, value in pieces if value]
    text = {id(line): value for line, value in pieces}
    pitch = statistics.median((line.right - line.left) / len(value) for line, value in pieces)
    left = min(line.left for line, _ in pieces)
    return tuple(_place(row, text, left, pitch, width) for row in rows)


def _rows(lines: list[TextLine]) -> list[list[TextLine]]:
    """Lines grouped into text rows by their vertical centres."""
    rows: list[list[TextLine]] = []
    for line in sorted(lines, key=lambda item: item.centre_y):
        if rows and line.centre_y - rows[-1][-1].centre_y < 0.6 * line.height:
            rows[-1].append(line)
        else:
            rows.append([line])
    return rows


def _place(
    row: list[TextLine], text: dict[int, str], left: float, pitch: float, width: int
) -> str:
    """One MRZ line: each piece at the position its left edge gives, fillers between."""
    chars = ["<"] * width
    cursor = 0
    for line in sorted(row, key=lambda item: item.left):
        start = max(cursor, round((line.left - left) / pitch))
        for offset, char in enumerate(text[id(line)]):
            if start + offset < width:
                chars[start + offset] = char
        cursor = start + len(text[id(line)])
    return "".join(chars)


def _band_number(band: Sequence[TextLine]) -> str | None:
    """A resident ID number (17 digits and a check character) printed in the band."""
    return next((number for line in band if (number := resident_number(line.text))), None)


def resident_number(text: str) -> str | None:
    """`text` as a valid resident ID number once OCR's letters-for-digits are undone."""
    chars = compact(text)
    digits = "".join(TO_DIGIT.get(char, char) for char in chars[:17]) + chars[17:]
    valid = len(digits) == 18 and validate_cn_resident_id(digits, today=date.max).valid
    return digits if valid else None
