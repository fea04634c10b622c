"""The document checks of a proofing session, from the data the agent typed (and the MRZ,
when the document has one): each check passed, failed (with its first error code) or could
not be made."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import StrEnum

from simkyc.documents.cn_id import validate_cn_resident_id
from simkyc.documents.crosscheck import FieldCheck, FieldStatus
from simkyc.documents.mrz import parse_mrz
from simkyc.proofing.models import CheckKind, DocumentCheck

TEXT_CHECK_PREFIX = "card_text_"


class DocumentKind(StrEnum):
    """The identity documents an agent can proof against."""

    CN_RESIDENT_ID = "cn_resident_id"
    PASSPORT = "passport"


def document_checks(
    *, kind: DocumentKind, number: str, birth_date: date, today: date,
    mrz: Sequence[str] | None = None,
) -> list[DocumentCheck]:
    """Checksums and consistency of the typed data (and MRZ) with each other."""
    checks: list[DocumentCheck] = []
    if kind is DocumentKind.CN_RESIDENT_ID:
        result = validate_cn_resident_id(number, today=today)
        checks.append(DocumentCheck("cn_id_number", result.valid,
                                    result.errors[0].code.value if result.errors else None))
        if result.birth_date is not None:
            same = result.birth_date == birth_date
            checks.append(DocumentCheck("cn_id_birth_date", same,
                                        None if same else "BIRTH_DATE_MISMATCH"))
    if mrz:
        parsed = parse_mrz(list(mrz), today=today, check_expiry=True)
        checks.append(DocumentCheck("mrz", parsed.valid,
                                    parsed.errors[0].code.value if parsed.errors else None))
        same = parsed.document_number == number.strip().upper() and (
            parsed.birth_date == birth_date)
        checks.append(DocumentCheck("mrz_matches_typed_data", same,
                                    None if same else "MRZ_MISMATCH"))
    elif kind is DocumentKind.PASSPORT:
        checks.append(DocumentCheck("mrz", None, "MRZ_NOT_GIVEN"))
    return checks


def document_type(kind: DocumentKind) -> str:
    """The registry's document type for the person's pseudonym."""
    return "national_id" if kind is DocumentKind.CN_RESIDENT_ID else "passport"


def text_checks(fields: Sequence[FieldCheck]) -> list[DocumentCheck]:
    """The card's text against the typed data, one cross-check per typed field: a match
    passes, a mismatch fails (to review), an unreadable field is recorded, not judged."""
    codes = {FieldStatus.MATCH: None, FieldStatus.MISMATCH: "OCR_MISMATCH",
             FieldStatus.UNREADABLE: "OCR_UNREADABLE"}
    passed = {FieldStatus.MATCH: True, FieldStatus.MISMATCH: False,
              FieldStatus.UNREADABLE: None}
    return [DocumentCheck(f"{TEXT_CHECK_PREFIX}{check.field.value}", passed[check.status],
                          codes[check.status], CheckKind.CROSS_CHECK) for check in fields]
