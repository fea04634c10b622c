"""ICAO Doc 9303 machine readable zones: TD1 (3x30), TD2 (2x36) and TD3 (2x44, passports).

Every field is read from a fixed layout (Part 4 for TD3, Part 5 for TD1, Part 6 for TD2),
every check digit is verified, and each problem becomes a finding. The sex field is a fact
of the format: it is skipped, never read into the result or used.

Two-digit years (Part 3 writes dates as YYMMDD):
  * birth: the latest date not after `today` nor after the expiry date (so a holder is
    always under 100, and born before the document expires: Iceland's specimen holder born
    `121212` holds a passport that expired `110629`, so was born in 1912, not 2012);
  * expiry: the year in [today.year - 49, today.year + 50], a 100-year window around today
    that leans to the future (documents are read while current or recently expired); an
    expiry in the past is reported, not an error, unless the caller asks for `check_expiry`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from simkyc.documents.findings import DocumentError, DocumentField, Finding, InvalidDocument
from simkyc.documents.mrz_layout import Layout, MrzFormat, layout_for

_ALPHABET = re.compile(r"[A-Z0-9<]*")
_COUNTRY = re.compile(r"[A-Z]{1,3}<*")  # "D<<" is Germany (Part 3, issuing State codes).
_EXPIRY_YEARS_BACK = 49  # with 50 ahead: a 100-year window that leans to the future.

__all__ = ["CheckResult", "MrzFormat", "MrzResult", "check_digit", "parse_mrz"]


def check_digit(text: str) -> int:
    """The 9303 Part 3 check digit: weights 7, 3, 1 repeating; `<` = 0, A-Z = 10-35; mod 10."""
    if not _ALPHABET.fullmatch(text):
        message = "Check digits are computed over A-Z, 0-9 and < only."
        raise InvalidDocument(Finding(DocumentError.BAD_CHARACTERS, DocumentField.LINES, message))
    return sum(_value(char) * (7, 3, 1)[i % 3] for i, char in enumerate(text)) % 10


def _value(char: str) -> int:
    """A character's value for check digits."""
    if char == "<":
        return 0
    return int(char) if char.isdigit() else ord(char) - ord("A") + 10


class CheckName(StrEnum):
    """Which check digit a result is about."""

    DOCUMENT_NUMBER = "document_number"
    BIRTH_DATE = "birth_date"
    EXPIRY_DATE = "expiry_date"
    PERSONAL_NUMBER = "personal_number"
    COMPOSITE = "composite"


@dataclass(frozen=True)
class CheckResult:
    """One check digit and whether it matches the data it protects."""

    name: CheckName
    ok: bool


@dataclass(frozen=True)
class MrzResult:
    """The fields of an MRZ, its check digits, and every reason it is not valid."""

    format: MrzFormat | None
    document_code: str
    issuing_state: str
    document_number: str
    nationality: str
    birth_date: date | None
    expiry_date: date | None
    surname: str
    given_names: str
    optional_data: tuple[str, ...]
    checks: tuple[CheckResult, ...]
    errors: tuple[Finding, ...]

    @property
    def valid(self) -> bool:
        """True when no check failed."""
        return not self.errors

    def is_expired(self, on: date) -> bool:
        """True when `on` is after the expiry date, or the expiry date is unreadable (fail closed).

        A document is valid through its expiry date.
        """
        return self.expiry_date is None or self.expiry_date < on

    def to_dict(self, *, today: date) -> dict[str, object]:
        """JSON-ready form for the CLI and the API; `expired` is judged on `today`."""
        return {
            "valid": self.valid,
            "errors": [finding.code.value for finding in self.errors],
            "findings": [finding.to_dict() for finding in self.errors],
            "format": self.format.value if self.format else None,
            "document_code": self.document_code,
            "issuing_state": self.issuing_state,
            "document_number": self.document_number,
            "nationality": self.nationality,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "expiry_date": self.expiry_date.isoformat() if self.expiry_date else None,
            "expired": self.is_expired(today),
            "surname": self.surname,
            "given_names": self.given_names,
            "optional_data": list(self.optional_data),
            "checks": {check.name.value: check.ok for check in self.checks},
        }


