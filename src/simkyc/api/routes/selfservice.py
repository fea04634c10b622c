"""Citizen self-service (a token from proofing oneself): my lines, "not mine", who read my data."""

from __future__ import annotations

from fastapi import APIRouter, status

from simkyc.api.deps import CitizenDep, IdempotencyKey, NowDep, ServicesDep, SessionDep
from simkyc.records.idempotent import once
from simkyc.registry import selfservice
from simkyc.registry.schemas import AccessView, CitizenDisputeView, MaskedLine

router = APIRouter(prefix="/v1/me", tags=["self-service"])


@router.get("/lines")
def my_lines(*, db: SessionDep, me: CitizenDep, now: NowDep,
             services: ServicesDep) -> list[MaskedLine]:
    """Every line under my ID, at every operator, numbers masked."""
    return selfservice.my_lines(db, actor=me, keyring=services.keyring, now=now)


@router.post("/lines/{line_id}/dispute", status_code=status.HTTP_201_CREATED)
def dispute_line(line_id: str, *, db: SessionDep, me: CitizenDep, now: NowDep,
                 services: ServicesDep, key: IdempotencyKey = None) -> CitizenDisputeView:
    """Mark a line "not mine": it goes to its operator's queue."""
    return once(db, actor=me, key=key, operation="selfservice.dispute",
                request={"line_id": line_id}, kind=CitizenDisputeView, now=now,
                secret=services.keyring,  # the reply holds the MSISDN: stored sealed
                act=lambda: selfservice.dispute_line(
                    db, actor=me, line_id=line_id, keyring=services.keyring,
                    reproof_hours=services.settings.dispute_reproof_hours, now=now))


@router.get("/accesses")
def my_accesses(*, db: SessionDep, me: CitizenDep, now: NowDep,
                services: ServicesDep) -> list[AccessView]:
    """Who accessed my data, when and why; each entry with its transparency-log proof."""
    return selfservice.my_accesses(db, actor=me, now=now, keys=services.log_keys)
