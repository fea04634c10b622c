"""ICAO 9303 MRZs: the standard's specimens, layouts, dates, names, overflow, bad input, and
what the 7-3-1 check digits can and cannot detect."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkyc.documents.findings import DocumentError, DocumentField, InvalidDocument
from simkyc.documents.mrz import MrzFormat, check_digit, parse_mrz

# Doc 9303 Part 4, specimen TD3 passport data page (Anna Maria Eriksson of Utopia).
TD3_SPECIMEN = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)
# Doc 9303 Part 5, specimen TD1 card.
TD1_SPECIMEN = (
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
)
# Doc 9303 Part 6, specimen TD2 card.
TD2_SPECIMEN = (
    "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
    "D231458907UTO7408122F1204159<<<<<<<6",
)
# The specimens expire on 2012-04-15: on this day they are current.
BEFORE_EXPIRY = date(2010, 1, 1)
LATER = date(2025, 6, 1)
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
DIGITS = "0123456789"


def _codes(lines: tuple[str, ...], today: date = BEFORE_EXPIRY) -> list[DocumentError]:
    return [finding.code for finding in parse_mrz(lines, today=today).errors]


# --- An independent MRZ writer, from the layouts as the standard's parts tabulate them. ---


@dataclass(frozen=True)
class Fields:
    """What goes into an MRZ, unpadded; `optional` has one entry per optional data field."""

    code: str
    state: str
    name: str
    number: str
    nationality: str
    birth: str
    sex: str
    expiry: str
    optional: tuple[str, ...]


def _cd(text: str) -> str:
    return str(check_digit(text))


def _number_and_optional(number: str, optional: str, width: int) -> tuple[str, str]:
    """Document number + check digit (10 chars) and the optional field, with overflow."""
    if len(number) <= 9:
        return number.ljust(9, "<") + _cd(number.ljust(9, "<")), optional.ljust(width, "<")
    continued = number[9:] + _cd(number) + "<" + optional
    return number[:9] + "<", continued.ljust(width, "<")


def write_td3(f: Fields) -> tuple[str, ...]:
    """Part 4: line 2 = number, cd, nationality, birth, cd, sex, expiry, cd, personal no, cd, cd."""
    personal = f.optional[0].ljust(14, "<")
    personal_cd = _cd(personal) if personal.strip("<") else "<"
    line2 = (
        f.number.ljust(9, "<")
        + _cd(f.number.ljust(9, "<"))
        + f.nationality
        + f.birth
        + _cd(f.birth)
        + f.sex
        + f.expiry
        + _cd(f.expiry)
        + personal
        + personal_cd
    )
    composite = _cd(line2[0:10] + line2[13:20] + line2[21:43])
    return (f.code + f.state + f.name).ljust(44, "<")[:44], line2 + composite


def write_td2(f: Fields) -> tuple[str, ...]:
    """Part 6: line 2 = number, cd, nationality, birth, cd, sex, expiry, cd, optional, cd."""
    head, optional = _number_and_optional(f.number, f.optional[0], 7)
    line2 = head + f.nationality + f.birth + _cd(f.birth) + f.sex + f.expiry + _cd(f.expiry)
    line2 += optional
    composite = _cd(line2[0:10] + line2[13:20] + line2[21:35])
    return (f.code + f.state + f.name).ljust(36, "<")[:36], line2 + composite


def write_td1(f: Fields) -> tuple[str, ...]:
    """Part 5: line 1 = code, state, number, cd, optional; line 2 = birth ... optional, cd."""
    head, optional = _number_and_optional(f.number, f.optional[0], 15)
    line1 = f.code + f.state + head + optional
    line2 = f.birth + _cd(f.birth) + f.sex + f.expiry + _cd(f.expiry) + f.nationality
    line2 += f.optional[1].ljust(11, "<")
    composite = _cd(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
    return line1, line2 + composite, f.name.ljust(30, "<")[:30]


ERIKSSON = Fields(
    code="I<",
    state="UTO",
    name="ERIKSSON<<ANNA<MARIA",
    number="D23145890",
    nationality="UTO",
    birth="740812",
    sex="F",
    expiry="120415",
    optional=("", ""),
)


def test_the_writer_reproduces_the_specimens() -> None:
    assert write_td1(ERIKSSON) == TD1_SPECIMEN
    assert write_td2(ERIKSSON) == TD2_SPECIMEN
    td3 = replace(ERIKSSON, code="P<", number="L898902C3", optional=("ZE184226B",))
    assert write_td3(td3) == TD3_SPECIMEN


# --- The specimens. ---


def test_check_digits_of_the_td3_specimen() -> None:
    assert check_digit("L898902C3") == 6
    assert check_digit("740812") == 2
    assert check_digit("120415") == 9
    assert check_digit("ZE184226B<<<<<") == 1
    assert check_digit("") == 0


def test_check_digit_refuses_characters_outside_the_mrz_alphabet() -> None:
    with pytest.raises(InvalidDocument):
        check_digit("l898902c3")


@pytest.mark.parametrize(
    ("lines", "kind", "number", "optional"),
    [
        (TD3_SPECIMEN, MrzFormat.TD3, "L898902C3", ("ZE184226B",)),
        (TD1_SPECIMEN, MrzFormat.TD1, "D23145890", ("", "")),
        (TD2_SPECIMEN, MrzFormat.TD2, "D23145890", ("",)),
    ],
)
def test_the_standards_specimens_are_valid(
    lines: tuple[str, ...], kind: MrzFormat, number: str, optional: tuple[str, ...]
) -> None:
    result = parse_mrz(lines, today=BEFORE_EXPIRY)
    assert result.valid, result.errors
    assert result.format is kind
    assert result.document_code == ("P" if kind is MrzFormat.TD3 else "I")
    assert (result.issuing_state, result.nationality) == ("UTO", "UTO")
    assert result.document_number == number
    assert result.birth_date == date(1974, 8, 12)
    assert result.expiry_date == date(2012, 4, 15)
    assert (result.surname, result.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert result.optional_data == optional
    assert all(check.ok for check in result.checks)
    assert not result.is_expired(BEFORE_EXPIRY)


@pytest.mark.parametrize("lines", [TD3_SPECIMEN, TD1_SPECIMEN, TD2_SPECIMEN])
def test_an_expired_document_still_parses_as_valid(lines: tuple[str, ...]) -> None:
    result = parse_mrz(lines, today=LATER)
    assert result.valid
    assert result.expiry_date == date(2012, 4, 15)
    assert result.is_expired(LATER)
    assert not result.is_expired(date(2012, 4, 15))  # valid through its expiry date
    assert result.is_expired(date(2012, 4, 16))


def test_expiry_is_an_error_only_when_asked() -> None:
    result = parse_mrz(TD3_SPECIMEN, today=LATER, check_expiry=True)
    assert [f.code for f in result.errors] == [DocumentError.EXPIRED]
    assert parse_mrz(TD3_SPECIMEN, today=BEFORE_EXPIRY, check_expiry=True).valid


def test_one_string_with_line_breaks_and_spaces_is_accepted() -> None:
    text = "\n  " + "\n".join(TD1_SPECIMEN) + "  \n\n"
    assert parse_mrz(text, today=BEFORE_EXPIRY) == parse_mrz(TD1_SPECIMEN, today=BEFORE_EXPIRY)


def test_the_sex_field_is_not_part_of_the_result() -> None:
    result = parse_mrz(TD3_SPECIMEN, today=BEFORE_EXPIRY)
    assert "sex" not in result.to_dict(today=BEFORE_EXPIRY)
    assert not any("sex" in name for name in result.__dataclass_fields__)
    other = TD3_SPECIMEN[1][:20] + "M" + TD3_SPECIMEN[1][21:]
    assert parse_mrz((TD3_SPECIMEN[0], other), today=BEFORE_EXPIRY) == result


# --- Shape. ---


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ((), DocumentError.BAD_LINE_COUNT),
        ((TD3_SPECIMEN[0],), DocumentError.BAD_LINE_COUNT),
        ((*TD1_SPECIMEN, TD1_SPECIMEN[2]), DocumentError.BAD_LINE_COUNT),
        (("", ""), DocumentError.BAD_LENGTH),
        ((TD3_SPECIMEN[0], TD3_SPECIMEN[1][:43]), DocumentError.BAD_LENGTH),
        ((TD3_SPECIMEN[0][:40], TD3_SPECIMEN[1][:40]), DocumentError.BAD_LENGTH),
        ((TD2_SPECIMEN[0], TD3_SPECIMEN[1]), DocumentError.BAD_LENGTH),
        ((TD3_SPECIMEN[0].lower(), TD3_SPECIMEN[1]), DocumentError.BAD_CHARACTERS),
        ((TD3_SPECIMEN[0].replace("<<", "  ", 1), TD3_SPECIMEN[1]), DocumentError.BAD_CHARACTERS),
        (
            (*TD1_SPECIMEN[:2], TD1_SPECIMEN[2].replace("ANNA", "ANNÄ")),
            DocumentError.BAD_CHARACTERS,
        ),
    ],
)
def test_badly_shaped_input_is_refused_with_a_clear_code(
    lines: tuple[str, ...], code: DocumentError
) -> None:
    result = parse_mrz(lines, today=BEFORE_EXPIRY)
    assert [f.code for f in result.errors] == [code]
    assert result.format is None
    assert result.errors[0].field is DocumentField.LINES


def test_a_bad_character_is_located() -> None:
    result = parse_mrz((TD3_SPECIMEN[0], TD3_SPECIMEN[1].replace("C", "c")), today=LATER)
    assert "Line 2" in result.errors[0].message
    assert "position 8" in result.errors[0].message


# --- Fields. ---


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"birth": "740230"}, DocumentError.BAD_DATE, DocumentField.BIRTH_DATE),
        ({"birth": "741301"}, DocumentError.BAD_DATE, DocumentField.BIRTH_DATE),
        ({"birth": "7408A2"}, DocumentError.BAD_DATE, DocumentField.BIRTH_DATE),
        ({"expiry": "120431"}, DocumentError.BAD_DATE, DocumentField.EXPIRY_DATE),
        ({"expiry": "130229"}, DocumentError.BAD_DATE, DocumentField.EXPIRY_DATE),
        ({"code": "P<"}, DocumentError.BAD_DOCUMENT_CODE, DocumentField.DOCUMENT_CODE),
        ({"code": "I1"}, DocumentError.BAD_DOCUMENT_CODE, DocumentField.DOCUMENT_CODE),
        ({"state": "U1O"}, DocumentError.BAD_COUNTRY_CODE, DocumentField.ISSUING_STATE),
        ({"state": "<UT"}, DocumentError.BAD_COUNTRY_CODE, DocumentField.ISSUING_STATE),
        ({"nationality": "<<<"}, DocumentError.BAD_COUNTRY_CODE, DocumentField.NATIONALITY),
        ({"name": ""}, DocumentError.BAD_NAME, DocumentField.NAME),
        ({"name": "ERIKSSON<<ANNA2"}, DocumentError.BAD_NAME, DocumentField.NAME),
        ({"number": ""}, DocumentError.BAD_DOCUMENT_NUMBER, DocumentField.DOCUMENT_NUMBER),
    ],
)
@pytest.mark.parametrize("write", [write_td1, write_td2])
def test_bad_fields_with_correct_check_digits(
    write: Callable[[Fields], tuple[str, ...]],
    change: dict[str, str],
    code: DocumentError,
    field: DocumentField,
) -> None:
    result = parse_mrz(write(replace(ERIKSSON, **change)), today=BEFORE_EXPIRY)  # type: ignore[arg-type]
    assert [(f.code, f.field) for f in result.errors] == [(code, field)]


def test_a_visa_code_on_a_td1_card_is_bad() -> None:
    result = parse_mrz(write_td1(replace(ERIKSSON, code="V<")), today=BEFORE_EXPIRY)
    assert [(f.code, f.field) for f in result.errors] == [
        (DocumentError.BAD_DOCUMENT_CODE, DocumentField.DOCUMENT_CODE)]


# ICAO Doc 9303 Part 7's MRV-A and MRV-B specimens (no composite check digit).
MRV_A_SPECIMEN = ("V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
                  "L8988901C4XXX4009078F96121096ZE184226B<<<<<<")
MRV_B_SPECIMEN = ("V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
                  "L8988901C4XXX4009078F9612109<<<<<<<<")


@pytest.mark.parametrize(("lines", "fmt"), [(MRV_A_SPECIMEN, MrzFormat.MRV_A),
                                            (MRV_B_SPECIMEN, MrzFormat.MRV_B)])
def test_machine_readable_visas_are_read(lines: tuple[str, str], fmt: MrzFormat) -> None:
    result = parse_mrz(lines, today=BEFORE_EXPIRY)
    assert result.valid, result.errors
    assert (result.format, result.issuing_state, result.document_number, result.nationality,
            result.surname) == (fmt, "UTO", "L8988901C", "XXX", "ERIKSSON")
    assert result.birth_date == date(1940, 9, 7)
    assert [check.name.value for check in result.checks] == [
        "document_number", "birth_date", "expiry_date"]


def test_a_visa_check_digit_still_judges() -> None:
    broken = (MRV_A_SPECIMEN[0], MRV_A_SPECIMEN[1][:9] + "5" + MRV_A_SPECIMEN[1][10:])
    assert not parse_mrz(broken, today=BEFORE_EXPIRY).valid


def test_a_td3_document_code_must_start_with_p() -> None:
    lines = write_td3(replace(ERIKSSON, code="I<", optional=("",)))
    assert _codes(lines) == [DocumentError.BAD_DOCUMENT_CODE]


def test_germany_and_unknown_state_codes_are_accepted() -> None:
    result = parse_mrz(write_td1(replace(ERIKSSON, state="D<<", nationality="ZZZ")), today=LATER)
    assert result.valid
    assert (result.issuing_state, result.nationality) == ("D", "ZZZ")


@pytest.mark.parametrize(
    ("name", "surname", "given_names"),
    [
        ("ERIKSSON<<ANNA<MARIA", "ERIKSSON", "ANNA MARIA"),
        ("VAN<DER<BERG<<JAN", "VAN DER BERG", "JAN"),
        ("ERIKSSON", "ERIKSSON", ""),
        ("ERIKSSON<<", "ERIKSSON", ""),
        ("<<ANNA", "", "ANNA"),
        ("ABCDEFGHIJKLMNOPQRSTUVWXY<<ABCDE", "ABCDEFGHIJKLMNOPQRSTUVWXY", "ABC"),  # truncated
    ],
)
def test_names(name: str, surname: str, given_names: str) -> None:
    result = parse_mrz(write_td1(replace(ERIKSSON, name=name)), today=LATER)
    assert result.valid
    assert (result.surname, result.given_names) == (surname, given_names)


def test_an_unknown_day_or_month_of_birth_is_filler_not_an_error() -> None:
    """Part 3: unknown parts of a birth date are fillers; no date is returned."""
    for birth in ("7408<<", "74<<<<", "<<<<<<"):
        result = parse_mrz(write_td1(replace(ERIKSSON, birth=birth)), today=LATER)
        assert result.valid, (birth, result.errors)
        assert result.birth_date is None
    assert _codes(write_td1(replace(ERIKSSON, birth="7408<2"))) == [DocumentError.BAD_DATE]


def test_an_empty_td3_personal_number_may_have_check_digit_filler_or_zero() -> None:
    lines = write_td3(replace(ERIKSSON, code="P<", optional=("",)))
    assert lines[1][42] == "<"
    zero = lines[1][:42] + "0" + lines[1][43:]
    composite = _cd(zero[0:10] + zero[13:20] + zero[21:43])
    for line2 in (lines[1], zero[:43] + composite):
        assert parse_mrz((lines[0], line2), today=LATER).valid


@pytest.mark.parametrize(
    ("line", "position", "field", "code"),
    [
        (1, 9, DocumentField.DOCUMENT_NUMBER, DocumentError.BAD_CHECK_DIGIT),
        (1, 19, DocumentField.BIRTH_DATE, DocumentError.BAD_CHECK_DIGIT),
        (1, 27, DocumentField.EXPIRY_DATE, DocumentError.BAD_CHECK_DIGIT),
        (1, 42, DocumentField.OPTIONAL_DATA, DocumentError.BAD_CHECK_DIGIT),
        (1, 43, DocumentField.COMPOSITE, DocumentError.BAD_COMPOSITE_CHECK_DIGIT),
    ],
)
def test_each_td3_check_digit_is_verified(
    line: int, position: int, field: DocumentField, code: DocumentError
) -> None:
    lines = list(TD3_SPECIMEN)
    wrong = str((int(lines[line][position]) + 1) % 10)
    lines[line] = lines[line][:position] + wrong + lines[line][position + 1 :]
    errors = parse_mrz(lines, today=LATER).errors
    assert (code, field) in {(f.code, f.field) for f in errors}
    if code is DocumentError.BAD_COMPOSITE_CHECK_DIGIT:
        assert len(errors) == 1


# --- Two-digit years. ---


@pytest.mark.parametrize(
    ("birth", "today", "expected"),
    [
        ("250601", date(2025, 6, 1), date(2025, 6, 1)),  # born today
        ("250602", date(2025, 6, 1), date(1925, 6, 2)),  # tomorrow is a century ago
        ("000229", date(2025, 6, 1), date(2000, 2, 29)),
        ("991231", date(2001, 1, 1), date(1999, 12, 31)),
    ],
)
def test_a_birth_year_is_the_latest_not_in_the_future(
    birth: str, today: date, expected: date
) -> None:
    result = parse_mrz(write_td1(replace(ERIKSSON, birth=birth, expiry="501231")), today=today)
    assert result.birth_date == expected


def test_a_holder_is_born_before_the_document_expires() -> None:
    # Iceland's passport specimen: born 121212, expired 110629; read in 2026 the holder
    # was born in 1912 (a 2012 birth would follow the expiry), and the MRZ is valid.
    lines = ("PAISLAEVARSDOTTIR<<THURIDUR<OESP<<<<<<<<<<<<",
             "A2040611<0ISL1212123F1106297121212<1239<<<66")
    result = parse_mrz(lines, today=date(2026, 12, 1))
    assert result.valid
    assert result.birth_date == date(1912, 12, 12)
    assert result.expiry_date == date(2011, 6, 29)


def test_the_td2_long_document_number_example_of_part_6() -> None:
    # ICAO Doc 9303 Part 6's TD2 with a 12-character number: `<` in the check digit's
    # place, the number's last 3 characters and its check digit in the optional data.
    lines = ("I<UTOSTEVENSON<<PETER<JOHN<<<<<<<<<<", "D23145890<UTO3407127M95071227349<<<8")
    result = parse_mrz(lines, today=date(2026, 12, 1))
    assert result.valid
    assert result.document_number == "D23145890734"
    assert result.optional_data == ("",)


@pytest.mark.parametrize(
    ("expiry", "today", "expected"),
    [
        ("750101", date(2025, 6, 1), date(2075, 1, 1)),  # today.year + 50
        ("761231", date(2025, 6, 1), date(1976, 12, 31)),  # today.year - 49
        ("120415", date(2025, 6, 1), date(2012, 4, 15)),
        ("350101", date(2025, 6, 1), date(2035, 1, 1)),
        ("050101", date(2099, 1, 1), date(2105, 1, 1)),
    ],
)
def test_an_expiry_year_is_within_49_years_back_and_50_ahead(
    expiry: str, today: date, expected: date
) -> None:
    result = parse_mrz(write_td1(replace(ERIKSSON, birth="000101", expiry=expiry)), today=today)
    assert result.expiry_date == expected


# --- Long document numbers (Part 5 §4.2.4). ---

LONG = replace(ERIKSSON, number="D23145890734")


def test_a_long_td1_document_number_overflows_into_the_optional_data() -> None:
    lines = write_td1(replace(LONG, optional=("", "")))
    assert lines[0] == "I<UTOD23145890<7349<<<<<<<<<<<"
    result = parse_mrz(lines, today=LATER)
    assert result.valid, result.errors
    assert result.document_number == "D23145890734"
    assert result.optional_data == ("", "")


def test_a_ten_character_document_number_from_a_third_party_sample() -> None:
    """The sample in snifter/MRZCode.NET issue #9: number 1234567890, check digit 7."""
    lines = (
        "IDUTO123456789<07<<<<<<<<<<<<<",
        "8601012M3001019UTO<<<<<<<<<<<6",
        "SPECIMEN<<JANE<<<<<<<<<<<<<<<<",
    )
    result = parse_mrz(lines, today=LATER)
    assert result.valid, result.errors
    assert result.document_number == "1234567890"


