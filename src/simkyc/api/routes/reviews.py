"""The reviewer's queues: proofing sessions in manual review, and "not mine" disputes."""

from __future__ import annotations

from fastapi import APIRouter

from simkyc.api.deps import (
    AgentDep,
    IdempotencyKey,
    NowDep,
    OperatorStaffDep,
    ReviewerDep,
    ServicesDep,
    SessionDep,
)
from simkyc.api.schemas import DisputeResolution, ReviewDecision
from simkyc.proofing import service as proofing
from simkyc.proofing.schemas import ProofingView
from simkyc.records.idempotent import once
from simkyc.registry import disputes
from simkyc.registry.schemas import DisputeView

router = APIRouter(prefix="/v1/reviews", tags=["review"])


@router.get("/proofing-sessions")
def review_queue(*, db: SessionDep, me: ReviewerDep) -> list[ProofingView]:
    """My operator's sessions waiting in manual review, oldest first."""
    return proofing.review_queue(db, actor=me)


@router.post("/proofing-sessions/{proofing_id}")
def decide(proofing_id: str, body: ReviewDecision, *, db: SessionDep, me: ReviewerDep,
           now: NowDep, services: ServicesDep, key: IdempotencyKey = None) -> ProofingView:
    """Approve or reject a session in manual review."""

    def act() -> ProofingView:
        view = proofing.review(db, actor=me, proofing_id=proofing_id, approve=body.approve,
                               approval_ttl_s=services.settings.approval_ttl_s, now=now)
        services.metrics.decisions.labels(view.outcome.value).inc()
        return view

    return once(db, actor=me, key=key, operation="proofing.review",
                request={"proofing_id": proofing_id, **body.model_dump()}, kind=ProofingView,
                now=now, act=act)


@router.get("/disputes")
def dispute_queue(*, db: SessionDep, me: OperatorStaffDep, now: NowDep,
                  services: ServicesDep) -> list[DisputeView]:
    """My operator's open disputes."""
    return disputes.dispute_queue(db, actor=me, keyring=services.keyring, now=now)


@router.post("/disputes/{dispute_id}/resolve")
def resolve_dispute(dispute_id: str, body: DisputeResolution, *, db: SessionDep,
                    me: AgentDep, now: NowDep, services: ServicesDep,
                    key: IdempotencyKey = None) -> DisputeView:
    """Close a dispute with the holder's approved re-proof session (the agent who proofed)."""
    return once(db, actor=me, key=key, operation="dispute.resolve",
                request={"dispute_id": dispute_id, **body.model_dump()}, kind=DisputeView,
                now=now, secret=services.keyring,  # the reply holds the MSISDN: stored sealed
                act=lambda: disputes.resolve_dispute(
                    db, actor=me, dispute_id=dispute_id, proofing_id=body.proofing_id,
                    keyring=services.keyring, now=now))
