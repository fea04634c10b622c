"""Read the MRZ of any document in a whole image, independent of any card outline.

`mrz_locate` finds the bands of two or three MRZ-like rows; each row is cut out level and
read whole by the recognizer (its per-frame probabilities, the strip widened
`MRZ_STRETCH` times), then decoded to each format's exact shape (`mrz_decode`) and
corrected (`mrz_correct`). Both ways up are tried (a document may lie upside down). Check
digits are the judge: the first reading that verifies is returned; without one, the best
reading of the right shape (unverified: its fields are no evidence).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import cache

import numpy as np
from numpy.typing import NDArray

from simkyc.documents.mrz import check_digit
from simkyc.documents.mrz_correct import (
    MrzReading,
    PositionKind,
    ReadStatus,
    correct_mrz,
    position_kinds,
)
from simkyc.documents.mrz_decode import (
    decode_lines_margins,
    decode_pitched_lines,
    greedy_text,
    mrz_scores,
    mrz_text,
)
from simkyc.documents.mrz_layout import LAYOUTS, Layout, layout_for
from simkyc.documents.mrz_locate import (
    MrzBand,
    band_strips,
    detection_copy,
    find_bands,
    morphology_boxes,
    text_boxes,
)
from simkyc.documents.mrz_slant import upright
from simkyc.documents.mrz_witness import witness_line
from simkyc.documents.ocr import CardReader
from simkyc.documents.ocrb import CLASSES, COARSE_STEP, FRAMES_PER_CHAR, OcrbRecognizer
from simkyc.documents.tesseract import TesseractLines
from simkyc.types import Image

# See card_text.MRZ_STRETCH: the recognizer needs ~3 frames per character to spell runs of
# fillers; a strip is widened twice before recognition.
MRZ_STRETCH = 2.0
# The recognizer reads strips this many pixels high (PP-OCR's 48): no need to keep more.
STRIP_HEIGHT = 48
# How far (natural log) the recognizer's probability of a character no check digit covers
# must lead its position's next likeliest symbol: e^1.5, about 4.5 times as likely.
MIN_MARGIN = 1.5
# With no second reader (the quick pass: the own recognizer alone), a character no check
# digit covers at all needs a lead of e^5 (about 150 times as likely). On 9,786 letters of
# unseen synthetic names lines (`scripts/calibrate_ocrb_margin.py --lines 400`; 25 lines
# with over 3 wrong left out) the own recognizer, decoded at the line's pitch, misread 45:
# 22 of them with a margin of 1.5 or more, 7 with 4, 4 with 5, while 94.2% of the right
# letters reach 5 (the CTC decoder's, before, at e^4: 4 of 31 misread, 96.7% of the right
# ones). Iceland's specimen was read `O` for `D` at 2.2. (Margins of the windows' smoothed
# probabilities told right from wrong better, no misread letter reaching 3.6, but left
# fewer real specimens verified by one reader, and one reader alone is the quick pass.)
MIN_MARGIN_ALONE = 5.0
# Bands with a guessed line (`mrz_locate.find_bands`) RapidOCR reads too, the first two;
# the own recognizer reads them all. Measured (`bench/documents.py --no-peer`, 2026-12-05,
# shared machine): with none, Liechtenstein's card at 2 MP is not verified (47 -> 46 of
# 68), and each document that never verifies costs 3-5 CPU s less (CPU p95 10.4 -> 8.4 s).
RAPID_GUESSES = 2
MAX_COMBINATIONS = 27  # three readings of each of three lines
# The own recognizer's free reading of a line is within this many characters of its true
# length (30, 36, 44) when the band is an MRZ read the right way up; the quick pass decodes
# only formats that near (each decoding costs tens of ms), the full pass every format.
QUICK_WIDTH_SLACK = 4


@dataclass(frozen=True, eq=False)
class MrzFound:
    """What the search for an MRZ found: the reading (None: no band read to a format's
    shape), how many bands were looked at, and how long it took."""

    reading: MrzReading | None
    bands: int
    seconds: float

    @property
    def verified(self) -> bool:
        """The reading is confirmed: every check digit holds and no character outside them
        is in doubt. Its fields are evidence only if the document is also valid
        (`reading.valid`: no impossible date, no digit in a name ...)."""
        return self.reading is not None and self.reading.confirmed

    @property
    def issuing_state(self) -> str | None:
        """The issuing state (ICAO 9303 three-letter code, e.g. "D" for Germany is "D"),
        only from a verified MRZ."""
        if self.reading is None or not self.reading.valid:
            return None
        return self.reading.result.issuing_state or None


def find_mrz(reader: CardReader, image: Image, *, today: date,
             number_hint: str | None = None,
             second: TesseractLines | None = None,
             own: OcrbRecognizer | None = None) -> MrzFound:
    """The MRZ anywhere in the RGB `image`, read both ways up and judged by its check digits.
    With `own` (the project's OCR-B recognizer, milliseconds a band): first the bands
    morphology finds (`morphology_boxes`, milliseconds) read by `own` alone; then the bands
    the text detector finds, read by `own`, then by RapidOCR with `own` as a witness. Then
    (if none verified) the likeliest band by `second` too, set upright first if it is
    printed or seen slanted (`read_band`)."""
    start = time.perf_counter()
    if own is not None:
        # The fast path: bands found by morphology, read by the own recognizer alone.
        quick = find_bands(image, morphology_boxes(image))
        for band in quick:
            for upside_down in (False, True):
                reading = read_band(reader, image, band, upside_down=upside_down, today=today,
                                    number_hint=number_hint, own=own, rapid=False)
                if reading is not None and reading.confirmed:
                    return MrzFound(reading, len(quick), time.perf_counter() - start)
    small, scale = detection_copy(image)
    bands = find_bands(image, text_boxes(reader.detect(small), scale))
    best: tuple[MrzReading, MrzBand, bool] | None = None
    passes = ([False] if own is not None else []) + [True]
    for rapid in passes:
        for band in _to_read(bands, rapid=rapid):
            for upside_down in (False, True):
                reading = read_band(reader, image, band, upside_down=upside_down, today=today,
                                    number_hint=number_hint, own=own, rapid=rapid)
                if reading is not None and reading.confirmed:
                    return MrzFound(reading, len(bands), time.perf_counter() - start)
                if reading is not None and (best is None or _rank(reading) < _rank(best[0])):
                    best = (reading, band, upside_down)
    if best is not None and second is not None and second.available:
        _, band, upside_down = best
        reading = read_band(reader, image, band, upside_down=upside_down, today=today,
                            number_hint=number_hint, second=second, own=own, deslant=True)
        if reading is not None and (reading.confirmed or _rank(reading) < _rank(best[0])):
            return MrzFound(reading, len(bands), time.perf_counter() - start)
    found = None if best is None else best[0]
    return MrzFound(found, len(bands), time.perf_counter() - start)


def _to_read(bands: list[MrzBand], *, rapid: bool) -> list[MrzBand]:
    """The bands a pass reads: the own recognizer's (milliseconds a band) every one,
    RapidOCR's (about a second a band, both ways up) those found whole and the first
    RAPID_GUESSES with a guessed line."""
    if not rapid:
        return bands
    guesses = [band for band in bands if band.guessed][:RAPID_GUESSES]
    return [band for band in bands
            if not band.guessed or any(band is guess for guess in guesses)]


def read_band(reader: CardReader, image: Image, band: MrzBand, *, upside_down: bool,
              today: date, number_hint: str | None = None,
              second: TesseractLines | None = None, own: OcrbRecognizer | None = None,
              rapid: bool = True, deslant: bool = False) -> MrzReading | None:
    """The band's rows read as an MRZ of each format with that many lines (each line as
    RapidOCR (when `rapid`) and `own` decode it to the format's shape, as RapidOCR reads it
    freely, and as `second` reads it); the first that verifies, else the one with the
    fewest failed checks. With `deslant` (the last pass, on the likeliest band: no cost
    where a reading verified before it), rows printed or seen slanted are first set
    upright (`mrz_slant.upright`). In every pass it cost 0.6 CPU s on Serbia's card (its
    strips, sheared, read again) and no specimen verified that does not without it."""
    strips = [_normalised(strip) for strip in band_strips(image, band, upside_down=upside_down)]
    if any(strip.size == 0 for strip in strips):
        return None  # a row with no pixels in the image: nothing to read
    if deslant:
        strips = upright(strips)
    # Each recognizer's frames and its decoder to a format's exact shape: RapidOCR's CTC
    # frames by the CTC path, the own recognizer's fixed-pitch windows by pitch.
    sources: list[tuple[list[NDArray[np.float64]], _Decoder]] = []
    greedy: tuple[str, ...] = ()
    if rapid:
        frames = [reader.frame_probabilities(strip, stretch=MRZ_STRETCH) for strip in strips]
        sources.append(([mrz_scores(*frame) for frame in frames], decode_lines_margins))
        greedy = tuple(mrz_text(greedy_text(*frame)) for frame in frames)
    if own is not None:
        own_scores = [own.line_scores(strip) for strip in strips]
        sources.append((own_scores, _pitched))
        greedy = greedy or tuple(
            mrz_text(greedy_text(np.exp(scores[::COARSE_STEP]), CLASSES).replace("\x00", ""))
            for scores in own_scores)
    if not sources:
        return None
    others = ([greedy] if rapid else []) + ([] if second is None else [second.read(strips) or ()])
    best: MrzReading | None = None
    layouts = _layouts(len(strips), greedy)
    if not rapid:  # the quick pass: only formats near the length the recognizer reads
        length = float(np.median([len(line) for line in greedy])) if greedy else 0.0
        layouts = [layout for layout in layouts
                   if abs(layout.width - length) <= QUICK_WIDTH_SLACK]
    for layout in layouts:
        decodings = [decode(scores, layout) for scores, decode in sources]
        shaped = [decoded for decoded in decodings if decoded is not None]
        if not shaped:
            continue
        # The own recognizer is the last source: its index among the readers, if it read.
        own_index = None if own is None or decodings[-1] is None else len(shaped) - 1
        second_lines = others[-1] if second is not None else None
        firsts = [lines for lines, _ in shaped]
        options = [tuple(dict.fromkeys(
            [lines[i] for lines in firsts]
            + [o[i] for o in others if len(o) == layout.lines and len(o[i]) == layout.width]))
            for i in range(layout.lines)]
        lines, margins = shaped[0]
        rest = tuple(("".join(other), other_margins) for other, other_margins in shaped[1:])
        for candidate in itertools.islice(itertools.product(*options), MAX_COMBINATIONS):
            # With the own recognizer, OCR-B's look-alikes of equal check value (`<` and
            # 0, G and 6 ...) are told apart by shape: its margins judge them (`_judged`).
            corrected = correct_mrz(candidate, today=today, number_hint=number_hint,
                                    number_vouched=own is not None)
            witness = (None if second_lines is None
                       else witness_line(second_lines, corrected.lines))
            reading = _judged(_of_format(corrected, layout), lines, margins, witness,
                              others=rest,
                              lone_margin=MIN_MARGIN if rapid else MIN_MARGIN_ALONE,
                              own=own_index)
            if reading.confirmed:
                return reading
            best = _better(best, reading)
    return best


_Decoder = Callable[[Sequence[NDArray[np.float64]], Layout],
                    tuple[tuple[str, ...], tuple[float, ...]] | None]


def _pitched(frames: Sequence[NDArray[np.float64]], layout: Layout
             ) -> tuple[tuple[str, ...], tuple[float, ...]] | None:
    """The own recognizer's lines decoded at its fixed pitch."""
    return decode_pitched_lines(frames, layout, frames_per_char=FRAMES_PER_CHAR)