def test_optional_data_may_follow_a_long_document_number() -> None:
    for write in (write_td1, write_td2):
        result = parse_mrz(
            write(replace(LONG, number="D2314589073", optional=("X", "Y"))), today=LATER
        )
        assert result.valid, result.errors
        assert result.document_number == "D2314589073"
        assert result.optional_data[0] == "X"


@pytest.mark.parametrize(
    ("line1", "code"),
    [
        ("I<UTOD23145890<7359<<<<<<<<<<<", DocumentError.BAD_CHECK_DIGIT),  # 4 -> 5
        ("I<UTOD23145890<7348<<<<<<<<<<<", DocumentError.BAD_CHECK_DIGIT),  # its check digit
        ("I<UTOD23145890<<<<<<<<<<<<<<<<", DocumentError.BAD_DOCUMENT_NUMBER),  # no continuation
        ("I<UTOD23145890<734A<<<<<<<<<<<", DocumentError.BAD_DOCUMENT_NUMBER),  # no check digit
        ("I<UTOD23145890<9<<<<<<<<<<<<<<", DocumentError.BAD_DOCUMENT_NUMBER),  # only a digit
    ],
)
def test_a_corrupted_long_document_number_is_detected(line1: str, code: DocumentError) -> None:
    _, line2, line3 = write_td1(replace(LONG, optional=("", "")))
    # Recompute the composite so that only the document number itself is at fault.
    composite = _cd(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
    result = parse_mrz((line1, line2[:29] + composite, line3), today=LATER)
    # A malformed continuation is reported as such, and its check digit as failed.
    assert result.errors[0].code is code
    assert {f.code for f in result.errors} <= {code, DocumentError.BAD_CHECK_DIGIT}
    assert [c.ok for c in result.checks if c.name.value == "document_number"] == [False]


def test_a_td3_check_digit_cannot_be_a_filler() -> None:
    line2 = TD3_SPECIMEN[1][:9] + "<" + TD3_SPECIMEN[1][10:]
    assert DocumentError.BAD_CHECK_DIGIT in _codes((TD3_SPECIMEN[0], line2))


# --- Generated MRZs. ---

TODAYS = st.dates(date(2000, 1, 1), date(2080, 12, 31))
_letters = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=10)
_alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _optional(max_size: int) -> st.SearchStrategy[str]:
    """Optional data: letters, digits and inner fillers (trailing fillers are padding)."""
    return st.text(_alnum + "<", max_size=max_size).map(lambda s: s.rstrip("<"))


