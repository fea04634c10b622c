"""Lines: register (with an approved proofing session), swap the SIM, cancel; transfers are
refused by rule. The registry enforces the operator boundary with the caller as actor."""

from __future__ import annotations

from fastapi import APIRouter, status

from simkyc.api.deps import AgentDep, IdempotencyKey, NowDep, ServicesDep, SessionDep, StaffDep
from simkyc.api.locale import LocaleDep
from simkyc.api.schemas import (
    ItemError,
    LineBatch,
    LineBatchOut,
    LineBatchResult,
    LineCreate,
    SimSwap,
)
from simkyc.i18n import catalogs
from simkyc.i18n.messages import error_message
from simkyc.registry import batch, lines
from simkyc.registry.batch import Registration
from simkyc.registry.schemas import LineView

router = APIRouter(prefix="/v1/lines", tags=["lines"])


@router.post("", status_code=status.HTTP_201_CREATED)
def register_line(body: LineCreate, *, db: SessionDep, me: AgentDep, now: NowDep,
                  services: ServicesDep, key: IdempotencyKey = None) -> LineView:
    """A new line for the person an approved registration session proofed."""
    return lines.register_line(
        db, actor=me, proofing_id=body.proofing_id, msisdn=body.msisdn, iccid=body.iccid,
        service=body.service, profiles=services.settings.jurisdiction_profiles,
        keyring=services.keyring, now=now, idempotency_key=key)


@router.post("/batch")
def register_lines(body: LineBatch, *, db: SessionDep, me: AgentDep, now: NowDep,
                   services: ServicesDep, locale: LocaleDep) -> LineBatchOut:
    """Bulk registration (an operator's back office): every item judged as `POST /v1/lines`
    would, all committed in one transaction, each answered in order with its line or its
    error. Retry with the same per-item `idempotency_key`s to get the same lines back."""
    items = [Registration(i.proofing_id, i.msisdn, i.iccid, i.service, i.idempotency_key)
             for i in body.items]
    done = batch.register_lines(db, actor=me, items=items, keyring=services.keyring,
                                profiles=services.settings.jurisdiction_profiles, now=now)
    results = [LineBatchResult(line=o.line, error=o.error and ItemError(
        code=o.error.code, message=error_message(catalogs(), locale, o.error),
        details=o.error.details())) for o in done]
    registered = sum(r.line is not None for r in results)
    return LineBatchOut(registered=registered, refused=len(results) - registered,
                        results=results)


@router.get("/{line_id}")
def get_line(line_id: str, *, db: SessionDep, me: StaffDep, now: NowDep,
             services: ServicesDep) -> LineView:
    """A line of the caller's operator (the read is audited)."""
    return lines.get_line(db, actor=me, line_id=line_id, keyring=services.keyring, now=now)


@router.post("/{line_id}/swap-sim")
def swap_sim(line_id: str, body: SimSwap, *, db: SessionDep, me: AgentDep, now: NowDep,
             services: ServicesDep, key: IdempotencyKey = None) -> LineView:
    """A new SIM for the line, after its holder was proofed again (purpose sim_swap)."""
    return lines.swap_sim(db, actor=me, line_id=line_id, proofing_id=body.proofing_id,
                          iccid=body.iccid, keyring=services.keyring, now=now,
                          idempotency_key=key)


@router.post("/{line_id}/cancel")
def cancel_line(line_id: str, *, db: SessionDep, me: AgentDep, now: NowDep,
                services: ServicesDep, key: IdempotencyKey = None) -> LineView:
    """Cancel the line; its number goes into quarantine."""
    return lines.cancel_line(db, actor=me, line_id=line_id,
                             profiles=services.settings.jurisdiction_profiles,
                             keyring=services.keyring, now=now, idempotency_key=key)


@router.post("/{line_id}/transfer", status_code=status.HTTP_409_CONFLICT)
def request_transfer(line_id: str, *, db: SessionDep, me: AgentDep, now: NowDep,
                     services: ServicesDep) -> None:
    """Always refused (409 TRANSFER_FORBIDDEN): a number is cancelled, quarantined, reissued."""
    lines.request_transfer(db, actor=me, line_id=line_id,
                           profiles=services.settings.jurisdiction_profiles, now=now)
