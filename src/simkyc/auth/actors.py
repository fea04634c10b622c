"""The authenticated caller (`Actor`) every service that acts for someone takes, and the role
check services make on it (`require`)."""

from __future__ import annotations

from dataclasses import dataclass

from simkyc.auth.models import Role
from simkyc.errors import PermissionDenied

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