@st.composite
def mrz_fields(draw: st.DrawFn, kind: MrzFormat, today: date) -> Fields:
    """Random fields that make a valid MRZ of `kind` on `today`."""
    born = today - timedelta(days=draw(st.integers(0, 36_400)))
    window = (max(born, date(today.year - 49, 1, 1)), date(today.year + 50, 12, 31))
    expires = draw(st.dates(*window))
    surname = draw(st.lists(_letters, min_size=1, max_size=3))
    given = draw(st.lists(_letters, max_size=3))
    name = "<".join(surname) + ("<<" + "<".join(given) if given else "")
    overflow = {MrzFormat.TD1: 13, MrzFormat.TD2: 5, MrzFormat.TD3: 0}[kind]
    number = draw(st.text(_alnum, min_size=1, max_size=9 + overflow))
    room = {MrzFormat.TD1: 15, MrzFormat.TD2: 7, MrzFormat.TD3: 14}[kind]
    room -= len(number) - 7 if len(number) > 9 else 0
    first = "P" if kind is MrzFormat.TD3 else draw(st.sampled_from("ACI"))
    return Fields(
        code=first + draw(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUWXYZ<")),
        state=draw(
            st.one_of(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3), st.just("D<<"))
        ),
        name=name,
        number=number,
        nationality=draw(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3)),
        birth=f"{born:%y%m%d}",
        sex=draw(st.sampled_from(ALPHABET)),  # opaque: any character must do
        expiry=f"{expires:%y%m%d}",
        optional=(draw(_optional(room)), draw(_optional(11))),
    )