def parse_mrz(lines: Sequence[str] | str, *, today: date, check_expiry: bool = False) -> MrzResult:
    """Read and verify an MRZ given as its lines (or one string with line breaks).

    `today` resolves two-digit years; with `check_expiry`, a past expiry date is an error.
    """
    rows = _rows(lines)
    layout, shape_errors = _shape(rows)
    if layout is None:
        return _unreadable(shape_errors)
    result = _read(layout, "".join(rows), today=today)
    if check_expiry and result.expiry_date is not None and result.expiry_date < today:
        message = (
            f"The document expired: its expiry date {result.expiry_date.isoformat()} "
            f"is before {today.isoformat()}."
        )
        expired = Finding(DocumentError.EXPIRED, DocumentField.EXPIRY_DATE, message)
        return replace(result, errors=(*result.errors, expired))
    return result


def _rows(lines: Sequence[str] | str) -> list[str]:
    """The lines without surrounding whitespace; a single string is split on line breaks."""
    if isinstance(lines, str):
        return [row.strip() for row in lines.splitlines() if row.strip()]
    return [row.strip() for row in lines]


def _shape(rows: list[str]) -> tuple[Layout | None, tuple[Finding, ...]]:
    """The layout the line count and lengths select, or findings saying why none fits."""
    if len(rows) not in {2, 3}:
        message = f"An MRZ has 2 lines (TD2, TD3) or 3 (TD1), not {len(rows)}."
        return None, (Finding(DocumentError.BAD_LINE_COUNT, DocumentField.LINES, message),)
    errors = [
        _bad_characters(n, row) for n, row in enumerate(rows, 1) if not _ALPHABET.fullmatch(row)
    ]
    layout = layout_for(rows)
    if layout is None:
        errors.insert(0, _bad_length(rows))
    return (layout if not errors else None), tuple(errors)


def _bad_characters(number: int, row: str) -> Finding:
    """BAD_CHARACTERS naming the first offending character of a line."""
    position, char = next((i, c) for i, c in enumerate(row, 1) if not _ALPHABET.fullmatch(c))
    message = (
        f"Line {number} has {char!r} at position {position}; an MRZ holds only A-Z, 0-9 and <."
    )
    return Finding(DocumentError.BAD_CHARACTERS, DocumentField.LINES, message)


def _bad_length(rows: list[str]) -> Finding:
    """BAD_LENGTH listing the line lengths found and those each format needs."""
    lengths = ", ".join(str(len(row)) for row in rows)
    expected = "3 lines of 30" if len(rows) == 3 else "2 lines of 36 (TD2) or 44 (TD3)"
    message = f"The lines have {lengths} characters; an MRZ of {len(rows)} lines has {expected}."
    return Finding(DocumentError.BAD_LENGTH, DocumentField.LINES, message)


def _unreadable(errors: tuple[Finding, ...]) -> MrzResult:
    """The result for input whose shape matches no MRZ format: no fields, only findings."""
    return MrzResult(
        format=None,
        document_code="",
        issuing_state="",
        document_number="",
        nationality="",
        birth_date=None,
        expiry_date=None,
        surname="",
        given_names="",
        optional_data=(),
        checks=(),
        errors=errors,
    )


def _read(layout: Layout, text: str, *, today: date) -> MrzResult:
    """Every field of a well-shaped MRZ, given as its lines joined into one string."""
    errors: list[Finding] = []
    code = _document_code(layout, text[layout.document_code], errors)
    state = _country(text[layout.issuing_state], DocumentField.ISSUING_STATE, errors)
    nationality = _country(text[layout.nationality], DocumentField.NATIONALITY, errors)
    number, optional, number_check = _document_number(layout, text, errors)
    expiry = (None if layout.expiry_date_check is None
              else _expiry_date(text[layout.expiry_date], today=today, errors=errors))
    latest = today if expiry is None else min(today, expiry)
    birth = _birth_date(text[layout.birth_date], today=latest, errors=errors)
    if layout.given_names is None:
        surname, given_names = _name(text[layout.name], errors)
    else:  # the given names in a field of their own (FRA_CNI)
        surname, _ = _name(text[layout.name], errors)
        given_names = " ".join(part for part in _name(text[layout.given_names], errors)
                               if part)
    checks = (
        CheckResult(CheckName.DOCUMENT_NUMBER, number_check),
        _field_check(CheckName.BIRTH_DATE, text, layout.birth_date, layout.birth_date_check),
        *(() if layout.expiry_date_check is None else (_field_check(
            CheckName.EXPIRY_DATE, text, layout.expiry_date, layout.expiry_date_check),)),
        *_personal_number_check(layout, text),
        *_composite_check(layout, text),
    )
    errors.extend(_check_findings(checks))
    return MrzResult(
        format=layout.format,
        document_code=code,
        issuing_state=state,
        document_number=number,
        nationality=nationality,
        birth_date=birth,
        expiry_date=expiry,
        surname=surname,
        given_names=given_names,
        optional_data=optional,
        checks=checks,
        errors=tuple(errors),
    )


