"""The card's text against what the agent typed: each field a match, a mismatch or unreadable.

A field matches when any reading of it equals the typed value after normalisation (case,
spaces, punctuation, diacritics and ICAO transliteration, the order of name parts, the
card's date format). It is a mismatch only when a *sure* reading disagrees: one an MRZ or
resident ID check digit verified, or one OCR read with confidence >= `sure_score` that
differs by more than OCR's look-alikes (4/A, 0/O, 8/B, ...; confidence does not rule
those out). Anything else is unreadable. Typed data is never changed; read values go back
to the agent, never into logs.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from simkyc.documents.card_text import (
    CardText,
    Field,
    compact,
    is_cjk,
    resident_number,
)
from simkyc.documents.cn_card import CnCardText, CnField
from simkyc.documents.cn_id import validate_cn_resident_id
from simkyc.documents.mrz import CheckName
from simkyc.documents.mrz_correct import ALTERNATIVES

# Doc 9303 Part 3, Table of transliterations: the multi-letter ones (the rest drop marks).
_TRANSLITERATIONS = str.maketrans({"Ä": "AE", "Ö": "OE", "Ü": "UE", "Å": "AA", "Æ": "AE",
                                   "Ø": "OE", "ß": "SS", "Þ": "TH", "Œ": "OE", "Ĳ": "IJ"})
CN_SOURCE = "cn_card"  # a reading of the PRC card's own labelled fields
MAX_NAME_PARTS = 6  # orders of up to 6 typed name parts are tried (720)


class TypedField(StrEnum):
    """The fields of the typed data that are checked against the card."""

    DOCUMENT_NUMBER = "document_number"
    NAME = "name"
    BIRTH_DATE = "birth_date"
    EXPIRY_DATE = "expiry_date"


class FieldStatus(StrEnum):
    """The outcome of one field's comparison."""

    MATCH = "match"
    MISMATCH = "mismatch"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class Typed:
    """What the agent typed; None for a field not typed (not checked)."""

    number: str | None = None
    name: str | None = None
    birth_date: date | None = None
    expiry_date: date | None = None
    # The agent selected a PRC resident ID card: read it by its own labels too (`cn_card`).
    resident_id: bool = False


@dataclass(frozen=True)
class Reading:
    """One reading of a field: its value, where on the card, and whether it is sure."""

    value: str | date
    source: str  # "mrz", "number_band", "visual"
    sure: bool


@dataclass(frozen=True)
class FieldCheck:
    """One typed field compared with the card."""

    field: TypedField
    status: FieldStatus
    read: str | None  # what the card says (for the agent), None when unreadable
    source: str | None

    def to_dict(self) -> dict[str, str | None]:
        return {"field": self.field.value, "status": self.status.value, "read": self.read,
                "source": self.source}


def cross_check(text: CardText, typed: Typed, *, sure_score: float,
                cn: CnCardText | None = None) -> tuple[FieldCheck, ...]:
    """Each typed field against every reading of it on the card (and, for a PRC resident ID
    card read by its own labels, `cn`)."""
    found = readings(text, sure_score=sure_score, cn=cn)
    wanted: list[tuple[TypedField, str | date | None]] = [
        (TypedField.DOCUMENT_NUMBER, typed.number), (TypedField.NAME, typed.name),
        (TypedField.BIRTH_DATE, typed.birth_date), (TypedField.EXPIRY_DATE, typed.expiry_date),
    ]
    return tuple(_compare(field, value, found[field]) for field, value in wanted
                 if value is not None)


def readings(text: CardText, *, sure_score: float,
             cn: CnCardText | None = None) -> dict[TypedField, list[Reading]]:
    """Every reading of each field, the surest sources first."""
    found: dict[TypedField, list[Reading]] = {field: [] for field in TypedField}
    _mrz_readings(text, found)
    if cn is not None:
        _cn_readings(cn, found)
    if text.band_number is not None:
        band = validate_cn_resident_id(text.band_number, today=date.max)
        found[TypedField.DOCUMENT_NUMBER].append(Reading(text.band_number, "number_band", True))
        if band.birth_date is not None:
            found[TypedField.BIRTH_DATE].append(Reading(band.birth_date, "number_band", True))
    _visual_readings(text, found, sure_score)
    return found