WRITERS = {MrzFormat.TD1: write_td1, MrzFormat.TD2: write_td2, MrzFormat.TD3: write_td3}


@st.composite
def valid_mrzs(draw: st.DrawFn) -> tuple[Fields, tuple[str, ...], date, MrzFormat]:
    """(fields, the MRZ written from them, today, format)."""
    kind = draw(st.sampled_from([MrzFormat.TD1, MrzFormat.TD2, MrzFormat.TD3]))
    today = draw(TODAYS)
    fields = draw(mrz_fields(kind, today))
    return fields, WRITERS[kind](fields), today, kind


@settings(max_examples=400, database=None)
@given(valid_mrzs())
def test_generated_valid_mrzs_are_all_accepted(
    case: tuple[Fields, tuple[str, ...], date, MrzFormat],
) -> None:
    fields, lines, today, kind = case
    result = parse_mrz(lines, today=today)
    assert result.valid, (lines, result.errors)
    assert result.format is kind
    assert result.document_number == fields.number
    assert f"{result.birth_date:%y%m%d}" == fields.birth
    assert f"{result.expiry_date:%y%m%d}" == fields.expiry
    assert result.optional_data[0] == fields.optional[0]
    assert result.issuing_state == fields.state.rstrip("<")
    width = {MrzFormat.TD1: 30, MrzFormat.TD2: 31, MrzFormat.TD3: 39}[kind]
    if len(fields.name) <= width:
        assert (
            result.surname.replace(" ", "<")
            + ("<<" + result.given_names.replace(" ", "<") if result.given_names else "")
            == fields.name
        )