def _document_code(layout: Layout, code: str, errors: list[Finding]) -> str:
    """The 2-character document code; its first letter must suit the format."""
    if code[0] not in layout.document_letters or not (code[1].isalpha() or code[1] == "<"):
        letters = " or ".join(layout.document_letters)
        message = f"A {layout.format.value} document code starts with {letters}, not {code}."
        errors.append(
            Finding(DocumentError.BAD_DOCUMENT_CODE, DocumentField.DOCUMENT_CODE, message)
        )
    return code.rstrip("<")


def _country(code: str, field: DocumentField, errors: list[Finding]) -> str:
    """A 3-character state code: letters, then fillers (as in D<<). Unknown codes are kept."""
    if not _COUNTRY.fullmatch(code):
        message = f"The {field.value.replace('_', ' ')} {code} is not a 9303 state code."
        errors.append(Finding(DocumentError.BAD_COUNTRY_CODE, field, message))
    return code.rstrip("<")


def _document_number(
    layout: Layout, text: str, errors: list[Finding]
) -> tuple[str, tuple[str, ...], bool]:
    """The document number, the optional data fields, and whether the number's check holds.

    A TD1 number longer than 9 characters (Part 5 §4.2.4; TD2 is read the same way) puts `<`
    in the check digit position and continues in the first optional data field: the rest of
    the number, its check digit (over the whole number, without the `<`), then a filler. The
    composite check digit still covers every character.
    """
    principal = text[layout.document_number]
    check = text[layout.document_number_check]
    optional = tuple(text[span] for span in layout.optional_data)
    if check == "<" and layout.can_overflow and "<" not in principal:
        return _long_document_number(principal, optional, errors)
    if not principal.rstrip("<"):
        message = "The document number is empty."
        errors.append(
            Finding(DocumentError.BAD_DOCUMENT_NUMBER, DocumentField.DOCUMENT_NUMBER, message)
        )
    ok = check.isdigit() and int(check) == check_digit(principal)
    return principal.rstrip("<"), tuple(field.rstrip("<") for field in optional), ok


def _long_document_number(
    principal: str, optional: tuple[str, ...], errors: list[Finding]
) -> tuple[str, tuple[str, ...], bool]:
    """Read a document number that overflows into the first optional data field."""
    segment, _, rest = optional[0].partition("<")
    others = tuple(field.rstrip("<") for field in optional[1:])
    if len(segment) < 2 or not segment[-1].isdigit():
        message = (
            "The document number check digit is a filler, but the optional data does not "
            "continue the number with its check digit."
        )
        errors.append(
            Finding(DocumentError.BAD_DOCUMENT_NUMBER, DocumentField.DOCUMENT_NUMBER, message)
        )
        return principal, (optional[0].rstrip("<"), *others), False
    number = principal + segment[:-1]
    ok = int(segment[-1]) == check_digit(number)
    return number, (rest.rstrip("<"), *others), ok