def _layouts(count: int, greedy: tuple[str, ...]) -> list[Layout]:
    """The formats with `count` lines, the one nearest the greedy reading's length first;
    visas' only when the first line reads as one (V...), and then travel documents' too
    when the V is the second character (a mark before the line read as `1`: a reading
    decoded under one format's alphabets is kept only if it is of that format,
    `_of_format`)."""
    length = float(np.median([len(line) for line in greedy])) if greedy else 0.0
    start = greedy[0][:2] if greedy else ""
    families = {start[:1] == "V"} | ({True} if "V" in start else set())
    fitting = [layout for layout in LAYOUTS if layout.lines == count
               and (layout.lines == 3 or (layout.document_letters == ("V",)) in families)]
    return sorted(fitting, key=lambda layout: abs(layout.width - length))


def _of_format(reading: MrzReading, layout: Layout) -> MrzReading:
    """`reading`, decoded with `layout`'s alphabets, unconfirmed when its lines are of
    another format (a visa's `V<` decoded as a passport's TD3, whose last position is a
    check digit where the visa has a filler: the decoder had to read a digit there), or
    when its first letter is none Doc 9303 gives the format (A, C or I on a card, P on a
    passport, V on a visa): a character read where the print was cut or smudged (`Z` for
    a TD1's `I` half outside the image) is a misreading, not a document code."""
    if reading.confirmed and (layout_for(reading.lines) is not layout
                              or reading.lines[0][:1] not in layout.document_letters):
        return replace(reading, status=ReadStatus.AMBIGUOUS)
    return reading