def _mrz_readings(text: CardText, found: dict[TypedField, list[Reading]]) -> None:
    """The MRZ's fields. Each field whose own check digit holds is read; it is sure only when
    the whole MRZ verified. No check digit covers the name: it is never sure."""
    if text.mrz is None or text.mrz.result.format is None:
        return
    mrz, whole = text.mrz.result, text.mrz.valid
    held = {check.name for check in mrz.checks if check.ok}
    if CheckName.DOCUMENT_NUMBER in held and mrz.document_number:
        found[TypedField.DOCUMENT_NUMBER].append(Reading(mrz.document_number, "mrz", whole))
    if CheckName.BIRTH_DATE in held and mrz.birth_date is not None:
        found[TypedField.BIRTH_DATE].append(Reading(mrz.birth_date, "mrz", whole))
    if CheckName.EXPIRY_DATE in held and mrz.expiry_date is not None:
        found[TypedField.EXPIRY_DATE].append(Reading(mrz.expiry_date, "mrz", whole))
    if mrz.surname:
        found[TypedField.NAME].append(Reading(f"{mrz.surname} {mrz.given_names}", "mrz", False))


def _cn_readings(cn: CnCardText, found: dict[TypedField, list[Reading]]) -> None:
    """A PRC card's labelled fields: its number (and the birth date it encodes) sure when
    its check character holds; the printed name, birth date and validity not (OCR keeps no
    confidence through `cn_card`). 性别 and 民族 are not among them (`cn_card`)."""
    number = cn.number
    if number is not None:
        found[TypedField.DOCUMENT_NUMBER].append(Reading(number, CN_SOURCE, True))
        encoded = validate_cn_resident_id(number, today=date.max).birth_date
        if encoded is not None:
            found[TypedField.BIRTH_DATE].append(Reading(encoded, CN_SOURCE, True))
    if cn.birth_date is not None:
        found[TypedField.BIRTH_DATE].append(Reading(cn.birth_date, CN_SOURCE, False))
    if CnField.NAME in cn.values:
        found[TypedField.NAME].append(Reading(cn.values[CnField.NAME], CN_SOURCE, False))
    until = cn.validity[1]
    if until is not None:
        found[TypedField.EXPIRY_DATE].append(Reading(until, CN_SOURCE, False))


def _visual_readings(
    text: CardText, found: dict[TypedField, list[Reading]], sure_score: float
) -> None:
    """The printed fields; sure when OCR was confident (a resident number: when valid)."""
    values, scores = text.values, text.scores

    def sure(*fields: Field) -> bool:
        return all(scores.get(field, 0.0) >= sure_score for field in fields)

    if text.number is not None:
        resident = resident_number(text.number)
        found[TypedField.DOCUMENT_NUMBER].append(
            Reading(resident or text.number, "visual", resident is not None or sure(Field.NUMBER)))
    if text.birth_date is not None:
        found[TypedField.BIRTH_DATE].append(
            Reading(text.birth_date, "visual", sure(Field.BIRTH_DATE)))
    if text.expiry_date is not None:
        found[TypedField.EXPIRY_DATE].append(
            Reading(text.expiry_date, "visual", sure(Field.VALIDITY)))
    for field in (Field.NAME, Field.NAME_LATIN):
        if field in values:
            found[TypedField.NAME].append(Reading(values[field], "visual", sure(field)))
    if Field.SURNAME in values or Field.GIVEN_NAMES in values:
        whole = f"{values.get(Field.SURNAME, '')} {values.get(Field.GIVEN_NAMES, '')}".strip()
        found[TypedField.NAME].append(
            Reading(whole, "visual", sure(Field.SURNAME, Field.GIVEN_NAMES)))