# Check-digit protected positions, per format, as (line, first, last) 1-based and inclusive,
# with what the standard lets stand there: any MRZ character ("text"), digits only ("digits",
# dates and check digits), digits or the long-number filler ("digit_or_overflow"), or
# digits, or a filler for an empty personal number ("personal_check").
PROTECTED = {
    MrzFormat.TD3: [
        (2, 1, 9, "text"),  # document number
        (2, 10, 10, "digits"),
        (2, 14, 19, "digits"),  # birth date
        (2, 20, 20, "digits"),
        (2, 22, 27, "digits"),  # expiry date
        (2, 28, 28, "digits"),
        (2, 29, 42, "text"),  # personal number
        (2, 43, 43, "personal_check"),
        (2, 44, 44, "digits"),  # composite
    ],
    MrzFormat.TD2: [
        (2, 1, 9, "text"),
        (2, 10, 10, "digit_or_overflow"),
        (2, 14, 19, "digits"),
        (2, 20, 20, "digits"),
        (2, 22, 27, "digits"),
        (2, 28, 28, "digits"),
        (2, 29, 35, "text"),  # optional data: composite only
        (2, 36, 36, "digits"),
    ],
    MrzFormat.TD1: [
        (1, 6, 14, "text"),
        (1, 15, 15, "digit_or_overflow"),
        (1, 16, 30, "text"),  # optional data: composite (and a long number's own check)
        (2, 1, 6, "digits"),
        (2, 7, 7, "digits"),
        (2, 9, 14, "digits"),
        (2, 15, 15, "digits"),
        (2, 19, 29, "text"),  # optional data: composite only
        (2, 30, 30, "digits"),
    ],
}