def _normalised(strip: Image) -> Image:
    """A strip scaled to STRIP_HEIGHT (keeping its proportions)."""
    import cv2

    height, width = strip.shape[:2]
    if height == 0 or width == 0:
        return strip
    scale = STRIP_HEIGHT / height
    size = (max(1, round(width * scale)), STRIP_HEIGHT)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return np.ascontiguousarray(cv2.resize(strip, size, interpolation=interpolation))


def _better(best: MrzReading | None, reading: MrzReading | None) -> MrzReading | None:
    """Of two unverified readings, the one with fewer failed checks (AMBIGUOUS before
    INVALID)."""
    if reading is None:
        return best
    if best is None:
        return reading
    return min(best, reading, key=_rank)


def _rank(reading: MrzReading) -> tuple[int, int]:
    """Confirmed readings first, then AMBIGUOUS, then by failed checks."""
    if reading.confirmed:
        return (0, 0)
    failed = sum(not check.ok for check in reading.result.checks) if reading.result.checks else 9
    return (1 if reading.status is ReadStatus.AMBIGUOUS else 2, failed)


def _judged(reading: MrzReading, decoded: tuple[str, ...],
            margins: tuple[float, ...], witness: str | None = None, *,
            others: tuple[tuple[str, tuple[float, ...]], ...] = (),
            lone_margin: float = MIN_MARGIN_ALONE, own: int | None = None) -> MrzReading:
    """A reading whose check digits hold stays VERIFIED only if every character no check
    digit covers (names, state codes, visas' optional data) is vouched for: a recognizer's
    shape-constrained decoding (`decoded` with its `margins`, then each of `others`, the
    lines joined) gives it and was sure of it (ahead of its position's next likeliest symbol
    by MIN_MARGIN; `lone_margin` when it is the only reader: MIN_MARGIN_ALONE for the own
    recognizer, whose calibration it is, MIN_MARGIN for RapidOCR), or two readers give it
    (the recognizers and the second reader,
    `witness`); and no recognizer is sure of another symbol there that could be (where a
    check digit covers the position, only a twin of equal weight could), unless two readers
    agree against that one, or the own recognizer (`own`, its index among the readers:
    `decoded` 0, then `others`) outweighs them (`_outweighed`). Else it is AMBIGUOUS: a
    misread name verifies as well as a right one."""
    if not reading.confirmed:
        return reading
    layout = layout_for(reading.lines)
    text = "".join(reading.lines)
    readers = [("".join(decoded), margins), *others]
    if layout is None or any(len(shaped) != len(text) for shaped, _ in readers):
        return replace(reading, status=ReadStatus.AMBIGUOUS)
    strange = _unknown_state_positions(text, layout)
    closed = name_tail_fillers(text, layout)
    # Alone, a reader must be surer where no check digit looks at all (a name's letter);
    # a covered letter-or-digit position is in doubt only between twins of equal weight.
    open_positions = frozenset(unprotected(layout))
    alone = open_positions if len(readers) == 1 and witness is None else frozenset()
    if layout.document_letters == (text[0],):
        # A format of one document letter (a passport's P, a visa's V) vouches for it: a
        # misreading of it is another format's letter, which `_of_format` refuses. (Not A,
        # C or I: on unseen synthetic lines an A was read I, and surely.)
        alone -= {0}
    for i in unsure_positions(layout):
        char = text[i]
        votes = sum(shaped[i] == char for shaped, _ in readers)
        votes += witness is not None and witness[i] == char
        needed = lone_margin if i in alone else MIN_MARGIN
        confident = any(shaped[i] == char and m[i] >= needed for shaped, m in readers)
        sure = i not in strange and confident
        against = sum(shaped[i] != char and m[i] >= MIN_MARGIN
                      and _could_be(shaped[i], char, covered=i not in open_positions)
                      for shaped, m in readers)
        # One sure dissenter is outvoted only by two readers that agree, one of them sure
        # (in an unknown state code too: there two must agree anyway), or by the own
        # recognizer sure enough to be believed alone even after its doubt (`_outweighed`).
        contested = i not in closed and against > 0 and not (
            confident and votes >= 2 and votes > against) and not (
            i not in strange and _outweighed(readers, own, i, char))
        if contested or not (sure or votes >= 2):
            return replace(reading, status=ReadStatus.AMBIGUOUS)
    return reading


