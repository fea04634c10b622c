"""Persons split by the typed-country bug: the issuing country was part of the pseudonym and
typed freely, so one document could be keyed under `CN`, `CHN`, `C N`, `XX`... each a person
with its own line cap. Two ways to find them:

- by document (exact): every 1-3 character spelling of the country (letters, optionally
  spaced) with the number, under every pseudonym key; more than one row is a split;
- by scan (candidates for a person to check): rows keyed before 0003_bind that share a name
  and birth date with another row.

Reads of persons' data are audited (maintenance): by document, the rows of a split; by
scan, every row, as each one's name and birth date is opened. Merging is left to an
administrator.
"""

from __future__ import annotations

import itertools
import string
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from simkyc.auth.actors import Actor
from simkyc.privacy import audit
from simkyc.privacy.audit import AccessPurpose, AuditAction, Event
from simkyc.privacy.keyring import Keyring
from simkyc.privacy.pseudonyms import DocumentIdentity, pseudonym_candidates
from simkyc.records.models import Line, LineStatus, Person
from simkyc.records.persons import open_details
from simkyc.records.signin import name_key

_CHUNK = 2000


@dataclass(frozen=True)
class SplitMember:
    """One person row of a (possible) split: no names, only what an administrator needs."""

    person_id: str
    created_at: datetime
    keyed_from_document: bool
    live_lines: int


@dataclass(frozen=True)
class SplitGroup:
    """Rows that are (exact) or may be (scan) one person."""

    exact: bool
    members: tuple[SplitMember, ...]


def by_document(session: Session, *, keyring: Keyring, actor: Actor, doc_type: str,
                number: str, now: datetime) -> SplitGroup | None:
    """The rows carrying this document under any country spelling; None unless several."""
    wanted = [p for country in _spellings()
              for p in pseudonym_candidates(keyring, DocumentIdentity(doc_type, country,
                                                                      number)).values()]
    rows: list[Person] = []
    for start in range(0, len(wanted), _CHUNK):
        rows += session.execute(select(Person).where(
            Person.pseudonym.in_(wanted[start:start + _CHUNK]))).scalars().all()
    if len(rows) < 2:
        return None
    _audit_reads(session, actor=actor, persons=rows, check="exact", now=now)
    return _group(session, persons=rows, exact=True)


def by_scan(session: Session, *, keyring: Keyring, actor: Actor, now: datetime
            ) -> list[SplitGroup]:
    """Groups of rows with one name and birth date, at least one keyed before 0003_bind."""
    groups: dict[tuple[str, date], list[Person]] = defaultdict(list)
    everyone = list(session.execute(select(Person).order_by(Person.created_at)).scalars())
    for person in everyone:
        details = open_details(keyring, person)
        groups[(name_key(details.name), details.birth_date)].append(person)
    _audit_reads(session, actor=actor, persons=everyone, check="scan", now=now)
    suspect = [g for g in groups.values()
               if len(g) > 1 and not all(p.keyed_from_document for p in g)]
    return [_group(session, persons=g, exact=False) for g in suspect]


def _audit_reads(session: Session, *, actor: Actor, persons: list[Person], check: str,
                 now: datetime) -> None:
    """One PERSON_READ entry per row read (committed): the holder sees the check."""
    for start in range(0, len(persons), _CHUNK):
        audit.append_many(session, actor=actor, now=now, events=[
            Event(AuditAction.PERSON_READ, AccessPurpose.MAINTENANCE, person.id, None,
                  {"split_check": check}) for person in persons[start:start + _CHUNK]])
    session.commit()


def _group(session: Session, *, persons: list[Person], exact: bool) -> SplitGroup:
    ids = [p.id for p in persons]
    counts = {holder: count for holder, count in session.execute(
        select(Line.holder_id, func.count(Line.id)).where(
            Line.holder_id.in_(ids), Line.status != LineStatus.CANCELLED)
        .group_by(Line.holder_id)).all()}
    return SplitGroup(exact, tuple(SplitMember(p.id, p.created_at, p.keyed_from_document,
                                               int(counts.get(p.id, 0))) for p in persons))


def _spellings() -> Iterator[str]:
    """Every country a caller could have typed (2-3 characters: letters, or a letter, a
    space and a letter); the pseudonym upper-cases and trims it."""
    letters = string.ascii_uppercase
    yield from ("".join(p) for p in itertools.product(letters, repeat=2))
    yield from ("".join(p) for p in itertools.product(letters, repeat=3))
    yield from (f"{a} {b}" for a, b in itertools.product(letters, repeat=2))
