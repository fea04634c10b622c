"""The document checks of a proofing session, from the data the agent typed (and the MRZ,
when the document has one) and the jurisdiction's document policy: each check passed, failed
(with its first error code) or could not be made."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from simkyc.documents.cn_id import validate_cn_resident_id
from simkyc.documents.crosscheck import FieldCheck, FieldStatus
from simkyc.documents.findings import DocumentError
from simkyc.documents.mrz import parse_mrz
from simkyc.proofing.models import CheckKind, DocumentCheck
from simkyc.rules.document_policy import policy_checks
from simkyc.rules.profiles import AcceptedDocument as DocumentKind
from simkyc.rules.profiles import JurisdictionProfile

TEXT_CHECK_PREFIX = "card_text_"

__all__ = ["DocumentKind", "document_checks", "document_type"]


def document_checks(
    *, kind: DocumentKind, number: str, birth_date: date, today: date,
    profile: JurisdictionProfile,
    expiry: date | None = None, mrz: Sequence[str] | None = None,
) -> list[DocumentCheck]:
    """Checksums and consistency of the typed data (and MRZ) with each other, then the
    policy (accepted type, expiry - typed, else the MRZ's - and minimum age)."""
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
        # Expiry is judged below, by the policy and its grace, not by the MRZ parser.
        parsed = parse_mrz(list(mrz), today=today)
        checks.append(DocumentCheck("mrz", parsed.valid,
                                    parsed.errors[0].code.value if parsed.errors else None))
        # A format with no expiry in its MRZ (France's old card, FRA_CNI) cannot contradict
        # a typed one; an expiry field that is there but unreadable fails the "mrz" check.
        same = parsed.document_number == number.strip().upper() and (
            parsed.birth_date == birth_date) and (
            expiry is None or parsed.expiry_date is None or expiry == parsed.expiry_date)
        checks.append(DocumentCheck("mrz_matches_typed_data", same,
                                    None if same else "MRZ_MISMATCH"))
        expiry = expiry or parsed.expiry_date
    elif kind is DocumentKind.PASSPORT:
        checks.append(DocumentCheck("mrz", None, "MRZ_NOT_GIVEN"))
    checks += [DocumentCheck(c.name, c.passed, c.code and c.code.value, message=c.message)
               for c in policy_checks(profile, kind=kind, birth_date=birth_date, expiry=expiry,
                                      today=today)]
    return checks


def document_type(kind: DocumentKind) -> str:
    """The registry's document type for the person's pseudonym."""
    return "national_id" if kind is DocumentKind.CN_RESIDENT_ID else "passport"


def text_checks(fields: Sequence[FieldCheck], *,
                consistent: bool | None = None) -> list[DocumentCheck]:
    """The card's text against the typed data, one cross-check per typed field: a match
    passes, a mismatch fails (to review), an unreadable field is recorded, not judged; and,
    for a PRC card, whether its printed details agree with its own number (`consistent`:
    False fails, to review; the details themselves are never kept)."""
    codes = {FieldStatus.MATCH: None, FieldStatus.MISMATCH: "OCR_MISMATCH",
             FieldStatus.UNREADABLE: "OCR_UNREADABLE"}
    passed = {FieldStatus.MATCH: True, FieldStatus.MISMATCH: False,
              FieldStatus.UNREADABLE: None}
    checks = [DocumentCheck(f"{TEXT_CHECK_PREFIX}{check.field.value}", passed[check.status],
                            codes[check.status], kind=CheckKind.CROSS_CHECK)
              for check in fields]
    if consistent is not None:
        checks.append(DocumentCheck(
            f"{TEXT_CHECK_PREFIX}consistent", consistent,
            None if consistent else DocumentError.INCONSISTENT_DOCUMENT.value,
            kind=CheckKind.CROSS_CHECK))
    return checks
