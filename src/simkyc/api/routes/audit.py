"""Oversight (auditors, admins): the audit chain's integrity, and every entry about a person."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from simkyc.api.deps import AuditorDep, NowDep, SessionDep
from simkyc.api.schemas import AuditEntryOut, ChainOut
from simkyc.privacy import audit
from simkyc.privacy.audit import AccessPurpose, AuditAction

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("/chain")
def verify_chain(*, db: SessionDep, me: AuditorDep) -> ChainOut:
    """Recompute the hash chain: every entry present, linked and unaltered."""
    result = audit.verify_chain(db)
    return ChainOut(ok=result.ok, entries=result.entries, head_seq=result.head_seq,
                    problems=[asdict(p) for p in result.problems])


@router.get("/persons/{person_id}/entries")
def entries_about(person_id: str, *, db: SessionDep, me: AuditorDep,
                  now: NowDep) -> list[AuditEntryOut]:
    """Every audit entry about a person (this export is itself audited)."""
    entries = audit.entries_about(db, subject_id=person_id)
    audit.append(db, actor=me, action=AuditAction.PERSON_READ, purpose=AccessPurpose.OVERSIGHT,
                 subject_id=person_id, object_id=None, now=now)
    db.commit()
    return [AuditEntryOut(seq=e.seq, at=e.at, actor_id=e.actor_id, actor_role=e.actor_role,
                          operator_id=e.operator_id, action=e.action.value,
                          purpose=e.purpose.value, object_id=e.object_id, hash=e.hash)
            for e in entries]
