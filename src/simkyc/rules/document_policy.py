"""A jurisdiction's document policy: which documents it accepts, how long past its expiry date
a document still counts (the grace), and the minimum age of a line holder.

Age is read from the document's birth date only; nothing is inferred from the face. An
applicant under the minimum age is refused with the rule that applies - in a `guardian`
jurisdiction the line is to be registered by a parent or guardian in their own name. The
finding is recorded; no guardian is guessed or linked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from simkyc.rules.profiles import AcceptedDocument, JurisdictionProfile, MinorRule


class PolicyFinding(StrEnum):
    """Why a document fails (or cannot be judged against) the jurisdiction's policy."""

    DOCUMENT_NOT_ACCEPTED = "DOCUMENT_NOT_ACCEPTED"
    DOCUMENT_EXPIRED = "DOCUMENT_EXPIRED"
    EXPIRY_NOT_GIVEN = "EXPIRY_NOT_GIVEN"
    UNDER_MINIMUM_AGE = "UNDER_MINIMUM_AGE"
    GUARDIAN_REQUIRED = "GUARDIAN_REQUIRED"


@dataclass(frozen=True)
class PolicyCheck:
    """One policy check: `passed` None when it could not be judged."""

    name: str
    passed: bool | None
    code: PolicyFinding | None
    message: str


def age_on(birth: date, today: date) -> int:
    """Completed years on `today` (someone born on 29 February turns a year older on
    1 March in common years)."""
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def policy_checks(profile: JurisdictionProfile, *, kind: AcceptedDocument, birth_date: date,
                  expiry: date | None, today: date) -> list[PolicyCheck]:
    """The profile's three document checks, in a stable order: accepted, expiry, minimum
    age."""
    return [_accepted(profile, kind), _expiry(profile, expiry, today),
            _age(profile, birth_date, today)]


def _accepted(profile: JurisdictionProfile, kind: AcceptedDocument) -> PolicyCheck:
    if kind in profile.accepted_documents:
        return PolicyCheck("document_accepted", True, None, f"{kind.value} is accepted.")
    listed = ", ".join(sorted(k.value for k in profile.accepted_documents)) or "none"
    return PolicyCheck("document_accepted", False, PolicyFinding.DOCUMENT_NOT_ACCEPTED,
                       f"{kind.value} is not accepted here (accepted: {listed}).")


def _expiry(profile: JurisdictionProfile, expiry: date | None, today: date) -> PolicyCheck:
    if expiry is None:
        return PolicyCheck("document_expiry", None, PolicyFinding.EXPIRY_NOT_GIVEN,
                           "The document's expiry date was not given.")
    # A document is valid through its expiry date, plus the grace.
    grace_days = profile.expiry_grace_days
    last_day = expiry + timedelta(days=grace_days)
    if today <= last_day:
        return PolicyCheck("document_expiry", True, None,
                           f"The document is valid through {last_day.isoformat()}.")
    grace = f" and the {grace_days}-day grace" if grace_days else ""
    return PolicyCheck("document_expiry", False, PolicyFinding.DOCUMENT_EXPIRED,
                       f"The document expired on {expiry.isoformat()}{grace}; "
                       "ask for a current document.")


def _age(profile: JurisdictionProfile, birth_date: date, today: date) -> PolicyCheck:
    min_age = profile.min_age
    if age_on(birth_date, today) >= min_age:
        return PolicyCheck("minimum_age", True, None, f"The holder is at least {min_age}.")
    if profile.minors is MinorRule.GUARDIAN:
        return PolicyCheck("minimum_age", False, PolicyFinding.GUARDIAN_REQUIRED,
                           f"The holder is under {min_age}: a parent or guardian "
                           "registers the line in their own name.")
    return PolicyCheck("minimum_age", False, PolicyFinding.UNDER_MINIMUM_AGE,
                       f"The holder is under {min_age}, the minimum age for a line.")
