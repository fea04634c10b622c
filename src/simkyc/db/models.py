"""Every table, imported in one place: the metadata migrations and tests compare against."""

from __future__ import annotations

from sqlalchemy import MetaData

from simkyc.db.base import Base
from simkyc.db.idempotency import IdempotencyRecord
from simkyc.privacy.models import AuditEntry, AuditHead, RetainedMedia
from simkyc.privacy.rotation import SealedColumn
from simkyc.proofing.models import ProofingSession
from simkyc.registry.models import ApiKey, Dispute, Line, Operator, Person, Principal
from simkyc.web.store import WebSessionRow

__all__ = [
    "SEALED_COLUMNS", "ApiKey", "AuditEntry", "AuditHead", "Dispute", "IdempotencyRecord",
    "Line", "Operator", "Person", "Principal", "ProofingSession", "RetainedMedia",
    "WebSessionRow", "metadata",
]

metadata: MetaData = Base.metadata

SEALED_COLUMNS: tuple[SealedColumn, ...] = (
    Person.name_ct, Person.birth_date_ct, Person.template_ct, ProofingSession.template_ct,
    RetainedMedia.sealed, WebSessionRow.sealed,
)
