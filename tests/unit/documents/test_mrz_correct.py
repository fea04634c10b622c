"""OCR confusions in an MRZ: undone by what each position may hold, or flagged, never
validated into another document."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from simkyc.documents.mrz_correct import (
    ALTERNATIVES,
    TO_DIGIT,
    TO_LETTER,
    PositionKind,
    ReadStatus,
    correct_mrz,
    position_kinds,
)
from simkyc.documents.mrz_layout import TD1, TD3
from simkyc.synth.specimen import td1_mrz, td3_mrz

TODAY = date(2026, 11, 22)
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# What OCR may read for a character, by the kind of position it is in (the inverse of the
# tables the correction applies).
READ_AS_DIGIT = {d: [r for r, v in TO_DIGIT.items() if v == d] for d in "0123456789"}
READ_AS_LETTER = {c: [r for r, v in TO_LETTER.items() if v == c] for c in LETTERS}


@st.composite
def specimen_mrz(draw: st.DrawFn) -> tuple[str, ...]:
    """A valid TD1 or TD3 MRZ with a random number, name and dates."""
    number = draw(st.text(alphabet=LETTERS + "0123456789", min_size=9, max_size=9))
    surname = draw(st.text(alphabet=LETTERS, min_size=2, max_size=12))
    given = draw(st.text(alphabet=LETTERS, min_size=2, max_size=8))
    birth = date(1940, 1, 1) + timedelta(days=draw(st.integers(0, 60 * 365)))
    expiry = date(2027, 1, 1) + timedelta(days=draw(st.integers(0, 3650)))
    make = td1_mrz if draw(st.booleans()) else td3_mrz
    return make(number, surname, given, birth, expiry)


def _misread(draw: st.DrawFn, lines: tuple[str, ...]) -> tuple[str, ...]:
    """Confusable substitutions: any number in digit and letter fields, at most one per
    alphanumeric field (what a check digit can catch)."""
    layout = TD1 if len(lines) == 3 else TD3
    kinds = position_kinds(layout)
    text = list("".join(lines))
    spans = [layout.document_number, *layout.optional_data]
    protected = {i: n for n, span in enumerate(spans) for i in range(*span.indices(len(text)))}
    touched: set[int] = set()
    for position in draw(st.lists(st.integers(0, len(text) - 1), max_size=12)):
        char, kind = text[position], kinds[position]
        if kind is PositionKind.DIGIT:
            options = READ_AS_DIGIT.get(char, [])
        elif kind is PositionKind.LETTER:
            options = READ_AS_LETTER.get(char, [])
        elif kind is PositionKind.ALPHANUMERIC and protected[position] not in touched:
            options = [r for r, alts in ALTERNATIVES.items() if char in alts and r != char]
            touched.add(protected[position])
        else:
            options = []
        if options:
            text[position] = draw(st.sampled_from(options))
    return tuple("".join(text[i : i + layout.width])
                 for i in range(0, len(text), layout.width))


@settings(max_examples=200, deadline=None)
@given(data=st.data(), original=specimen_mrz())
def test_confusions_are_corrected_back_or_flagged_never_misvalidated(
    data: st.DataObject, original: tuple[str, ...]
) -> None:
    read = _misread(data.draw, original)
    reading = correct_mrz(read, today=TODAY)
    if reading.valid:
        assert reading.lines == original
    else:
        assert reading.status in {ReadStatus.AMBIGUOUS, ReadStatus.INVALID}


@settings(max_examples=100, deadline=None)
@given(original=specimen_mrz())
def test_a_clean_read_verifies_unless_a_check_digit_cannot_tell(
    original: tuple[str, ...]
) -> None:
    reading = correct_mrz(original, today=TODAY)
    number = (TD1 if len(original) == 3 else TD3).document_number
    blind = set("G6") & set("".join(original)[number])  # G and 6: same check value
    assert reading.valid or blind
    if reading.valid:
        assert reading.lines == original and reading.corrections == 0


def test_digits_and_letters_are_restored_by_field_type() -> None:
    original = td1_mrz("HD5142883", "ANDERBERG", "JORDAN", date(1959, 2, 5), date(2031, 10, 28))
    # As OCR read a photographed specimen: O for 0 in the state codes, S and B in the dates.
    read = ("I<UT0HD51428837<<<<<<<<<<<<<<<", "S9O2O51<311O2B9UT0<<<<<<<<<<<4",
            "ANDERBERG<<J0RDAN<<<<<<<<<<<<<")
    reading = correct_mrz(read, today=TODAY)
    assert reading.status is ReadStatus.VERIFIED and reading.valid
    assert reading.lines == original
    assert reading.corrections == 8


def test_a_number_the_check_digit_cannot_settle_is_ambiguous_until_a_hint_does() -> None:
    original = td3_mrz("GV0674908", "HOLLOWAY", "AVERY", date(1969, 8, 19), date(2033, 12, 28))
    alone = correct_mrz(original, today=TODAY)
    assert alone.status is ReadStatus.AMBIGUOUS and not alone.valid
    hinted = correct_mrz(original, today=TODAY, number_hint="GV0674908")
    assert hinted.valid and hinted.result.document_number == "GV0674908"


def test_a_misread_beyond_the_confusions_is_invalid() -> None:
    original = td3_mrz("RD0858304", "BALOGUN", "AVERY", date(1996, 11, 21), date(2032, 3, 22))
    read = (original[0], original[1].replace("0858", "0859"))
    assert correct_mrz(read, today=TODAY).status is ReadStatus.INVALID


def test_lines_of_no_mrz_shape_are_invalid() -> None:
    reading = correct_mrz(("P<UTO", "123"), today=TODAY)
    assert reading.status is ReadStatus.INVALID and not reading.valid


def test_position_kinds_follow_the_layout() -> None:
    kinds = position_kinds(TD3)
    assert kinds[0] is PositionKind.LETTER and kinds[44] is PositionKind.ALPHANUMERIC
    assert kinds[57] is PositionKind.DIGIT and kinds[64] is PositionKind.OTHER  # sex: as read
    assert np.unique([k.value for k in kinds]).size == 4
