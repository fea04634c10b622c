"""The evidence record: a session's checks and decision as canonical JSON plus its SHA-256.

It carries ids, scores, versions and times, never personal data; the hash also goes into the
audit chain (`proofing.decided` / `proofing.reviewed`), so a record rewritten later fails
both its own hash and the chain's copy of it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from simkyc.errors import RecordNotFound
from simkyc.privacy.canonical import canonical_json, sha256_hex
from simkyc.privacy.models import AuditEntry
from simkyc.proofing.models import CheckKind, DocumentCheck, ProofingSession
from simkyc.proofing.schemas import EvidenceVerification

SCHEMA = "simkyc/proofing-evidence/v1"
DECIDED_ACTIONS = ("proofing.decided", "proofing.reviewed")


def record_evidence(
    record: ProofingSession, *, documents: Sequence[Mapping[str, Any]],
    images: Mapping[str, str], review: Mapping[str, Any] | None = None,
) -> None:
    """Write the evidence record and its hash onto the session row."""
    text = canonical_json(_fields(record, documents=documents, images=images, review=review))
    record.evidence, record.evidence_sha256 = text, sha256_hex(text)


def document_fields(documents: Sequence[DocumentCheck]) -> list[dict[str, Any]]:
    """Document checks as evidence entries (never the values compared)."""
    return [{"name": d.name, "passed": d.passed, "code": d.code}
            | ({"kind": d.kind.value} if d.kind is CheckKind.CROSS_CHECK else {})
            for d in documents]


def stored_parts(record: ProofingSession) -> tuple[list[dict[str, Any]], dict[str, str],
                                                   dict[str, Any] | None]:
    """The parts of an evidence record that have no column (documents, images, review)."""
    data: dict[str, Any] = json.loads(record.evidence or "{}")
    return data.get("documents", []), data.get("images", {}), data.get("review")


def verify_evidence(session: Session, *, proofing_id: str) -> EvidenceVerification:
    """Recompute the record's hash, rebuild it from the row, compare with the audit chain."""
    record = session.get(ProofingSession, proofing_id, populate_existing=True)
    if record is None:
        raise RecordNotFound("proofing session", proofing_id)
    if record.evidence is None or record.evidence_sha256 is None:
        return EvidenceVerification(False, ("not_decided",))
    problems = []
    if sha256_hex(record.evidence) != record.evidence_sha256:
        problems.append("hash_mismatch")
    documents, images, review = stored_parts(record)
    rebuilt = canonical_json(_fields(record, documents=documents, images=images, review=review))
    if rebuilt != record.evidence:
        problems.append("record_differs_from_session")
    if _chained_hash(session, proofing_id) != record.evidence_sha256:
        problems.append("audit_chain_mismatch")
    return EvidenceVerification(not problems, tuple(problems))


def _chained_hash(session: Session, proofing_id: str) -> str | None:
    detail = session.execute(
        select(AuditEntry.detail).where(AuditEntry.object_id == proofing_id,
                                        AuditEntry.action.in_(DECIDED_ACTIONS))
        .order_by(AuditEntry.seq.desc()).limit(1)).scalar_one_or_none()
    value = json.loads(detail).get("evidence_sha256") if detail else None
    return value if isinstance(value, str) else None


def _fields(record: ProofingSession, *, documents: Sequence[Mapping[str, Any]],
            images: Mapping[str, str], review: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        "schema": SCHEMA, "session": record.id, "purpose": record.purpose.value,
        "operator": record.operator_id, "agent": record.agent_id, "person": record.person_id,
        "line": record.line_id, "started_at": _time(record.started_at),
        "consent": {"at": _time(record.consent_at), "version": record.consent_version},
        "documents": list(documents), "images": dict(images), "review": review,
        "face": {"score": _score(record.face_score), "threshold": _score(record.face_threshold),
                 "model_id": record.model_id, "calibration_id": record.calibration_id},
        "liveness": {"verdict": record.liveness_verdict and record.liveness_verdict.value,
                     "version": record.liveness_version},
        "holder": {"score": _score(record.holder_score),
                   "threshold": _score(record.holder_threshold)},
        "decision": {"outcome": record.outcome.value, "reasons": json.loads(record.reasons),
                     "decided_at": _time(record.decided_at), "decided_by": record.decided_by,
                     "expires_at": _time(record.expires_at)},
    }


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat(timespec="microseconds")


def _score(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
