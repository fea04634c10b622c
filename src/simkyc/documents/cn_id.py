"""Chinese resident identity numbers (GB 11643-1999): region, birth date, MOD 11-2 check.

Layout of the 18 characters: 6-digit administrative region code (GB/T 2260), birth date
YYYYMMDD, a 3-digit sequence code, and an ISO 7064 MOD 11-2 check character. The
sequence code also encodes the holder's sex; it is deliberately never read here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from simkyc.documents.findings import DocumentError, DocumentField, Finding, InvalidDocument

# ISO 7064 MOD 11-2: weight of position i (1..17, left to right) is 2^(18-i) mod 11.
WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
# GB 11643-1999 §6.2: the check character for each remainder of the weighted sum mod 11.
_CHECK_CHARACTERS = "10X98765432"
_EARLIEST_BIRTH = date(1900, 1, 1)
_SHAPE_18 = re.compile(r"[0-9]{17}[0-9X]")
_SHAPE_15 = re.compile(r"[0-9]{15}")
_SHAPE_17 = re.compile(r"[0-9]{17}")


class Province(StrEnum):
    """Province-level divisions of GB/T 2260; the value is the 2-digit code."""

    BEIJING = "11"
    TIANJIN = "12"
    HEBEI = "13"
    SHANXI = "14"
    INNER_MONGOLIA = "15"
    LIAONING = "21"
    JILIN = "22"
    HEILONGJIANG = "23"
    SHANGHAI = "31"
    JIANGSU = "32"
    ZHEJIANG = "33"
    ANHUI = "34"
    FUJIAN = "35"
    JIANGXI = "36"
    SHANDONG = "37"
    HENAN = "41"
    HUBEI = "42"
    HUNAN = "43"
    GUANGDONG = "44"
    GUANGXI = "45"
    HAINAN = "46"
    CHONGQING = "50"
    SICHUAN = "51"
    GUIZHOU = "52"
    YUNNAN = "53"
    TIBET = "54"
    SHAANXI = "61"
    GANSU = "62"
    QINGHAI = "63"
    NINGXIA = "64"
    XINJIANG = "65"
    TAIWAN = "71"
    HONG_KONG = "81"
    MACAO = "82"

    @property
    def label(self) -> str:
        """The English name, e.g. "Inner Mongolia"."""
        return self.name.replace("_", " ").title()


# GB/T 2260 codes Taiwan, Hong Kong and Macao at province level only (710000, 810000, 820000).
_PROVINCE_LEVEL_ONLY = frozenset({Province.TAIWAN, Province.HONG_KONG, Province.MACAO})


@dataclass(frozen=True)
class CnIdResult:
    """What a resident ID number says, and every reason it is not valid."""

    number: str
    converted_from_15: bool
    region_code: str | None
    province: Province | None
    birth_date: date | None
    errors: tuple[Finding, ...]

    @property
    def valid(self) -> bool:
        """True when no check failed."""
        return not self.errors

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form for the CLI and the API."""
        return {
            "type": "cn-resident-id",
            "valid": self.valid,
            "errors": [finding.code.value for finding in self.errors],
            "findings": [finding.to_dict() for finding in self.errors],
            "number": self.number,
            "converted_from_15": self.converted_from_15,
            "region_code": self.region_code,
            "province": self.province.value if self.province else None,
            "province_name": self.province.label if self.province else None,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
        }


def check_character(first_17: str) -> str:
    """The MOD 11-2 check character ("0"-"9" or "X") of the first 17 digits."""
    if not _SHAPE_17.fullmatch(first_17):
        message = "The MOD 11-2 check character is computed over exactly 17 digits."
        raise InvalidDocument(Finding(DocumentError.BAD_CHARACTERS, DocumentField.NUMBER, message))
    total = sum(int(digit) * weight for digit, weight in zip(first_17, WEIGHTS, strict=True))
    return _CHECK_CHARACTERS[total % 11]


def convert_15_to_18(value: str) -> str:
    """A legacy 15-digit number (YYMMDD, 19YY) as 18: insert "19" and append the check character.

    Only the shape is checked here; validate the result for region and date.
    """
    text = value.strip()
    if not _SHAPE_15.fullmatch(text):
        message = "A legacy resident ID number has exactly 15 digits."
        code = DocumentError.BAD_LENGTH if len(text) != 15 else DocumentError.BAD_CHARACTERS
        raise InvalidDocument(Finding(code, DocumentField.NUMBER, message))
    first_17 = text[:6] + "19" + text[6:]
    return first_17 + check_character(first_17)


