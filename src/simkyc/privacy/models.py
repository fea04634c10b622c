"""Privacy tables: the hash-chained audit log with its head, and retained (sealed) images."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from simkyc.db.base import Base, UTCDateTime, enum_column, new_id

GENESIS_HASH = "0" * 64


class AuditEntry(Base):
    """One access or change: who, when, why, about whom (by id), chained to the entry before.

    No personal data in clear: subjects are person ids (random), objects line or session ids,
    and `detail` holds codes and ids only. The table refuses UPDATE and DELETE (triggers)."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                     primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[str] = mapped_column(String(32))
    actor_role: Mapped[str] = mapped_column(String(16))
    operator_id: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(48))
    purpose: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str | None] = mapped_column(String(32), index=True)
    object_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's last sequence number and hash (one row): catches deletion of the tail, and
    is the row appenders lock to take turns."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class MediaKind(StrEnum):
    """Which image of a proofing session was retained."""

    DOCUMENT = "document"
    SELFIE = "selfie"
    LIVENESS = "liveness"


class RetainedMedia(Base):
    """An image kept (sealed) because retention is on; purged at `purge_after`."""

    __tablename__ = "retained_media"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    proofing_id: Mapped[str] = mapped_column(ForeignKey("proofing_sessions.id"), index=True)
    kind: Mapped[MediaKind] = mapped_column(enum_column(MediaKind))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    purge_after: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