def _outweighed(readers: list[tuple[str, tuple[float, ...]]], own: int | None, i: int,
                char: str) -> bool:
    """Whether the own recognizer (`readers[own]`) reads the filler `<` at position `i` so
    surely that the other readers' dissent cannot shake it: its log-probability lead, less
    the leads of the readers that read another symbol there (independent readers' log-odds
    add), is still MIN_MARGIN_ALONE, the lead at which it is believed alone. RapidOCR's
    commonest MRZ error, OCR-B's `<` read as `K` or `C` (at a lead of 0.5-3.5 on the real
    specimens), is then no veto against a filler the own recognizer, which tells the two
    apart by shape, reads at a lead of 20 or more. Only the filler: on a letter the own
    recognizer can be sure and wrong (Azerbaijan's passport photographed in hand, its
    first line read `V` for `N` at a lead of 15.8), and there a dissent stands."""
    if own is None or char != "<":
        return False
    shaped, margins = readers[own]
    if shaped[i] != char:
        return False
    doubt = sum(m[i] for other, m in readers if other[i] != char)
    return margins[i] - doubt >= MIN_MARGIN_ALONE


def _could_be(other: str, char: str, *, covered: bool) -> bool:
    """Whether a reader's `other` symbol is a live alternative to `char`: anywhere no check
    digit covers, yes; where one does, only a twin of equal check weight (`<` and `K`,
    `1` and `B`): any other symbol there would fail the check digit that holds."""
    return not covered or check_digit(other) == check_digit(char)


