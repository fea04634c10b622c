"""Account administration: operators, principals and their API keys (the keys' format and
authentication are `simkyc.auth.keys`).

Creating operators, principals and keys takes no actor: it is administration, which the API
restricts to admins (and the CLI to whoever runs it).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from simkyc.auth.actors import STAFF
from simkyc.auth.keys import TOKEN_PREFIX, hash_secret
from simkyc.auth.models import ApiKey, Principal, Role
from simkyc.errors import OperatorExists, PermissionDenied, RecordNotFound
from simkyc.records.models import Operator
from simkyc.registry.schemas import IssuedKey, OperatorView, PrincipalView
from simkyc.rules.line_caps import profile_for
from simkyc.rules.profiles import JurisdictionProfile


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
    session.add(ApiKey(id=key_id, principal_id=principal_id, secret_sha256=hash_secret(secret),
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
