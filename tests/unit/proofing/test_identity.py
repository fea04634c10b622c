"""The person key from the document: the issuing state is the document's, ISO 3166-1 checked
and canonical; a disagreeing typed country and an invalid number are refused."""

from __future__ import annotations

from datetime import date

import pytest

from simkyc.errors import DocumentCountryMismatch, InvalidDocumentNumber, UnknownCountry
from simkyc.proofing.identity import alpha3, keyed_document
from simkyc.rules.profiles import AcceptedDocument

TODAY = date(2026, 12, 4)
CN_NUMBER = "11010519491231002X"


@pytest.mark.parametrize(("typed", "canonical"), [
    ("CN", "CHN"), ("chn", "CHN"), (" fr ", "FRA"), ("D", "DEU"), ("GBR", "GBR")])
def test_country_codes_are_canonical_alpha3(typed: str, canonical: str) -> None:
    assert alpha3(typed) == canonical


@pytest.mark.parametrize("typed", ["XX", "C N", "ZZZ", "", "CHINA"])
def test_what_is_not_iso_3166_is_refused(typed: str) -> None:
    with pytest.raises(UnknownCountry):
        alpha3(typed)


@pytest.mark.parametrize("typed", [None, "CN", "CHN", "chn"])
def test_a_cn_resident_id_is_issued_by_chn_whatever_was_typed(typed: str | None) -> None:
    keyed = keyed_document(kind=AcceptedDocument.CN_RESIDENT_ID, number="110105-19491231-002x",
                           typed_country=typed, mrz=None, today=TODAY)
    assert (keyed.identity.country, keyed.identity.number) == ("CHN", CN_NUMBER)
    assert {d.country for d in keyed.legacy} >= {"CN"}  # the spelling older rows used


def test_a_typed_country_that_disagrees_is_refused() -> None:
    with pytest.raises(DocumentCountryMismatch, match="CHN"):
        keyed_document(kind=AcceptedDocument.CN_RESIDENT_ID, number=CN_NUMBER,
                       typed_country="USA", mrz=None, today=TODAY)


def test_an_invalid_number_is_refused() -> None:
    with pytest.raises(InvalidDocumentNumber):
        keyed_document(kind=AcceptedDocument.CN_RESIDENT_ID, number="110105194912310021",
                       typed_country=None, mrz=None, today=TODAY)
    with pytest.raises(InvalidDocumentNumber):
        keyed_document(kind=AcceptedDocument.PASSPORT, number="E1", typed_country="FRA",
                       mrz=None, today=TODAY)


def test_a_passport_takes_its_mrzs_issuing_state() -> None:
    mrz = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
           "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
    with pytest.raises(UnknownCountry):  # UTO is ICAO's example state, not ISO 3166-1
        keyed_document(kind=AcceptedDocument.PASSPORT, number="L898902C3",
                       typed_country=None, mrz=mrz, today=TODAY)
    french = [mrz[0].replace("UTO", "FRA"), mrz[1].replace("UTO", "FRA")]
    keyed = keyed_document(kind=AcceptedDocument.PASSPORT, number="L898902C3",
                           typed_country="FR", mrz=french, today=TODAY)
    assert keyed.identity.country == "FRA"
    with pytest.raises(DocumentCountryMismatch):
        keyed_document(kind=AcceptedDocument.PASSPORT, number="L898902C3",
                       typed_country="DEU", mrz=french, today=TODAY)


def test_a_passport_without_mrz_needs_a_typed_country() -> None:
    with pytest.raises(UnknownCountry):
        keyed_document(kind=AcceptedDocument.PASSPORT, number="E12345678",
                       typed_country=None, mrz=None, today=TODAY)


def test_a_passport_number_that_is_not_the_mrzs_is_refused() -> None:
    """With an MRZ the person is keyed on its number: another typed one (which only a later
    cross-check caught) would key a person nobody's document carries."""
    french = ["P<FRAERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
              "L898902C36FRA7408122F1204159ZE184226B<<<<<10"]
    with pytest.raises(InvalidDocumentNumber, match="MRZ"):
        keyed_document(kind=AcceptedDocument.PASSPORT, number="E12345678",
                       typed_country=None, mrz=french, today=TODAY)
    keyed = keyed_document(kind=AcceptedDocument.PASSPORT, number="l898-902c3",
                           typed_country=None, mrz=french, today=TODAY)
    assert (keyed.identity.country, keyed.identity.number) == ("FRA", "L898902C3")
