"""Chinese resident ID numbers (GB 11643-1999): known numbers, 15->18, bad input, MOD 11-2."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkyc.documents.cn_id import (
    Province,
    check_character,
    convert_15_to_18,
    validate_cn_resident_id,
)
from simkyc.documents.findings import DocumentError, InvalidDocument

TODAY = date(2025, 6, 1)
# The weights as GB 11643-1999 tabulates them, written out independently of the module.
STANDARD_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ALPHABET = "0123456789X"
# 11010519491231002X typed with a Chinese input method: full-width digits and X.
FULL_WIDTH = "".join(chr(0xFF10 + int(c)) for c in "11010519491231002") + "\uff38"


def _value(char: str) -> int:
    return 10 if char == "X" else int(char)


def _complete(first_17: str) -> str:
    """The 18-character number: the check character solves sum(w_i * a_i) = 1 (mod 11)."""
    total = sum(int(d) * w for d, w in zip(first_17, STANDARD_WEIGHTS, strict=True))
    return first_17 + "10X98765432"[total % 11]


def _codes(value: str, today: date = TODAY) -> list[DocumentError]:
    return [finding.code for finding in validate_cn_resident_id(value, today=today).errors]


def test_the_published_example_is_valid() -> None:
    result = validate_cn_resident_id("11010519491231002X", today=TODAY)
    assert result.valid
    assert result.number == "11010519491231002X"
    assert result.region_code == "110105"
    assert result.province is Province.BEIJING
    assert result.birth_date == date(1949, 12, 31)
    assert not result.converted_from_15


def test_the_module_weights_are_the_standards() -> None:
    from simkyc.documents.cn_id import WEIGHTS

    assert WEIGHTS == STANDARD_WEIGHTS


@pytest.mark.parametrize(
    ("first_17", "province", "born"),
    [
        ("44030519900101001", Province.GUANGDONG, date(1990, 1, 1)),
        ("65010220000229123", Province.XINJIANG, date(2000, 2, 29)),
        ("15010219000101999", Province.INNER_MONGOLIA, date(1900, 1, 1)),
        ("81000020250601000", Province.HONG_KONG, date(2025, 6, 1)),
        ("50010119851231456", Province.CHONGQING, date(1985, 12, 31)),
        ("33010219770707777", Province.ZHEJIANG, date(1977, 7, 7)),
    ],
)
def test_hand_made_numbers_are_valid(first_17: str, province: Province, born: date) -> None:
    result = validate_cn_resident_id(_complete(first_17), today=TODAY)
    assert result.valid, result.errors
    assert result.province is province
    assert result.birth_date == born


def test_hand_made_numbers_include_every_check_character() -> None:
    """Sequence codes 000-099 of one region and date reach all 11 check characters."""
    numbers = [_complete(f"11010519491231{seq:03d}") for seq in range(100)]
    assert {n[-1] for n in numbers} == set(ALPHABET)
    assert all(validate_cn_resident_id(n, today=TODAY).valid for n in numbers)


def test_lowercase_x_and_surrounding_spaces_are_normalised() -> None:
    result = validate_cn_resident_id("  11010519491231002x\n", today=TODAY)
    assert result.valid
    assert result.number == "11010519491231002X"


def test_a_15_digit_number_is_converted_to_18() -> None:
    assert convert_15_to_18("110105491231002") == "11010519491231002X"
    result = validate_cn_resident_id(" 110105491231002 ", today=TODAY)
    assert result.valid
    assert result.converted_from_15
    assert result.number == "11010519491231002X"
    assert result.birth_date == date(1949, 12, 31)


def test_a_15_digit_number_with_a_bad_date_is_invalid() -> None:
    result = validate_cn_resident_id("110105491331002", today=TODAY)
    assert result.converted_from_15
    assert [f.code for f in result.errors] == [DocumentError.BAD_DATE]
    assert result.birth_date is None


@pytest.mark.parametrize("value", ["11010549123100", "11010549123100A", "", "11010519491231002X"])
def test_conversion_refuses_anything_but_15_digits(value: str) -> None:
    with pytest.raises(InvalidDocument) as caught:
        convert_15_to_18(value)
    assert caught.value.code == "INVALID_DOCUMENT"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", DocumentError.BAD_LENGTH),
        ("   ", DocumentError.BAD_LENGTH),
        ("1101051949123100", DocumentError.BAD_LENGTH),
        ("11010519491231002X0", DocumentError.BAD_LENGTH),
        ("11010519491231002Y", DocumentError.BAD_CHARACTERS),
        ("1101051949123100XX", DocumentError.BAD_CHARACTERS),
        ("11010519491231-02X", DocumentError.BAD_CHARACTERS),
        (FULL_WIDTH, DocumentError.BAD_CHARACTERS),
        ("11010549123100X", DocumentError.BAD_CHARACTERS),
        ("110105194912310021", DocumentError.BAD_CHECK_DIGIT),
    ],
)
def test_malformed_numbers_are_refused(value: str, code: DocumentError) -> None:
    assert _codes(value) == [code]


@pytest.mark.parametrize(
    ("first_17", "code"),
    [
        ("11010519490230002", DocumentError.BAD_DATE),  # 30 February
        ("11010519491301002", DocumentError.BAD_DATE),  # month 13
        ("11010519010229002", DocumentError.BAD_DATE),  # 1901 is not a leap year
        ("11010518991231002", DocumentError.BAD_DATE),  # before 1900
        ("11010520250602002", DocumentError.FUTURE_BIRTH_DATE),  # the day after TODAY
        ("99010519491231002", DocumentError.UNKNOWN_REGION),
        ("00010519491231002", DocumentError.UNKNOWN_REGION),
        ("16010519491231002", DocumentError.UNKNOWN_REGION),
        ("83000019491231002", DocumentError.UNKNOWN_REGION),
        ("11001219491231002", DocumentError.BAD_REGION),  # prefecture 00 with a county
        ("81010119491231002", DocumentError.BAD_REGION),  # Hong Kong is coded 810000 only
    ],
)
def test_numbers_with_a_correct_check_character_but_bad_content(
    first_17: str, code: DocumentError
) -> None:
    assert _codes(_complete(first_17)) == [code]


def test_the_birth_date_may_be_today() -> None:
    assert _codes(_complete("11010520250601002")) == []


def test_findings_name_the_field_and_explain() -> None:
    (finding,) = validate_cn_resident_id(_complete("99010519491231002"), today=TODAY).errors
    assert finding.field.value == "region_code"
    assert "99" in finding.message


def test_check_character_refuses_anything_but_17_digits() -> None:
    with pytest.raises(InvalidDocument):
        check_character("1101051949123100")


@st.composite
def regions(draw: st.DrawFn) -> str:
    """A plausible GB/T 2260 code: province + "0000", or + prefecture 01-99 + county 00-99."""
    province = draw(st.sampled_from(list(Province)))
    if province in {Province.TAIWAN, Province.HONG_KONG, Province.MACAO} or draw(st.booleans()):
        return province.value + "0000"
    return f"{province.value}{draw(st.integers(1, 99)):02d}{draw(st.integers(0, 99)):02d}"


@st.composite
def valid_numbers(draw: st.DrawFn) -> tuple[str, date, date]:
    """(an 18-character number with a correct check character, its birth date, today)."""
    today = draw(st.dates(date(1990, 1, 1), date(2100, 12, 31)))
    born = draw(st.dates(date(1900, 1, 1), today))
    sequence = draw(st.integers(0, 999))
    number = _complete(f"{draw(regions())}{born:%Y%m%d}{sequence:03d}")
    return number, born, today


@settings(max_examples=300, database=None)
@given(valid_numbers())
def test_generated_valid_numbers_are_all_accepted(case: tuple[str, date, date]) -> None:
    number, born, today = case
    result = validate_cn_resident_id(number, today=today)
    assert result.valid, result.errors
    assert (result.number, result.birth_date) == (number, born)


@settings(max_examples=200, database=None, deadline=None)
@given(valid_numbers())
def test_every_single_substitution_is_detected(case: tuple[str, date, date]) -> None:
    number, _, today = case
    for position in range(18):
        for char in ALPHABET + "A":
            if char != number[position]:
                changed = number[:position] + char + number[position + 1 :]
                assert not validate_cn_resident_id(changed, today=today).valid, changed


@settings(max_examples=200, database=None, deadline=None)
@given(valid_numbers())
def test_every_transposition_of_adjacent_distinct_characters_is_detected(
    case: tuple[str, date, date],
) -> None:
    number, _, today = case
    for i in range(17):
        if number[i] != number[i + 1]:
            swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
            assert not validate_cn_resident_id(swapped, today=today).valid, swapped


def test_mod_11_2_provably_detects_every_substitution_and_adjacent_transposition() -> None:
    """The proof, checked exhaustively over its finitely many cases.

    With w_18 = 1 and X = 10, a number is valid iff S = sum(w_i * a_i) = 1 (mod 11), w_i =
    2^(18-i) mod 11. Replacing a_i by b changes S by w_i * (b - a_i): 11 is prime, w_i is a
    power of 2 (never 0 mod 11) and 0 < |b - a_i| <= 10, so S changes mod 11. Swapping
    a_i and a_(i+1) changes S by (w_i - w_(i+1)) * (a_(i+1) - a_i), and w_i - w_(i+1) =
    w_(i+1) (as w_i = 2 * w_(i+1) mod 11) is never 0 mod 11 either. Digits are 0-9 and
    only position 18 may hold X, so every difference lies in 1..10.
    """
    weights = (*STANDARD_WEIGHTS, 1)
    assert all(w == pow(2, 17 - i, 11) for i, w in enumerate(weights))
    # The check character table is exactly "the a_18 that makes S = 1 (mod 11)".
    for total in range(11):
        assert (total + _value("10X98765432"[total])) % 11 == 1
    for w in weights:
        assert all((w * d) % 11 != 0 for d in range(1, 11))
    for left, right in itertools.pairwise(weights):
        assert all(((left - right) * d) % 11 != 0 for d in range(1, 11))
