"""Privacy tables: the audit log, its Merkle tree (leaves, nodes, signed checkpoints), and
retained (sealed) images."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from simkyc.db.base import Base, UTCDateTime, enum_column, new_id

GENESIS_HASH = "0" * 64  # prev_hash of the old hash chain's first entry


class AuditEntry(Base):
    """One access or change: who, when, why, about whom (by id).

    No personal data in clear: subjects are person ids (random), objects line or session ids,
    and `detail` holds codes and ids only. The table refuses UPDATE and DELETE (triggers).
    `seq` comes from a database sequence (SQLite: the rowid) inside the writer's transaction;
    `txid` is that transaction's id on PostgreSQL (0 on SQLite and for entries of the old hash
    chain), which tells the integrator when every entry before a point is committed.
    `prev_hash` links entries written before the transparency log ("" after it); `hash` is
    the SHA-256 of the entry's canonical JSON."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_txid_seq", "txid", "seq"),)

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                     primary_key=True, autoincrement=False,
                                     server_default=FetchedValue())
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
    txid: Mapped[int] = mapped_column(BigInteger, server_default=FetchedValue())


class TlogLeaf(Base):
    """Leaf `idx` of the Merkle tree is audit entry `seq` (assigned by the integrator)."""

    __tablename__ = "tlog_leaves"

    idx: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                     primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)


class TlogNode(Base):
    """The hash of a perfect subtree: 2**level leaves from leaf idx * 2**level (level 0: a
    leaf hash). Every complete subtree is kept, so any proof is O(log n) key lookups."""

    __tablename__ = "tlog_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class TlogCheckpoint(Base):
    """A signed checkpoint (C2SP signed note) of the tree at `size` entries."""

    __tablename__ = "tlog_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(40))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)


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