def _compare(field: TypedField, typed: str | date, found: list[Reading]) -> FieldCheck:
    """Match if any reading agrees; mismatch if a sure one does not; else unreadable.

    A name is compared with the readings in its own script only (Chinese with Chinese).
    """
    if isinstance(typed, str) and field is TypedField.NAME:
        found = [r for r in found if isinstance(r.value, str)
                 and is_cjk(r.value) == is_cjk(typed)]
    for reading in found:
        if _same(field, typed, reading.value):
            return FieldCheck(field, FieldStatus.MATCH, _shown(reading.value), reading.source)
    sure = next((reading for reading in found if reading.sure
                 and (reading.source != "visual" or not _look_alike(typed, reading.value))),
                None)
    if sure is not None:
        return FieldCheck(field, FieldStatus.MISMATCH, _shown(sure.value), sure.source)
    return FieldCheck(field, FieldStatus.UNREADABLE, None, None)


def _same(field: TypedField, typed: str | date, read: str | date) -> bool:
    if isinstance(typed, date) or isinstance(read, date):
        return typed == read
    if field is TypedField.NAME:
        return same_name(typed, read)
    return compact(typed) == compact(read)


def _look_alike(typed: str | date, read: str | date) -> bool:
    """Typed and read text that differ only by characters OCR confuses."""
    if not isinstance(typed, str) or not isinstance(read, str):
        return False
    a, b = compact(typed), compact(read)
    return bool(a) and len(a) == len(b) and all(x == y or y in ALTERNATIVES.get(x, ()) or
                                    x in ALTERNATIVES.get(y, ()) for x, y in zip(a, b, strict=True))


def _shown(value: str | date) -> str:
    return value.isoformat() if isinstance(value, date) else value


def same_name(typed: str, read: str) -> bool:
    """The same name, whatever the case, spacing, accents or order of its parts.

    OCR often drops the space between name parts ("WANGCHAO"), so the parts are compared
    joined, in every order of the typed parts; a Chinese name is compared character by
    character.
    """
    read_forms = name_forms(read)
    parts = [part for part in re.split(r"[\s,<]+", typed.strip()) if part]
    if not parts or not read_forms:
        return False
    if len(parts) > MAX_NAME_PARTS:
        parts = [*parts[: MAX_NAME_PARTS - 1], "".join(parts[MAX_NAME_PARTS - 1 :])]
    orders = itertools.permutations(parts)
    return any(name_forms(" ".join(order)) & read_forms for order in orders)


def name_forms(name: str) -> set[str]:
    """A name reduced to its letters (upper case), with marks dropped and ICAO-transliterated."""
    text = unicodedata.normalize("NFKC", name).upper()
    plain, transliterated = _strip_marks(text), _strip_marks(text.translate(_TRANSLITERATIONS))
    forms = {_letters(plain), _letters(transliterated)}
    return {form for form in forms if form}


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _letters(text: str) -> str:
    """Letters only (any script: Chinese names keep their characters)."""
    return "".join(char for char in text if char.isalpha())


@dataclass(frozen=True)
class TextCheck:
    """What the card says and how each typed field compares with it."""

    text: CardText
    fields: tuple[FieldCheck, ...]
    cn: CnCardText | None = None  # the PRC card read by its labels (None: not such a card)

    @property
    def consistent(self) -> bool | None:
        """Whether the card's printed details agree with its own number (a PRC card's 性别
        against the number's sex digit; None: not checked). The values are never kept."""
        return None if self.cn is None else self.cn.sex_consistent

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: the fields read (for the agent), the MRZ reading, each field's status;
        for a PRC card its labelled fields and whether they agree with its number."""
        text, mrz = self.text, self.text.mrz
        cn = None if self.cn is None else {
            "fields_read": {field.value: value for field, value in self.cn.values.items()},
            "consistent": self.cn.sex_consistent,
            "errors": [finding.code.value for finding in self.cn.findings],
        }
        return {
            "cn_card": cn,
            "fields_read": {
                **{field.value: value for field, value in text.values.items()},
                "birth_date": text.birth_date.isoformat() if text.birth_date else None,
                "expiry_date": text.expiry_date.isoformat() if text.expiry_date else None,
                "number_band": text.band_number,
            },
            "mrz": None if mrz is None else {
                "lines": list(mrz.lines), "status": mrz.status.value, "valid": mrz.valid,
                "corrections": mrz.corrections,
                "errors": [finding.code.value for finding in mrz.result.errors],
            },
            "fields": [check.to_dict() for check in self.fields],
        }
