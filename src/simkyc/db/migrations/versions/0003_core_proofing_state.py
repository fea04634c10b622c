"""Everything a pending proofing session holds between its steps moves into the database:
held evidence (sealed), idempotency replies of its uploads (sealed), liveness challenges
(nonces as SHA-256), attempts and lockouts.

Revision ID: 0003_core
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003_core"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _blob(name: str, nullable: bool = True) -> sa.Column[bytes]:
    return sa.Column(name, sa.LargeBinary(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "proofing_state",
        sa.Column("id", sa.String(32), nullable=False),
        _blob("typed_ct", nullable=False), _blob("checks_ct", nullable=False),
        _blob("text_checks_ct"), _blob("document_ct"), _blob("selfie_ct"), _blob("liveness_ct"),
        sa.Column("document_sha256", sa.String(64), nullable=True),
        sa.Column("selfie_sha256", sa.String(64), nullable=True),
        _time("created_at"), _time("expires_at"),
        sa.PrimaryKeyConstraint("id", name="pk_proofing_state"),
    )
    op.create_index("ix_proofing_state_expires_at", "proofing_state", ["expires_at"])
    op.create_table(
        "proofing_replies",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("proofing_id", sa.String(32), nullable=False),
        sa.Column("request_sha256", sa.String(64), nullable=False),
        _blob("response_ct", nullable=False),
        _time("expires_at"),
        sa.PrimaryKeyConstraint("id", name="pk_proofing_replies"),
    )
    op.create_index("ix_proofing_replies_proofing_id", "proofing_replies", ["proofing_id"])
    op.create_index("ix_proofing_replies_expires_at", "proofing_replies", ["expires_at"])
    op.create_table(
        "liveness_challenges",
        sa.Column("nonce_sha256", sa.String(64), nullable=False),
        sa.Column("proofing_id", sa.String(32), nullable=False),
        sa.Column("actions", sa.Text(), nullable=False),
        sa.Column("slot_s", sa.Float(), nullable=True),
        _time("issued_at"), _time("expires_at"),
        _time("used_at", nullable=True), _time("closed_at", nullable=True),
        sa.PrimaryKeyConstraint("nonce_sha256", name="pk_liveness_challenges"),
    )
    op.create_index("ix_liveness_challenges_proofing_id", "liveness_challenges",
                    ["proofing_id"])
    op.create_index("ix_liveness_challenges_expires_at", "liveness_challenges", ["expires_at"])
    op.create_table(
        "liveness_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(96), nullable=False),
        _time("at"),
        sa.PrimaryKeyConstraint("id", name="pk_liveness_attempts"),
    )
    op.create_index("ix_liveness_attempts_key", "liveness_attempts", ["key"])
    op.create_index("ix_liveness_attempts_at", "liveness_attempts", ["at"])
    op.create_table(
        "liveness_lockouts",
        sa.Column("key", sa.String(96), nullable=False),
        _time("until"),
        sa.PrimaryKeyConstraint("key", name="pk_liveness_lockouts"),
    )
    op.create_index("ix_liveness_lockouts_until", "liveness_lockouts", ["until"])


def downgrade() -> None:
    for table in ("liveness_lockouts", "liveness_attempts", "liveness_challenges",
                  "proofing_replies", "proofing_state"):
        op.drop_table(table)