def validate_cn_resident_id(value: str, *, today: date) -> CnIdResult:
    """Check an 18-digit (or legacy 15-digit) number; `today` bounds the birth date."""
    text = value.strip().replace("x", "X")
    shape = _shape_problem(text)
    if shape is not None:
        return CnIdResult(text, False, None, None, None, (shape,))
    converted = len(text) == 15
    number = convert_15_to_18(text) if converted else text
    province, region_errors = _check_region(number[:6])
    birth_date, date_errors = _check_birth_date(number[6:14], today=today)
    check_errors = _check_check_character(number)
    return CnIdResult(
        number=number,
        converted_from_15=converted,
        region_code=number[:6],
        province=province,
        birth_date=birth_date,
        errors=(*region_errors, *date_errors, *check_errors),
    )


def _shape_problem(text: str) -> Finding | None:
    """A finding unless the text is 17 digits and a digit or X, or 15 digits (pre-1999)."""
    if _SHAPE_18.fullmatch(text) or _SHAPE_15.fullmatch(text):
        return None
    if not text:
        return Finding(DocumentError.BAD_LENGTH, DocumentField.NUMBER, "The number is empty.")
    if len(text) not in {15, 18}:
        message = (
            f"The number has {len(text)} characters; a resident ID number has 18 "
            "(15 for the pre-1999 format)."
        )
        return Finding(DocumentError.BAD_LENGTH, DocumentField.NUMBER, message)
    message = "A resident ID number is made of digits only, except that the last of 18 may be X."
    return Finding(DocumentError.BAD_CHARACTERS, DocumentField.NUMBER, message)


def _check_region(code: str) -> tuple[Province | None, tuple[Finding, ...]]:
    """The province of a 6-digit GB/T 2260 code, and findings if the code cannot exist."""
    try:
        province = Province(code[:2])
    except ValueError:
        message = f"{code[:2]} is not a province-level code of GB/T 2260."
        return None, (Finding(DocumentError.UNKNOWN_REGION, DocumentField.REGION_CODE, message),)
    prefecture, county = code[2:4], code[4:6]
    if province in _PROVINCE_LEVEL_ONLY and code[2:] != "0000":
        message = f"GB/T 2260 codes {province.label} only as {province.value}0000."
        return province, (Finding(DocumentError.BAD_REGION, DocumentField.REGION_CODE, message),)
    # In GB/T 2260, prefecture "00" stands for the province itself, so it has no counties.
    if prefecture == "00" and county != "00":
        message = f"{code} is not a GB/T 2260 code: prefecture 00 cannot have county {county}."
        return province, (Finding(DocumentError.BAD_REGION, DocumentField.REGION_CODE, message),)
    return province, ()


def _check_birth_date(text: str, *, today: date) -> tuple[date | None, tuple[Finding, ...]]:
    """The YYYYMMDD birth date if it is a real date from 1900 up to `today`."""
    try:
        born = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        message = f"The birth date {text[:4]}-{text[4:6]}-{text[6:8]} is not a calendar date."
        return None, (Finding(DocumentError.BAD_DATE, DocumentField.BIRTH_DATE, message),)
    if born < _EARLIEST_BIRTH:
        message = f"The birth date {born.isoformat()} is before 1900."
        return None, (Finding(DocumentError.BAD_DATE, DocumentField.BIRTH_DATE, message),)
    if born > today:
        message = f"The birth date {born.isoformat()} is in the future."
        return None, (Finding(DocumentError.FUTURE_BIRTH_DATE, DocumentField.BIRTH_DATE, message),)
    return born, ()


def _check_check_character(number: str) -> tuple[Finding, ...]:
    """A finding when the 18th character is not the MOD 11-2 check of the first 17."""
    if check_character(number[:17]) == number[17]:
        return ()
    message = "The check character does not match the other 17 digits (a mistyped digit?)."
    return (Finding(DocumentError.BAD_CHECK_DIGIT, DocumentField.CHECK_CHARACTER, message),)