def _allowed(kind: str, lines: tuple[str, ...]) -> str:
    """The characters the standard allows at a position of this kind."""
    if kind == "text":
        return ALPHABET
    if kind == "digit_or_overflow" or (kind == "personal_check" and not lines[1][28:42].strip("<")):
        return DIGITS + "<"
    return DIGITS


def _same_check_value(a: str, b: str) -> bool:
    """Whether a and b weigh the same in every 7-3-1 check digit (values equal mod 10)."""
    value = {char: (0 if char == "<" else int(char, 36)) for char in (a, b)}
    return value[a] % 10 == value[b] % 10


@settings(max_examples=60, database=None, deadline=None)
@given(valid_mrzs())
@pytest.mark.slow  # over 5 s (pytest --durations, tests/unit)
def test_every_detectable_substitution_in_a_protected_field_is_detected(
    case: tuple[Fields, tuple[str, ...], date, MrzFormat],
) -> None:
    """Every substitution is detected except one the 7-3-1 scheme cannot see.

    A check digit changes by weight * (value difference) mod 10 and the weights 7, 3, 1 are
    prime to 10, so a substitution goes unseen iff the old and new characters have equal
    values mod 10 (0 < A K U; 1 B L V; ...) and both may stand at that position. Dates and
    check digits allow digits only, so there every substitution is caught.
    """
    _, lines, today, kind = case
    for line, first, last, position_kind in PROTECTED[kind]:
        allowed = _allowed(position_kind, lines)
        for column in range(first - 1, last):
            old = lines[line - 1][column]
            for new in ALPHABET:
                if new == old or (
                    new in allowed and old in allowed and _same_check_value(old, new)
                ):
                    continue
                changed = list(lines)
                changed[line - 1] = (
                    changed[line - 1][:column] + new + changed[line - 1][column + 1 :]
                )
                assert not parse_mrz(changed, today=today).valid, (changed, line, column + 1)


def test_what_the_check_digits_cannot_see() -> None:
    """Documented blind spots: equal values mod 10 in a text field, and unprotected fields."""
    line2 = TD3_SPECIMEN[1]
    c_to_m = line2.replace("L898902C3", "L898902M3")  # C = 12, M = 22
    assert parse_mrz((TD3_SPECIMEN[0], c_to_m), today=LATER).valid
    nationality = line2[:10] + "UTA" + line2[13:]  # nationality: no check digit covers it
    assert parse_mrz((TD3_SPECIMEN[0], nationality), today=LATER).valid
    renamed = TD3_SPECIMEN[0].replace("ANNA", "ANNE")  # names: no check digit either
    assert parse_mrz((renamed, line2), today=LATER).valid
