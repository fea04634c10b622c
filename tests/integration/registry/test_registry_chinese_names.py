"""A Chinese name is stored as typed (sealed, then opened to the same characters), and an ID
number ending in `x` is the same person as the one ending in `X` (typing a lower-case x must
not make a second person, which would dodge the line caps)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from simkyc.privacy.keyring import Keyring
from simkyc.privacy.pseudonyms import DocumentIdentity, pseudonym
from simkyc.records.persons import Applicant, find_or_enrol, open_details

NOW = datetime(2026, 12, 1, tzinfo=UTC)
NUMBER = "11010519491231002X"


def test_a_chinese_name_is_stored_as_typed(db: Session, keyring: Keyring) -> None:
    applicant = Applicant(DocumentIdentity("national_id", "CN", NUMBER), "张伟",
                          date(1949, 12, 31))
    person = find_or_enrol(db, keyring=keyring, applicant=applicant, now=NOW)
    assert "张伟".encode() not in person.name_ct  # sealed, not in clear
    assert open_details(keyring, person).name == "张伟"


def test_a_lower_case_x_is_the_same_person(db: Session, keyring: Keyring) -> None:
    upper = DocumentIdentity("national_id", "CN", NUMBER)
    lower = DocumentIdentity("national_id", "CN", NUMBER.lower())
    assert pseudonym(keyring, lower) == pseudonym(keyring, upper)
    first = find_or_enrol(db, keyring=keyring, now=NOW,
                          applicant=Applicant(upper, "张伟", date(1949, 12, 31)))
    again = find_or_enrol(db, keyring=keyring, now=NOW,
                          applicant=Applicant(lower, "张伟", date(1949, 12, 31)))
    assert again.id == first.id
