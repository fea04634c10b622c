"""Registry tables: operators, persons (pseudonymous), lines, disputes.

A person is known by a keyed HMAC of their document (`pseudonym`); their name, birth date and
face template are AES-GCM ciphertexts carrying the id of the key that sealed them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, LargeBinary, String, false, text
from sqlalchemy.orm import Mapped, mapped_column

from simkyc.db.base import Base, UTCDateTime, enum_column, new_id


class ServiceType(StrEnum):
    """What the line carries."""

    MOBILE = "mobile"
    BROADBAND = "broadband"


class LineStatus(StrEnum):
    """`cancelled` is final; every other status counts toward the caps."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    DISPUTED = "disputed"
    CANCELLED = "cancelled"


class DisputeStatus(StrEnum):
    """An open dispute ends re-proofed (line active again), suspended at its deadline, or
    closed because the line was cancelled."""

    OPEN = "open"
    REPROOFED = "reproofed"
    SUSPENDED = "suspended"
    LINE_CANCELLED = "line_cancelled"


NOT_CANCELLED = text("status <> 'cancelled'")
IS_OPEN = text("status = 'open'")


class Operator(Base):
    """A carrier in one jurisdiction (ISO 3166 alpha-2), whose profile sets the caps."""

    __tablename__ = "operators"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    jurisdiction: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Person(Base):
    """A subscriber, by pseudonym; the row registrations lock to serialise per person."""

    __tablename__ = "persons"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True)
    pseudonym_key_id: Mapped[str] = mapped_column(String(32))
    name_ct: Mapped[bytes] = mapped_column(LargeBinary)
    birth_date_ct: Mapped[bytes] = mapped_column(LargeBinary)
    template_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # False for rows keyed on a freely typed country (before 0003_bind): possibly split.
    keyed_from_document: Mapped[bool] = mapped_column(Boolean, default=False,
                                                      server_default=false())


class Line(Base):
    """A mobile or broadband line; MSISDN and ICCID are unique among lines not cancelled.

    The numbers are stored sealed (`*_ct`, AES-GCM bound to the row) with a keyed blind index
    (`*_index`, HMAC) that uniqueness and lookups use (simkyc.registry.sealed_numbers)."""

    __tablename__ = "lines"
    __table_args__ = (
        Index(
            "uq_lines_msisdn_live", "msisdn_index", unique=True,
            sqlite_where=NOT_CANCELLED, postgresql_where=NOT_CANCELLED,
        ),
        Index(
            "uq_lines_iccid_live", "iccid_index", unique=True,
            sqlite_where=NOT_CANCELLED, postgresql_where=NOT_CANCELLED,
        ),
        Index("ix_lines_holder_status", "holder_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    msisdn_index: Mapped[str] = mapped_column(String(64), index=True)
    msisdn_ct: Mapped[bytes] = mapped_column(LargeBinary)
    iccid_index: Mapped[str] = mapped_column(String(64))
    iccid_ct: Mapped[bytes] = mapped_column(LargeBinary)
    service: Mapped[ServiceType] = mapped_column(enum_column(ServiceType))
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id"))
    holder_id: Mapped[str] = mapped_column(ForeignKey("persons.id"))
    status: Mapped[LineStatus] = mapped_column(enum_column(LineStatus))
    approved_by: Mapped[str] = mapped_column(ForeignKey("proofing_sessions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_at: Mapped[datetime] = mapped_column(UTCDateTime)
    swapped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    quarantine_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Dispute(Base):
    """A citizen's "not mine": queued to the line's operator until re-proof or the deadline."""

    __tablename__ = "disputes"
    __table_args__ = (
        Index(
            "uq_disputes_line_open", "line_id", unique=True,
            sqlite_where=IS_OPEN, postgresql_where=IS_OPEN,
        ),
        Index("ix_disputes_operator_status", "operator_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    line_id: Mapped[str] = mapped_column(ForeignKey("lines.id"))
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id"))
    status: Mapped[DisputeStatus] = mapped_column(enum_column(DisputeStatus))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(ForeignKey("proofing_sessions.id"))
