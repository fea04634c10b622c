"""The tables of who may call simkyc: principals (with their role) and their API keys."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from simkyc.db.base import Base, UTCDateTime, enum_column, new_id


class Role(StrEnum):
    """Who a principal is; `system` is the scheduler's jobs (deadlines, purges)."""

    AGENT = "agent"
    REVIEWER = "reviewer"
    AUDITOR = "auditor"
    ADMIN = "admin"
    CITIZEN = "citizen"
    SYSTEM = "system"


class Principal(Base):
    """Someone who calls simkyc: an operator's agent or reviewer, an auditor, admin or citizen."""

    __tablename__ = "principals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    role: Mapped[Role] = mapped_column(enum_column(Role))
    operator_id: Mapped[str | None] = mapped_column(ForeignKey("operators.id"))
    person_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiKey(Base):
    """An API key or citizen token: public prefix `id`, SHA-256 of the 32-byte secret."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    principal_id: Mapped[str] = mapped_column(ForeignKey("principals.id"), index=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
