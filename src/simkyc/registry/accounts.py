"""Operators, principals and their API keys; authentication gives the Actor services take.

Keys are `sk_<id>_<secret>`: a 12-hex-digit public id to find the row and 32 random bytes
(base64url) of which only the SHA-256 is stored. A slow password hash is not needed: the
secret has 256 bits of entropy, so its SHA-256 cannot be brute-forced.

Creating operators, principals and keys takes no actor: it is administration, which the API
restricts to admins (and the CLI to whoever runs it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from simkyc.config import JurisdictionProfile
from simkyc.errors import InvalidCredentials, OperatorExists, PermissionDenied, RecordNotFound
from simkyc.registry.models import ApiKey, Operator, Principal, Role
from simkyc.registry.rules import profile_for
from simkyc.registry.schemas import IssuedKey, OperatorView, PrincipalView

TOKEN_PREFIX = "sk"
STAFF = (Role.AGENT, Role.REVIEWER)


@dataclass(frozen=True)
class Actor:
    """The authenticated caller, passed to every service that acts for someone."""

    principal_id: str
    role: Role
    operator_id: str | None = None
    person_id: str | None = None


SYSTEM = Actor(principal_id="system", role=Role.SYSTEM)
"""The scheduler's jobs (dispute deadlines, purges, key rotation)."""


def require(actor: Actor, *roles: Role, operator_id: str | None = None) -> None:
    """Refuse unless the actor has one of `roles` (and, if given, belongs to that operator)."""
    if actor.role not in roles:
        raise PermissionDenied(f"a {actor.role.value} may not do this.")
    if operator_id is not None and actor.role in STAFF and actor.operator_id != operator_id:
        raise PermissionDenied("this belongs to another operator.")


def create_operator(
    session: Session, *, name: str, jurisdiction: str,
    profiles: Mapping[str, JurisdictionProfile], now: datetime,
) -> OperatorView:
    """A new operator in a jurisdiction that has a rules profile (committed)."""
    profile_for(profiles, jurisdiction)
    if session.scalar(select(Operator.id).where(Operator.name == name)) is not None:
        raise OperatorExists(f"an operator named {name!r} exists already.")
    operator = Operator(name=name, jurisdiction=jurisdiction, created_at=now)
    session.add(operator)
    try:
        session.commit()
    except IntegrityError:  # a concurrent twin got the name first
        session.rollback()
        raise OperatorExists(f"an operator named {name!r} exists already.") from None
    return OperatorView(id=operator.id, name=name, jurisdiction=jurisdiction)


def operator_profile(session: Session, actor: Actor,
                     profiles: Mapping[str, JurisdictionProfile]) -> JurisdictionProfile:
    """The rules profile of the jurisdiction the actor's operator works in."""
    operator = session.get(Operator, actor.operator_id) if actor.operator_id else None
    if operator is None:
        raise RecordNotFound("operator", actor.operator_id or "")
    return profile_for(profiles, operator.jurisdiction)


def create_principal(
    session: Session, *, role: Role, label: str, now: datetime, operator_id: str | None = None,
    person_id: str | None = None,
) -> PrincipalView:
    """A new agent, reviewer, auditor, admin or citizen (committed); staff need an operator."""
    if (role in STAFF) != (operator_id is not None):
        raise PermissionDenied("agents and reviewers, and only they, belong to an operator.")
    if operator_id is not None and session.get(Operator, operator_id) is None:
        raise RecordNotFound("operator", operator_id)
    principal = add_principal(session, role=role, label=label, now=now,
                              operator_id=operator_id, person_id=person_id)
    session.commit()
    return PrincipalView(id=principal.id, role=role, operator_id=operator_id, label=label)


def add_principal(
    session: Session, *, role: Role, label: str, now: datetime, operator_id: str | None = None,
    person_id: str | None = None,
) -> Principal:
    """Add a principal row (flushed, not committed)."""
    principal = Principal(role=role, label=label, operator_id=operator_id, person_id=person_id,
                          created_at=now)
    session.add(principal)
    session.flush()
    return principal


def issue_api_key(
    session: Session, *, principal_id: str, now: datetime, expires_at: datetime | None = None
) -> IssuedKey:
    """A new key for the principal (committed); the token is returned once."""
    if session.get(Principal, principal_id) is None:
        raise RecordNotFound("principal", principal_id)
    issued = add_api_key(session, principal_id=principal_id, now=now, expires_at=expires_at)
    session.commit()
    return issued


def add_api_key(
    session: Session, *, principal_id: str, now: datetime, expires_at: datetime | None = None
) -> IssuedKey:
    """Add a key row (flushed, not committed); only the secret's SHA-256 is stored."""
    key_id = secrets.token_hex(6)
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")
    session.add(ApiKey(id=key_id, principal_id=principal_id, secret_sha256=_hash(secret),
                       created_at=now, expires_at=expires_at))
    session.flush()
    return IssuedKey(key_id=key_id, principal_id=principal_id,
                     token=f"{TOKEN_PREFIX}_{key_id}_{secret}", expires_at=expires_at)


def revoke_api_key(session: Session, *, key_id: str, now: datetime) -> None:
    """The key stops working at once (committed)."""
    key = session.get(ApiKey, key_id)
    if key is None:
        raise RecordNotFound("API key", key_id)
    key.revoked_at = now
    session.commit()


def authenticate(session: Session, *, token: str, now: datetime) -> Actor:
    """The actor a token stands for; every failure looks the same to the caller."""
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    found = session.execute(  # the key and its principal in one round trip (every request)
        select(ApiKey, Principal).join(Principal, Principal.id == ApiKey.principal_id)
        .where(ApiKey.id == key_id)).first() if prefix == TOKEN_PREFIX and secret else None
    if found is None or not hmac.compare_digest(found[0].secret_sha256, _hash(secret)):
        raise InvalidCredentials("unknown or malformed key.")
    key, principal = found
    if _unusable(key, principal, now):
        raise InvalidCredentials("this key is revoked or expired.")
    return Actor(principal_id=principal.id, role=principal.role,
                 operator_id=principal.operator_id, person_id=principal.person_id)


def _unusable(key: ApiKey, principal: Principal, now: datetime) -> bool:
    expired = key.expires_at is not None and key.expires_at <= now
    return expired or key.revoked_at is not None or principal.disabled_at is not None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii", "replace")).hexdigest()
