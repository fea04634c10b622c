"""What document validation reports: stable finding codes, the field concerned, a sentence."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from simkyc.errors import SimkycError


class DocumentError(StrEnum):
    """Why a document number or MRZ is not valid; the values are stable API."""

    BAD_LENGTH = "BAD_LENGTH"
    BAD_LINE_COUNT = "BAD_LINE_COUNT"
    BAD_CHARACTERS = "BAD_CHARACTERS"
    BAD_CHECK_DIGIT = "BAD_CHECK_DIGIT"
    BAD_COMPOSITE_CHECK_DIGIT = "BAD_COMPOSITE_CHECK_DIGIT"
    BAD_DATE = "BAD_DATE"
    FUTURE_BIRTH_DATE = "FUTURE_BIRTH_DATE"
    UNKNOWN_REGION = "UNKNOWN_REGION"
    BAD_REGION = "BAD_REGION"
    BAD_DOCUMENT_CODE = "BAD_DOCUMENT_CODE"
    BAD_DOCUMENT_NUMBER = "BAD_DOCUMENT_NUMBER"
    BAD_COUNTRY_CODE = "BAD_COUNTRY_CODE"
    BAD_NAME = "BAD_NAME"
    EXPIRED = "EXPIRED"
    # --- mrz ---
    INCONSISTENT_DOCUMENT = "INCONSISTENT_DOCUMENT"  # the card's fields disagree


class DocumentField(StrEnum):
    """The part of a document a finding or a check digit is about."""

    NUMBER = "number"
    REGION_CODE = "region_code"
    CHECK_CHARACTER = "check_character"
    LINES = "lines"
    DOCUMENT_CODE = "document_code"
    ISSUING_STATE = "issuing_state"
    DOCUMENT_NUMBER = "document_number"
    NATIONALITY = "nationality"
    BIRTH_DATE = "birth_date"
    EXPIRY_DATE = "expiry_date"
    NAME = "name"
    OPTIONAL_DATA = "optional_data"
    COMPOSITE = "composite"


@dataclass(frozen=True)
class Finding:
    """One reason a document is not valid."""

    code: DocumentError
    field: DocumentField
    message: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form for the CLI and the API."""
        return {"code": self.code.value, "field": self.field.value, "message": self.message}


class InvalidDocument(SimkycError):
    """A document-level function was given text it cannot work on (e.g. a malformed number)."""

    code = "INVALID_DOCUMENT"
    status = 422

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding

    def details(self) -> dict[str, object]:
        return {"findings": [self.finding.to_dict()]}


class UnsupportedDocumentType(SimkycError):
    """Asked to check a kind of document number simkyc does not know."""

    code = "UNSUPPORTED_DOCUMENT_TYPE"
    status = 400
