"""The audit log becomes a transparency log: entries take their number from a sequence (no
head row to lock), record their transaction id, and are folded by an integrator into a
Merkle tree (tlog_leaves, tlog_nodes) with signed checkpoints (tlog_checkpoints). The old
hash chain's entries keep their numbers and become the first leaves, in order (txid 0).

Lines' MSISDN and ICCID are sealed with a keyed blind index (simkyc.registry.sealed_numbers)
instead of stored in clear, and stored idempotency replies that hold them are sealed. Rows
that exist are converted with the deployment's keyring (SIMKYC_KEYRING / the key file),
loaded only when there are rows to convert.

Revision ID: 0003_tlog
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003_tlog"
down_revision: str | None = "0003_core"
branch_labels: str | None = None
depends_on: str | None = None

GENESIS_HASH = "0" * 64
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    # A constant default fills existing rows without an UPDATE (the append-only trigger stays).
    op.add_column("audit_entries", sa.Column("txid", sa.BigInteger(), nullable=False,
                                             server_default=sa.text("0")))
    op.create_index("ix_audit_entries_txid_seq", "audit_entries", ["txid", "seq"])
    if postgres:
        op.execute("ALTER TABLE audit_entries ALTER COLUMN txid "
                   "SET DEFAULT (pg_current_xact_id()::text)::bigint")
        op.execute("CREATE SEQUENCE audit_entries_seq_seq OWNED BY audit_entries.seq")
        op.execute("SELECT setval('audit_entries_seq_seq', "
                   "COALESCE((SELECT max(seq) FROM audit_entries), 0) + 1, false)")
        op.execute("ALTER TABLE audit_entries ALTER COLUMN seq "
                   "SET DEFAULT nextval('audit_entries_seq_seq')")
    # SQLite: seq is the rowid, numbered by the (single) writer.
    op.create_table(
        "tlog_leaves",
        sa.Column("idx", SEQ, autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("idx", name="pk_tlog_leaves"),
        sa.UniqueConstraint("seq", name="uq_tlog_leaves_seq"),
    )
    op.create_table(
        "tlog_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name="pk_tlog_nodes"),
    )
    op.create_table(
        "tlog_checkpoints",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(40), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("size", name="pk_tlog_checkpoints"),
    )
    op.drop_table("audit_head")
    _seal_numbers()


NOT_CANCELLED = sa.text("status <> 'cancelled'")


def _keyring() -> Any:
    from simkyc.config import get_settings
    from simkyc.privacy.keyring import load_keyring

    return load_keyring(get_settings())


def _seal_numbers() -> None:
    bind = op.get_bind()
    for kind in ("msisdn", "iccid"):
        op.add_column("lines", sa.Column(f"{kind}_index", sa.String(64), nullable=False,
                                         server_default=""))
        op.add_column("lines", sa.Column(f"{kind}_ct", sa.LargeBinary(), nullable=False,
                                         server_default=sa.text("''")))
    rows = bind.execute(sa.text("SELECT id, msisdn, iccid FROM lines")).all()
    if rows:
        from simkyc.registry.sealed_numbers import number_columns

        keyring = _keyring()
        for line_id, msisdn, iccid in rows:
            bind.execute(sa.text(
                "UPDATE lines SET msisdn_index = :msisdn_index, msisdn_ct = :msisdn_ct, "
                "iccid_index = :iccid_index, iccid_ct = :iccid_ct WHERE id = :id"),
                {"id": line_id, **number_columns(keyring, line_id=line_id, msisdn=msisdn,
                                                 iccid=iccid)})
    _convert_replies(_sealed)
    for name in ("ix_lines_msisdn", "uq_lines_msisdn_live", "uq_lines_iccid_live"):
        op.drop_index(name, table_name="lines")
    for kind in ("msisdn", "iccid"):
        op.execute(f"ALTER TABLE lines DROP COLUMN {kind}")
        if bind.dialect.name == "postgresql":
            for column in (f"{kind}_index", f"{kind}_ct"):
                op.execute(f"ALTER TABLE lines ALTER COLUMN {column} DROP DEFAULT")
        op.create_index(f"uq_lines_{kind}_live", "lines", [f"{kind}_index"], unique=True,
                        sqlite_where=NOT_CANCELLED, postgresql_where=NOT_CANCELLED)
    op.create_index("ix_lines_msisdn_index", "lines", ["msisdn_index"])


def _sealed(keyring: Any, principal: str, key: str, text: str) -> str:
    from simkyc.records.idempotent import sealed_response

    return str(sealed_response(keyring, principal_id=principal, key=key, text=text))


def _opened(keyring: Any, principal: str, key: str, text: str) -> str:
    from simkyc.records.idempotent import opened_response

    return str(opened_response(keyring, principal_id=principal, key=key, stored=text))


def _convert_replies(convert: Callable[[Any, str, str, str], str]) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT principal_id, key, response FROM idempotency_keys WHERE operation IN "
        "('register', 'swap', 'cancel', 'selfservice.dispute', 'dispute.resolve')")).all()
    if not rows:
        return
    keyring = _keyring()
    for principal, key, text in rows:
        bind.execute(sa.text("UPDATE idempotency_keys SET response = :r "
                             "WHERE principal_id = :p AND key = :k"),
                     {"r": convert(keyring, principal, key, text), "p": principal, "k": key})


def _open_numbers() -> None:
    bind = op.get_bind()
    for name in ("ix_lines_msisdn_index", "uq_lines_msisdn_live", "uq_lines_iccid_live"):
        op.drop_index(name, table_name="lines")
    op.add_column("lines", sa.Column("msisdn", sa.String(16), nullable=False,
                                     server_default=""))
    op.add_column("lines", sa.Column("iccid", sa.String(20), nullable=False,
                                     server_default=""))
    rows = bind.execute(sa.text("SELECT id, msisdn_ct, iccid_ct FROM lines")).all()
    if rows:
        from simkyc.registry.sealed_numbers import NumberKind, open_number

        keyring = _keyring()
        for line_id, msisdn_ct, iccid_ct in rows:
            bind.execute(sa.text("UPDATE lines SET msisdn = :m, iccid = :i WHERE id = :id"), {
                "id": line_id,
                "m": open_number(keyring, NumberKind.MSISDN, msisdn_ct, line_id=line_id),
                "i": open_number(keyring, NumberKind.ICCID, iccid_ct, line_id=line_id)})
    _convert_replies(_opened)
    for kind in ("msisdn", "iccid"):
        op.execute(f"ALTER TABLE lines DROP COLUMN {kind}_index")
        op.execute(f"ALTER TABLE lines DROP COLUMN {kind}_ct")
        if bind.dialect.name == "postgresql":
            op.execute(f"ALTER TABLE lines ALTER COLUMN {kind} DROP DEFAULT")
        op.create_index(f"uq_lines_{kind}_live", "lines", [kind], unique=True,
                        sqlite_where=NOT_CANCELLED, postgresql_where=NOT_CANCELLED)
    op.create_index("ix_lines_msisdn", "lines", ["msisdn"])


def downgrade() -> None:
    """Numbers back in clear; back to the head row (its seq and hash: the newest entry's).
    Entries written since the upgrade are not chained: the old verify reports them."""
    _open_numbers()
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    last = op.get_bind().execute(sa.text(
        "SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1")).first()
    op.bulk_insert(head, [{"id": 1, "seq": last[0] if last else 0,
                           "hash": last[1] if last else GENESIS_HASH}])
    for table in ("tlog_checkpoints", "tlog_nodes", "tlog_leaves"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_entries ALTER COLUMN seq DROP DEFAULT")
        op.execute("DROP SEQUENCE audit_entries_seq_seq")
    op.drop_index("ix_audit_entries_txid_seq", table_name="audit_entries")
    op.drop_column("audit_entries", "txid")
