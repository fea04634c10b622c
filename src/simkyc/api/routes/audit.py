"""The audit log: its signed checkpoints and proofs (public: they reveal hashes only), the
whole log's verification and every entry about a person (auditors, admins)."""

from __future__ import annotations

import base64
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from simkyc.api.deps import AuditorDep, NowDep, ServicesDep, SessionDep
from simkyc.api.schemas import AuditEntryOut, CheckpointOut, LogVerificationOut, ProofOut
from simkyc.errors import ProofUnavailable
from simkyc.privacy import audit, tlog
from simkyc.privacy.audit import AccessPurpose, AuditAction
from simkyc.privacy.note import parse_checkpoint

router = APIRouter(prefix="/v1/audit", tags=["audit"])
Size = Annotated[int, Query(ge=1, description="A tree size (a checkpoint's).")]


@router.get("/checkpoint")
def checkpoint(*, db: SessionDep, services: ServicesDep) -> CheckpointOut:
    """The latest signed checkpoint of the transparency log."""
    latest = tlog.latest_checkpoint(db)
    if latest is None:
        raise ProofUnavailable("the log has no checkpoint yet.")
    body = parse_checkpoint(latest.note.partition("\n\n")[0] + "\n")
    return CheckpointOut(note=latest.note, origin=body.origin, size=latest.size,
                         root=_b64(latest.root),
                         vkey=services.log_keys.verifiers[latest.key_id].encode())


@router.get("/proof/inclusion")
def inclusion(*, db: SessionDep, index: Annotated[int, Query(ge=0)],
              tree_size: Size) -> ProofOut:
    """The hashes proving leaf `index` is in the tree of `tree_size` leaves."""
    return ProofOut(hashes=[_b64(h) for h in tlog.inclusion_proof(db, index=index,
                                                                  size=tree_size)])


@router.get("/proof/consistency")
def consistency(*, db: SessionDep, first: Size, second: Size) -> ProofOut:
    """The hashes proving the tree of `second` leaves extends the tree of `first`."""
    return ProofOut(hashes=[_b64(h) for h in tlog.consistency_proof(db, old=first,
                                                                    new=second)])


@router.get("/chain")
def verify_log(*, db: SessionDep, me: AuditorDep, services: ServicesDep) -> LogVerificationOut:
    """Recompute the whole log: leaves, tree, every checkpoint's signature and root."""
    result = tlog.verify_log(db, keys=services.log_keys)
    return LogVerificationOut(ok=result.ok, size=result.size, checkpoints=result.checkpoints,
                              first_bad_index=result.first_bad_index,
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


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")
