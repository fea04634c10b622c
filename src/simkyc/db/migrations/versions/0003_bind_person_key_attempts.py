"""Persons keyed from the document, attempt counters in the database, keyed request digests.

- `persons.keyed_from_document`: false for every row made while the issuing country was typed
  freely (they may be split: `simkyc admin find-split-persons`); set when a row is made or
  re-keyed from the validated document.
- `attempts`: one row per attempt in a bucket (self-service per person/session/device,
  `/v1/faces/verify` per API key), counted over a window by every process alike.
- The idempotency records' digests were plain SHA-256 of the typed applicant data (a dump
  gave the ID number back by enumeration); the migration cannot key them (it has no keys),
  so it deletes them: a retry of a request made before the upgrade acts afresh.

Revision ID: 0003_bind
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003_bind"
down_revision: str | None = "0003_tlog"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Plain ADD/DROP COLUMN (SQLite >= 3.35 has both): a batch copy would drop and recreate
    # `persons`, which the foreign keys of lines and sessions refuse once rows exist.
    op.add_column("persons", sa.Column("keyed_from_document", sa.Boolean(), nullable=False,
                                       server_default=sa.false()))
    op.create_table(
        "attempts",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("bucket", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_attempts"),
    )
    op.create_index("ix_attempts_bucket", "attempts", ["bucket"])
    op.create_index("ix_attempts_at", "attempts", ["at"])
    op.execute("DELETE FROM idempotency_keys")


def downgrade() -> None:
    op.drop_index("ix_attempts_at", table_name="attempts")
    op.drop_index("ix_attempts_bucket", table_name="attempts")
    op.drop_table("attempts")
    op.drop_column("persons", "keyed_from_document")