def _birth_date(text: str, *, today: date, errors: list[Finding]) -> date | None:
    """The birth date, resolved to the latest such date not after `today` (the caller
    passes the expiry date instead when that is earlier).

    Part 3 lets unknown parts of a birth date be fillers ("<<" for a day, month or year):
    that is not an error, but no date is returned.
    """
    parts = (text[0:2], text[2:4], text[4:6])
    if "<" in text and all(part == "<<" or part.isdigit() for part in parts):
        return None
    born = _calendar_date(text, DocumentField.BIRTH_DATE, errors)
    if born is None:
        return None
    for century in (today.year // 100 * 100, today.year // 100 * 100 - 100):
        candidate = _date_or_none(century + born.year % 100, born.month, born.day)
        if candidate is not None and candidate <= today:
            return candidate
    message = f"The birth date {text} (29 February) fits no leap year in the last 100 years."
    errors.append(Finding(DocumentError.BAD_DATE, DocumentField.BIRTH_DATE, message))
    return None


def _expiry_date(text: str, *, today: date, errors: list[Finding]) -> date | None:
    """The expiry date, its year taken in [today.year - 49, today.year + 50]."""
    parsed = _calendar_date(text, DocumentField.EXPIRY_DATE, errors)
    if parsed is None:
        return None
    first = today.year - _EXPIRY_YEARS_BACK
    year = first + (parsed.year % 100 - first) % 100
    expiry = _date_or_none(year, parsed.month, parsed.day)
    if expiry is None:
        message = f"The expiry date {text} is 29 February of {year}, not a leap year."
        errors.append(Finding(DocumentError.BAD_DATE, DocumentField.EXPIRY_DATE, message))
    return expiry


def _calendar_date(text: str, field: DocumentField, errors: list[Finding]) -> date | None:
    """YYMMDD as a date in 2000-2099 (a leap century), or a finding if it is no date."""
    parsed = (
        _date_or_none(2000 + int(text[0:2]), int(text[2:4]), int(text[4:6]))
        if text.isdigit()
        else None
    )
    if parsed is None:
        message = f"The {field.value.replace('_', ' ')} {text} is not a YYMMDD calendar date."
        errors.append(Finding(DocumentError.BAD_DATE, field, message))
    return parsed


def _date_or_none(year: int, month: int, day: int) -> date | None:
    """The date, or None when there is no such day."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _name(field: str, errors: list[Finding]) -> tuple[str, str]:
    """Surname and given names: primary `<<` secondary identifier, `<` between name parts."""
    if not field.strip("<") or any(char.isdigit() for char in field):
        message = "The name field is empty or holds digits."
        errors.append(Finding(DocumentError.BAD_NAME, DocumentField.NAME, message))
    primary, _, secondary = field.rstrip("<").partition("<<")
    return _words(primary), _words(secondary)


def _words(part: str) -> str:
    """Name parts separated by fillers, as words separated by spaces."""
    return " ".join(word for word in part.split("<") if word)


def _field_check(name: CheckName, text: str, span: slice, position: int) -> CheckResult:
    """Whether the digit at `position` is the check digit of the field at `span`."""
    check = text[position]
    return CheckResult(name, check.isdigit() and int(check) == check_digit(text[span]))


def _personal_number_check(layout: Layout, text: str) -> tuple[CheckResult, ...]:
    """TD3 only: the personal number's check digit, which may be `<` when the field is empty."""
    if layout.personal_number_check is None:
        return ()
    field, check = text[layout.optional_data[0]], text[layout.personal_number_check]
    # Part 4: when the personal number is all fillers its check digit may be < or 0.
    if not field.strip("<") and check in {"<", "0"}:
        return (CheckResult(CheckName.PERSONAL_NUMBER, True),)
    return (
        _field_check(
            CheckName.PERSONAL_NUMBER, text, layout.optional_data[0], layout.personal_number_check
        ),
    )


def _composite_check(layout: Layout, text: str) -> tuple[CheckResult, ...]:
    """The composite check digit over the spans the format's Part lists (visas: none)."""
    if layout.composite_check is None:
        return ()
    covered = "".join(text[span] for span in layout.composite)
    check = text[layout.composite_check]
    ok = check.isdigit() and int(check) == check_digit(covered)
    return (CheckResult(CheckName.COMPOSITE, ok),)


def _check_findings(checks: Sequence[CheckResult]) -> list[Finding]:
    """One finding per failed check digit."""
    fields = {
        CheckName.DOCUMENT_NUMBER: DocumentField.DOCUMENT_NUMBER,
        CheckName.BIRTH_DATE: DocumentField.BIRTH_DATE,
        CheckName.EXPIRY_DATE: DocumentField.EXPIRY_DATE,
        CheckName.PERSONAL_NUMBER: DocumentField.OPTIONAL_DATA,
        CheckName.COMPOSITE: DocumentField.COMPOSITE,
    }
    findings = []
    for check in checks:
        if check.ok:
            continue
        if check.name is CheckName.COMPOSITE:
            message = "The composite check digit does not match (a misread character?)."
            findings.append(
                Finding(DocumentError.BAD_COMPOSITE_CHECK_DIGIT, fields[check.name], message)
            )
        else:
            message = f"The {check.name.value.replace('_', ' ')} check digit does not match."
            findings.append(Finding(DocumentError.BAD_CHECK_DIGIT, fields[check.name], message))
    return findings
