"""Administration (admins only): operators, and principals with their first API key."""

from __future__ import annotations

from fastapi import APIRouter, status

from simkyc.api.deps import AdminDep, IdempotencyKey, NowDep, ServicesDep, SessionDep
from simkyc.api.schemas import KeyOut, OperatorCreate, PrincipalCreate
from simkyc.auth.models import Role
from simkyc.errors import PermissionDenied
from simkyc.records.idempotent import once
from simkyc.registry import accounts
from simkyc.registry.schemas import OperatorView

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.post("/operators", status_code=status.HTTP_201_CREATED)
def create_operator(body: OperatorCreate, *, db: SessionDep, me: AdminDep, now: NowDep,
                    services: ServicesDep, key: IdempotencyKey = None) -> OperatorView:
    """A new operator in a jurisdiction that has a rules profile."""
    return once(db, actor=me, key=key, operation="admin.operator", request=body.model_dump(),
                kind=OperatorView, now=now, act=lambda: accounts.create_operator(
                    db, name=body.name, jurisdiction=body.jurisdiction,
                    profiles=services.settings.jurisdiction_profiles, now=now))


@router.post("/principals", status_code=status.HTTP_201_CREATED)
def create_principal(body: PrincipalCreate, *, db: SessionDep, me: AdminDep, now: NowDep,
                     services: ServicesDep, key: IdempotencyKey = None) -> KeyOut:
    """A staff principal and its API key (shown once; a keyed retry gets it again from a
    sealed record). Citizens get tokens by proofing."""
    if body.role in (Role.CITIZEN, Role.SYSTEM):
        raise PermissionDenied(f"{body.role.value} principals are not created here.")

    def act() -> KeyOut:
        principal = accounts.create_principal(db, role=body.role, label=body.label, now=now,
                                              operator_id=body.operator_id)
        issued = accounts.issue_api_key(db, principal_id=principal.id, now=now)
        return KeyOut(principal_id=principal.id, key_id=issued.key_id, token=issued.token,
                      expires_at=issued.expires_at)

    return once(db, actor=me, key=key, operation="admin.principal",
                request=body.model_dump(mode="json"), kind=KeyOut, now=now, act=act,
                secret=services.keyring)
