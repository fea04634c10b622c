"""Persons: found by pseudonym, enrolled with sealed name and birth date, locked per person.

The person row is the lock every line operation of that person takes first
(`SELECT ... FOR UPDATE` on PostgreSQL; SQLite transactions are already serial).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from simkyc.db.base import new_id
from simkyc.errors import PersonRecordsSplit, RecordNotFound
from simkyc.privacy.crypto import place, seal, unseal
from simkyc.privacy.keyring import Keyring
from simkyc.privacy.pseudonyms import DocumentIdentity, pseudonym, pseudonym_candidates
from simkyc.records.models import Person


@dataclass(frozen=True)
class Applicant:
    """Who a proofing session is about, as read from their document (never logged)."""

    document: DocumentIdentity
    name: str = field(repr=False)
    birth_date: date = field(repr=False)
    # Spellings of the same document that earlier versions keyed persons under (the typed
    # country); found and re-keyed to `document` on lookup (proofing.identity).
    legacy: tuple[DocumentIdentity, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class PersonDetails:
    """A person's data in clear, for the few callers entitled to it (audited)."""

    id: str
    name: str = field(repr=False)
    birth_date: date = field(repr=False)
    has_template: bool


def find_person(session: Session, *, keyring: Keyring, document: DocumentIdentity,
                legacy: Sequence[DocumentIdentity] = ()) -> Person | None:
    """The person with this document, under any pseudonym key or legacy spelling (re-keyed
    to the active key and the canonical spelling); PERSON_RECORDS_SPLIT when several rows
    are the same document (an administrator merges them first)."""
    candidates = pseudonym_candidates(keyring, document)
    wanted = {*candidates.values(), *(p for old in legacy
                                       for p in pseudonym_candidates(keyring, old).values())}
    found = session.execute(select(Person).where(Person.pseudonym.in_(sorted(wanted)))
                            ).scalars().all()
    if len(found) > 1:
        raise PersonRecordsSplit(
            "This document matches several person records made before the issuing country "
            "was taken from the document; an administrator must merge them (simkyc admin "
            "find-split-persons) before this person can be proofed.")
    person = found[0] if found else None
    if person is not None and person.pseudonym != candidates[keyring.pseudonym.active]:
        person.pseudonym = candidates[keyring.pseudonym.active]
        person.pseudonym_key_id = keyring.pseudonym.active
        person.keyed_from_document = True
        session.flush()
    return person


def find_or_enrol(session: Session, *, keyring: Keyring, applicant: Applicant, now: datetime
                  ) -> Person:
    """The applicant's person row, created if new (flushed). Two sessions enrolling the same
    person at once both end up with the one row (insert ... on conflict do nothing)."""
    person = find_person(session, keyring=keyring, document=applicant.document,
                         legacy=applicant.legacy)
    if person is not None:
        return person
    person_id = new_id()
    values = {
        "id": person_id, "pseudonym": pseudonym(keyring, applicant.document),
        "pseudonym_key_id": keyring.pseudonym.active, "created_at": now, "updated_at": now,
        "keyed_from_document": True,
        "name_ct": seal(keyring, applicant.name.encode(), where=_where("name_ct", person_id)),
        "birth_date_ct": seal(keyring, applicant.birth_date.isoformat().encode(),
                              where=_where("birth_date_ct", person_id)),
    }
    session.execute(_insert_ignoring_duplicate(session, values))
    found = find_person(session, keyring=keyring, document=applicant.document)
    assert found is not None
    return found


def lock_person(session: Session, person_id: str) -> Person:
    """The person row, locked until the transaction ends (serialises their line operations)."""
    stmt = select(Person).where(Person.id == person_id).with_for_update()
    person = session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()
    if person is None:
        raise RecordNotFound("person", person_id)
    return person


def open_details(keyring: Keyring, person: Person) -> PersonDetails:
    """Decrypt a person's name and birth date (the caller audits the access)."""
    name = unseal(keyring, person.name_ct, where=_where("name_ct", person.id)).decode()
    born = unseal(keyring, person.birth_date_ct, where=_where("birth_date_ct", person.id))
    return PersonDetails(id=person.id, name=name, birth_date=date.fromisoformat(born.decode()),
                         has_template=person.template_ct is not None)


def _where(column: str, person_id: str) -> str:
    return place("persons", column, person_id)


def _insert_ignoring_duplicate(session: Session, values: dict[str, object]) -> Insert:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(Person).values(values).on_conflict_do_nothing(
            index_elements=["pseudonym"])
    return sqlite.insert(Person).values(values).on_conflict_do_nothing(
        index_elements=["pseudonym"])
