"""The audit log becomes a transparency log: entries take their number from a sequence (no
head row to lock), record their transaction id, and are folded by an integrator into a
Merkle tree (tlog_leaves, tlog_nodes) with signed checkpoints (tlog_checkpoints). The old
hash chain's entries keep their numbers and become the first leaves, in order (txid 0).

Revision ID: 0003_tlog
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003_tlog"
down_revision: str | None = "0002"
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


def downgrade() -> None:
    """Back to the head row (its seq and hash: the newest entry's). Entries written since
    the upgrade are not chained: the old verify reports them."""
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
