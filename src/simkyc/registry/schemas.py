"""What registry services return: frozen, JSON-serialisable (idempotent replays store them)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from simkyc.auth.models import Role
from simkyc.records.models import DisputeStatus, LineStatus, ServiceType


class Frozen(BaseModel):
    """Base of the service results."""

    model_config = ConfigDict(frozen=True)


class OperatorView(Frozen):
    id: str
    name: str
    jurisdiction: str


class PrincipalView(Frozen):
    id: str
    role: Role
    operator_id: str | None
    label: str


class IssuedKey(Frozen):
    """A new API key or citizen token; `token` is shown this once and never stored."""

    key_id: str
    principal_id: str
    token: str
    expires_at: datetime | None


class LineView(Frozen):
    """A line as its operator sees it."""

    id: str
    msisdn: str
    iccid: str
    service: ServiceType
    operator_id: str
    status: LineStatus
    created_at: datetime
    approved_by: str


class MaskedLine(Frozen):
    """A line as the citizen's self-service shows it: number masked but the last four."""

    id: str
    msisdn_masked: str
    operator: str
    service: ServiceType
    since: datetime
    status: LineStatus


class DisputeView(Frozen):
    """A "not mine" claim in the operator's queue."""

    id: str
    line_id: str
    msisdn: str
    status: DisputeStatus
    opened_at: datetime
    deadline: datetime


class CitizenDisputeView(Frozen):
    """The citizen's own "not mine" claim: the number masked, as in every citizen reply."""

    id: str
    line_id: str
    msisdn_masked: str
    status: DisputeStatus
    opened_at: datetime
    deadline: datetime


class AccessView(Frozen):
    """One access to the citizen's data: when, by whom (role, operator), what and why."""

    at: datetime
    actor_id: str
    actor_role: str
    operator_id: str | None
    action: str
    purpose: str
    seq: int | None = None
    proof: EntryProofView | None = None  # None while the entry awaits integration


class EntryProofView(Frozen):
    """The entry's leaf data, its index, the inclusion proof (base64 hashes) and the signed
    checkpoint it leads to: checkable by anyone (simkyc.privacy.proof, the portal)."""

    entry: str
    index: int
    tree_size: int
    inclusion: list[str]
    checkpoint: str
    vkey: str
