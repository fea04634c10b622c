"""Self-service sign-in: whose self-service a proofing session may open.

Knowing an ID number is not enough (numbers leak widely; a CN number carries the birth date).
The typed document must be that of a person with an enrolled face template, and the typed
name and birth date must equal the stored (sealed) ones; the live face is then compared with
the template when the session concludes (proofing.service). Every failure, including a
number nobody holds, gets the one answer SELF_SERVICE_NOT_PROVEN, so the reply says nothing
about whose number it is. Attempts are counted in the database per person (by pseudonym,
whether or not the person exists), per device and per caller key, and committed even when
refused.
"""

from __future__ import annotations

import hmac
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from simkyc.auth.actors import Actor
from simkyc.config import Settings
from simkyc.db.attempts import Limit, count_attempt
from simkyc.errors import PersonRecordsSplit, SelfServiceNotProven, TooManyAttempts
from simkyc.privacy.keyring import Keyring
from simkyc.privacy.pseudonyms import pseudonym
from simkyc.records.models import Person
from simkyc.records.persons import Applicant, find_person, open_details

NOT_PROVEN = ("We could not confirm this self-service sign-in. Check the document number, "
              "the name and the birth date exactly as on the card, and sign in with the "
              "card of the person who holds the lines; or visit a shop.")


@dataclass(frozen=True)
class SignInLimits:
    """Self-service sign-in attempts allowed per window: per person and device, and per
    caller key (a shop's agent or the citizen portal, which many citizens share)."""

    per_person: Limit
    per_caller: Limit


DEFAULT_LIMITS = SignInLimits(per_person=Limit(5, 3600.0), per_caller=Limit(200, 3600.0))


def sign_in_limits(settings: Settings) -> SignInLimits:
    """The limits the settings give (SIMKYC_SELFSERVICE_*)."""
    window = settings.selfservice_window_s
    return SignInLimits(per_person=Limit(settings.selfservice_max_attempts, window),
                        per_caller=Limit(settings.selfservice_caller_max_attempts, window))


def holder_for_self_service(
    session: Session, *, keyring: Keyring, actor: Actor, applicant: Applicant,
    device_id: str | None, limits: SignInLimits, now: datetime,
) -> Person:
    """The person whose self-service this may open; SELF_SERVICE_NOT_PROVEN otherwise."""
    _count(session, keyring=keyring, actor=actor, applicant=applicant, device_id=device_id,
           limits=limits, now=now)
    try:
        person = find_person(session, keyring=keyring, document=applicant.document,
                             legacy=applicant.legacy)
    except PersonRecordsSplit:  # an administrator's matter; the caller learns nothing
        person = None
    if person is None or person.template_ct is None or not _same_details(
            keyring, person, applicant):
        session.commit()  # the attempt stays counted
        raise SelfServiceNotProven(NOT_PROVEN)
    return person


def _count(session: Session, *, keyring: Keyring, actor: Actor, applicant: Applicant,
           device_id: str | None, limits: SignInLimits, now: datetime) -> None:
    person = f"selfservice:person:{pseudonym(keyring, applicant.document)}"
    device = [f"selfservice:device:{device_id}"] if device_id else []
    try:
        count_attempt(session, buckets=[person, *device], limit=limits.per_person, now=now,
                      what="self-service sign-in attempts for this person or device")
        count_attempt(session, buckets=[f"selfservice:caller:{actor.principal_id}"],
                      limit=limits.per_caller, now=now,
                      what="self-service sign-in attempts from this key")
    except TooManyAttempts:
        session.commit()
        raise


def _same_details(keyring: Keyring, person: Person, applicant: Applicant) -> bool:
    stored = open_details(keyring, person)
    same_name = hmac.compare_digest(name_key(stored.name).encode(),
                                    name_key(applicant.name).encode())
    return same_name and stored.birth_date == applicant.birth_date


def name_key(text: str) -> str:
    """A name as compared: case, width and spacing do not make another name ("WANG  fang" =
    "Wang Fang")."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())