# ICAO Doc 9303 Part 3 codes beside ISO 3166-1 alpha-3: Germany, the specimen states, the
# British nationals' codes, the UN, the EU, Kosovo, stateless and refugee codes.
ICAO_CODES = frozenset({"D", "UTO", "XPO", "XOM", "XXA", "XXB", "XXC", "XXX", "UNO", "UNA",
                        "UNK", "EUE", "GBD", "GBN", "GBO", "GBP", "GBS", "RKS", "XBA", "XIM",
                        "XCC", "XCE", "XCO", "XEC", "XES", "XMP", "XDC"})


@cache
def _state_codes() -> frozenset[str]:
    import pycountry

    return frozenset(country.alpha_3 for country in pycountry.countries) | ICAO_CODES


def _unknown_state_positions(text: str, layout: Layout) -> frozenset[int]:
    """The positions of an issuing state or nationality that is no known state code (`O<<`
    read for Germany's `D<<`): there one sure reader is not enough, two must agree (and
    two agreeing, one of them sure, outvote a dissenter there as anywhere: a specimen's
    placeholder `COU` read so by the own recognizer and Tesseract, `CUU` by RapidOCR)."""
    positions: set[int] = set()
    for span in (layout.issuing_state, layout.nationality):
        indices = range(*span.indices(len(text)))
        code = "".join(text[i] for i in indices).rstrip("<")
        if code and code not in _state_codes():
            positions.update(indices)
    return frozenset(positions)


def name_tail_fillers(text: str, layout: Layout) -> frozenset[int]:
    """The name field's trailing fillers three or more places after its last letter: ICAO
    Doc 9303 Part 3 (§4.6) separates name components by one filler and the primary from the
    secondary identifier by two, so no letter can follow three fillers. A reader that sees a
    letter there (a filler's `<` read as `K` or `C`) does not contest the filler; a reader
    must still be sure of the filler itself."""
    start, stop, _ = layout.name.indices(len(text))
    field = text[start:stop]
    letters = [i for i, char in enumerate(field) if char != "<"]
    if not letters:
        return frozenset()
    return frozenset(start + i for i in range(letters[-1] + 4, len(field)))


def unsure_positions(layout: Layout) -> tuple[int, ...]:
    """Positions the check digits cannot vouch for: those no check digit covers, and every
    letter-or-digit position (a document number, optional data), where each symbol has a
    twin of equal check value (`<` 0, A 10, K 20, U 30; 1, B, L, V; ...): `K` read for `<`
    there satisfies the check digit as well."""
    kinds = position_kinds(layout)
    alphanumeric = {i for i, kind in enumerate(kinds) if kind is PositionKind.ALPHANUMERIC}
    return tuple(sorted(set(unprotected(layout)) | alphanumeric))


def unprotected(layout: Layout) -> tuple[int, ...]:
    """Positions (lines joined) that no check digit covers."""
    covered: set[int] = set()
    spans = [layout.document_number, layout.birth_date, layout.expiry_date, *layout.composite]
    if layout.personal_number_check is not None:
        spans.append(layout.optional_data[0])
    for span in spans:
        covered.update(range(*span.indices(layout.lines * layout.width)))
    checks = (layout.document_number_check, layout.birth_date_check, layout.expiry_date_check,
              layout.composite_check, layout.personal_number_check)
    covered.update(position for position in checks if position is not None)
    # Codes and names are never taken as covered, even where a composite check digit
    # spans them (FRA_CNI's covers both whole lines): many misreadings of a name satisfy it.
    size = layout.lines * layout.width
    for span in layout.letter_fields:
        covered.difference_update(range(*span.indices(size)))
    return tuple(i for i in range(size) if i not in covered)
