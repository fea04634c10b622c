"""Every table, imported in one place: the metadata migrations and tests compare against."""

from __future__ import annotations

from sqlalchemy import MetaData

from simkyc.auth.cookie_store import WebSessionRow
from simkyc.auth.models import ApiKey, Principal
from simkyc.db.attempts import Attempt
from simkyc.db.base import Base
from simkyc.db.idempotency import IdempotencyRecord
from simkyc.liveness.store import LivenessAttempt, LivenessChallenge, LivenessLockout
from simkyc.privacy.models import AuditEntry, RetainedMedia, TlogCheckpoint, TlogLeaf, TlogNode
from simkyc.privacy.rotation import SealedColumn
from simkyc.proofing.held import SEALED as HELD_SEALED
from simkyc.proofing.held import ProofingState
from simkyc.proofing.models import ProofingSession
from simkyc.proofing.replies import StepReply
from simkyc.records.models import Dispute, Line, Operator, Person

__all__ = [
    "SEALED_COLUMNS",
    "ApiKey",
    "Attempt",
    "AuditEntry",
    "Dispute",
    "IdempotencyRecord",
    "Line",
    "LivenessAttempt",
    "LivenessChallenge",
    "LivenessLockout",
    "Operator",
    "Person",
    "Principal",
    "ProofingSession",
    "ProofingState",
    "RetainedMedia",
    "StepReply",
    "TlogCheckpoint",
    "TlogLeaf",
    "TlogNode",
    "WebSessionRow",
    "metadata",
]

metadata: MetaData = Base.metadata

SEALED_COLUMNS: tuple[SealedColumn, ...] = (
    Person.name_ct, Person.birth_date_ct, Person.template_ct, ProofingSession.template_ct,
    RetainedMedia.sealed, *HELD_SEALED, StepReply.response_ct, Line.msisdn_ct, Line.iccid_ct,
    WebSessionRow.sealed,
)
