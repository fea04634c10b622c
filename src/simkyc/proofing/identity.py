"""The person key from the validated document, never from what the caller typed.

A person's pseudonym is keyed on (document type, issuing state, number). The issuing state
was typed freely and never checked, so `CN`, `CHN`, `C N` or `XX` with one resident-ID number
made four persons, each with a fresh line cap. Now the document decides: a CN resident ID is
issued by CHN; a passport's MRZ names its issuing state (ICAO 9303 Part 3 codes, which are
ISO 3166-1 alpha-3 but for Germany's `D`). A typed country must be an ISO 3166-1 code and
agree with it; the number must pass its own validation (with an MRZ: be the MRZ's, whose
check digit holds) before any person row is made.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pycountry

from simkyc.documents.cn_id import validate_cn_resident_id
from simkyc.documents.mrz import CheckName, parse_mrz
from simkyc.errors import DocumentCountryMismatch, InvalidDocumentNumber, UnknownCountry
from simkyc.privacy.pseudonyms import DocumentIdentity
from simkyc.proofing.documents import document_type
from simkyc.rules.profiles import AcceptedDocument as DocumentKind

CN_ISSUER = "CHN"
# ICAO 9303 Part 3: codes an MRZ may carry that ISO 3166-1 alpha-3 does not (Germany's "D").
_ICAO_ALIASES = {"D": "DEU"}
# A passport number without an MRZ: letters and digits (separators ignored), as ICAO 9303
# numbers are at most 9 characters and national ones a few more.
_PASSPORT_NUMBER = re.compile(r"^[A-Z0-9]{5,20}$")
_SEPARATORS = re.compile(r"[\s\-./<]")


@dataclass(frozen=True)
class KeyedDocument:
    """The canonical identity to key the person on, and the spellings earlier versions keyed
    the same document under (found and re-keyed on lookup)."""

    identity: DocumentIdentity
    legacy: tuple[DocumentIdentity, ...]


def alpha3(code: str) -> str:
    """The ISO 3166-1 alpha-3 code for an alpha-2 or alpha-3 code (any case); else
    UNKNOWN_COUNTRY."""
    text = code.strip().upper()
    text = _ICAO_ALIASES.get(text, text)
    found = (pycountry.countries.get(alpha_2=text) if len(text) == 2 else
             pycountry.countries.get(alpha_3=text) if len(text) == 3 else None)
    if found is None:
        raise UnknownCountry(f"{code!r} is not an ISO 3166-1 country code; type the issuing "
                             "country as on the document (e.g. CHN or CN), or leave it out.")
    return str(found.alpha_3)


def keyed_document(*, kind: DocumentKind, number: str, typed_country: str | None,
                   mrz: Sequence[str] | None, today: date) -> KeyedDocument:
    """The document identity a person is keyed on, derived from the document and validated;
    refused (before any person row) when the number is invalid or the typed country
    disagrees with the document."""
    issuer, canonical = _issuer_and_number(kind=kind, number=number, mrz=mrz, today=today)
    typed = alpha3(typed_country) if typed_country is not None else None
    if issuer is not None and typed is not None and typed != issuer:
        raise DocumentCountryMismatch(
            f"The country typed ({typed}) is not the document's issuing state ({issuer}); "
            "type the country the document was issued by, or leave it out.")
    country = issuer or typed
    if country is None:
        raise UnknownCountry("A passport without its MRZ needs the issuing country: type it "
                             "(e.g. FRA), or give the MRZ lines.")
    doc_type = document_type(kind)
    identity = DocumentIdentity(doc_type, country, canonical)
    spellings = {typed_country.strip()} if typed_country is not None else set()
    spellings |= {country, _alpha2(country)}
    legacy = tuple(DocumentIdentity(doc_type, c, n) for c in sorted(spellings) if c
                   for n in sorted({canonical, number}) if (c, n) != (country, canonical))
    return KeyedDocument(identity, legacy)


def _issuer_and_number(*, kind: DocumentKind, number: str, mrz: Sequence[str] | None,
                       today: date) -> tuple[str | None, str]:
    clean = _SEPARATORS.sub("", number).upper()
    if kind is DocumentKind.CN_RESIDENT_ID:
        result = validate_cn_resident_id(clean, today=today)
        if not result.valid:
            raise InvalidDocumentNumber(
                f"The resident ID number is not valid: {result.errors[0].message} Check it "
                "against the card.")
        return CN_ISSUER, result.number
    if mrz:
        parsed = parse_mrz(list(mrz), today=today)
        number_ok = any(c.name is CheckName.DOCUMENT_NUMBER and c.ok for c in parsed.checks)
        if not number_ok or not parsed.issuing_state:
            raise InvalidDocumentNumber("The MRZ's document number or issuing state does not "
                                        "pass its check digit; re-read the MRZ lines.")
        if parsed.document_number != clean:  # the key is the document's number, not a typed one
            raise InvalidDocumentNumber("The passport number typed is not the one in the MRZ; "
                                        "check it against the document.")
        return alpha3(parsed.issuing_state), clean
    if not _PASSPORT_NUMBER.match(clean):
        raise InvalidDocumentNumber("A passport number is 5 to 20 letters and digits; check "
                                    "it against the document.")
    return None, clean


def _alpha2(alpha_3: str) -> str:
    found = pycountry.countries.get(alpha_3=alpha_3)
    return str(found.alpha_2) if found is not None else ""
