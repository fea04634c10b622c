"""Undo OCR's usual confusions in an MRZ read off a photo, by what each position may hold.

ICAO 9303 fixes each position's alphabet: dates and check digits are digits (or `<`),
codes and names are letters (or `<`), document numbers and optional data are both. So a
letter read in a digit position (O, Q, D, I, Z, S, G, B, ...) becomes the digit it resembles,
a digit read in a letter position the letter. In alphanumeric fields (the document number)
either is possible, and the check digit alone cannot choose: with nine confusable places,
some other reading satisfies it about half the time. So the number is taken as read, or as
the visual zone's printed number (`number_hint`, an independent reading) where the two
differ only by confusions and the hinted one satisfies every check digit. A number holding
G or 6 (check values 16 and 6, equal mod 10) is AMBIGUOUS unless the hint agrees, never a
guess. The result is then validated by `mrz.parse_mrz`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from simkyc.documents.mrz import MrzResult, check_digit, parse_mrz
from simkyc.documents.mrz_layout import Layout, layout_for

# What a character read in a digit position stands for, and in a letter position.
TO_DIGIT = {"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "A": "4", "S": "5",
            "G": "6", "T": "7", "B": "8"}
TO_LETTER = {"0": "O", "1": "I", "2": "Z", "4": "A", "5": "S", "6": "G", "7": "T", "8": "B"}
# In alphanumeric fields, each confusable reading and what it may have been. L/1 and U/0 are
# left out: their check values are equal mod 10, and OCR rarely swaps them in OCR-B.
ALTERNATIVES = {
    **{letter: (letter, digit) for letter, digit in TO_DIGIT.items() if letter != "L"},
    **{digit: (digit, letter) for digit, letter in TO_LETTER.items()},
}


class PositionKind(StrEnum):
    """What an MRZ position may hold."""

    DIGIT = "digit"  # 0-9 (or < where the standard allows a filler)
    LETTER = "letter"  # A-Z or <
    ALPHANUMERIC = "alphanumeric"  # A-Z, 0-9 or <
    OTHER = "other"  # the sex position: left as read


class ReadStatus(StrEnum):
    """How an MRZ reading came out of correction."""

    VERIFIED = "verified"  # one reading satisfies every check digit
    AMBIGUOUS = "ambiguous"  # several readings do, and nothing picks one
    INVALID = "invalid"  # none does (a misread beyond the confusions, or a bad document)


@dataclass(frozen=True)
class MrzReading:
    """The corrected lines, what OCR read, and how many characters were changed."""

    lines: tuple[str, ...]
    raw: tuple[str, ...]
    status: ReadStatus
    corrections: int
    result: MrzResult

    @property
    def confirmed(self) -> bool:
        """The reading is the MRZ as printed: VERIFIED, every check digit holds. The
        document may still be invalid (an impossible date, digits in a name: `valid`)."""
        checks = self.result.checks
        return (self.status is ReadStatus.VERIFIED and bool(checks)
                and all(check.ok for check in checks))

    @property
    def valid(self) -> bool:
        """Verified and valid: only then are its fields evidence."""
        return self.status is ReadStatus.VERIFIED and self.result.valid


def position_kinds(layout: Layout) -> tuple[PositionKind, ...]:
    """The kind of every position of `layout`, in the lines joined into one string."""
    kinds = [PositionKind.OTHER] * (layout.lines * layout.width)
    letters = layout.letter_fields
    digits = (layout.birth_date, layout.expiry_date)
    checks = (layout.document_number_check, layout.birth_date_check, layout.expiry_date_check,
              layout.composite_check, layout.personal_number_check)
    for span in letters:
        kinds[span] = [PositionKind.LETTER] * len(range(*span.indices(len(kinds))))
    for span in digits:
        kinds[span] = [PositionKind.DIGIT] * len(range(*span.indices(len(kinds))))
    for span in (layout.document_number, *layout.optional_data):
        kinds[span] = [PositionKind.ALPHANUMERIC] * len(range(*span.indices(len(kinds))))
    for position in checks:
        if position is not None:
            kinds[position] = PositionKind.DIGIT
    return tuple(kinds)


def correct_mrz(
    lines: Sequence[str], *, today: date, number_hint: str | None = None,
    number_vouched: bool = False,
) -> MrzReading:
    """The MRZ `lines` (as OCR read them, already of the format's shape) corrected and parsed.

    `number_hint` is the document number read elsewhere on the card (the visual zone).
    `number_vouched`: the caller judges every character of the document number itself
    (`mrz_read._judged`: a recognizer sure of it, or two agreeing), so a number holding a
    character its check digit cannot tell from a look-alike (`<` and `0`, ...) is not
    AMBIGUOUS for that alone.
    """
    raw = tuple(lines)
    layout = layout_for(raw)
    if layout is None:
        return _reading(raw, raw, ReadStatus.INVALID, today=today)
    kinds = position_kinds(layout)
    read = "".join(by_kind(c, k) for c, k in zip("".join(raw), kinds, strict=True))
    hinted = _hinted(read, layout, number_hint)
    holds = _checks_hold(read, layout, today)
    if hinted is not None and hinted != read and _checks_hold(hinted, layout, today):
        blind = holds and _cost(hinted, read) == 0  # differs by G/6 only: the hint decides
        status = ReadStatus.VERIFIED if not holds or blind else ReadStatus.AMBIGUOUS
        return _reading(_split(hinted if status is ReadStatus.VERIFIED else read, layout), raw,
                        status, today=today)
    if not holds:
        return _reading(_split(read, layout), raw, ReadStatus.INVALID, today=today)
    unsure = hinted != read and _blind(read, layout) and not number_vouched
    status = ReadStatus.AMBIGUOUS if unsure else ReadStatus.VERIFIED
    return _reading(_split(read, layout), raw, status, today=today)


def by_kind(char: str, kind: PositionKind) -> str:
    """A character mapped to the alphabet of a digit or letter position."""
    if kind is PositionKind.DIGIT:
        return TO_DIGIT.get(char, char)
    if kind is PositionKind.LETTER:
        return TO_LETTER.get(char, char)
    return char


def _hinted(read: str, layout: Layout, hint: str | None) -> str | None:
    """`read` with the document number the hint gives, where the two differ only by OCR
    confusions (None: no hint, or one that is not a confusion away)."""
    if hint is None:
        return None
    span = layout.document_number
    field = read[span]
    wanted = hint.ljust(len(field), "<")
    if len(wanted) != len(field) or any(
        a != b and b not in ALTERNATIVES.get(a, ()) for a, b in zip(field, wanted, strict=True)
    ):
        return None
    return read[: span.start] + wanted + read[span.stop :]


def _blind(read: str, layout: Layout) -> bool:
    """The document number holds a character no check digit tells from its look-alike."""
    return any(check_digit(char) == check_digit(alternative)
               for char in read[layout.document_number]
               for alternative in ALTERNATIVES.get(char, ()) if alternative != char)


def _cost(candidate: str, read: str) -> int:
    """Characters changed, not counting changes no check digit can see."""
    return sum(a != b and check_digit(a) != check_digit(b)
               for a, b in zip(candidate, read, strict=True))


def _checks_hold(text: str, layout: Layout, today: date) -> bool:
    """Every check digit of the joined MRZ `text` holds."""
    result = parse_mrz(_split(text, layout), today=today)
    return result.format is not None and all(check.ok for check in result.checks)


def _number(text: str, layout: Layout, today: date) -> str:
    """The document number a joined MRZ states."""
    return parse_mrz(_split(text, layout), today=today).document_number


def _split(text: str, layout: Layout) -> tuple[str, ...]:
    """The joined MRZ as its lines."""
    return tuple(text[i : i + layout.width] for i in range(0, len(text), layout.width))


def _reading(
    lines: tuple[str, ...], raw: tuple[str, ...], status: ReadStatus, *, today: date
) -> MrzReading:
    """A reading with its parse and the number of characters correction changed."""
    changed = sum(a != b for a, b in zip("".join(lines), "".join(raw), strict=False))
    return MrzReading(lines, raw, status, changed, parse_mrz(lines, today=today))
