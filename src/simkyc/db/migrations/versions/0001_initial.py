"""Initial registry schema: operators, principals, keys, persons, proofing sessions, lines,
disputes, idempotency keys, the audit chain (append-only by trigger) and retained media.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

NOT_CANCELLED = sa.text("status <> 'cancelled'")
IS_OPEN = sa.text("status = 'open'")
GENESIS_HASH = "0" * 64


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _ref(table: str, name: str, target: str, nullable: bool = False) -> sa.Column[str]:
    fk = sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{name}_{target}")
    return sa.Column(name, sa.String(32), fk, nullable=nullable)


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*columns, name=f"pk_{table}")


def upgrade() -> None:
    _accounts()
    _persons_and_sessions()
    _lines_and_disputes()
    _audit()
    _media()


def _accounts() -> None:
    op.create_table(
        "operators",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("jurisdiction", sa.String(8), nullable=False),
        _time("created_at"),
        _pk("operators", "id"),
        sa.UniqueConstraint("name", name="uq_operators_name"),
    )
    op.create_table(
        "persons",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("pseudonym_key_id", sa.String(32), nullable=False),
        sa.Column("name_ct", sa.LargeBinary(), nullable=False),
        sa.Column("birth_date_ct", sa.LargeBinary(), nullable=False),
        sa.Column("template_ct", sa.LargeBinary(), nullable=True),
        _time("created_at"),
        _time("updated_at"),
        _pk("persons", "id"),
        sa.UniqueConstraint("pseudonym", name="uq_persons_pseudonym"),
    )
    op.create_table(
        "principals",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("role", sa.String(24), nullable=False),
        _ref("principals", "operator_id", "operators", nullable=True),
        _ref("principals", "person_id", "persons", nullable=True),
        sa.Column("label", sa.String(200), nullable=False),
        _time("created_at"),
        _time("disabled_at", nullable=True),
        _pk("principals", "id"),
    )
    op.create_index("ix_principals_person_id", "principals", ["person_id"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(16), nullable=False),
        _ref("api_keys", "principal_id", "principals"),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        _time("created_at"),
        _time("expires_at", nullable=True),
        _time("revoked_at", nullable=True),
        _pk("api_keys", "id"),
    )
    op.create_index("ix_api_keys_principal_id", "api_keys", ["principal_id"])
    op.create_table(
        "idempotency_keys",
        _ref("idempotency_keys", "principal_id", "principals"),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("operation", sa.String(32), nullable=False),
        sa.Column("request_sha256", sa.String(64), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        _time("created_at"),
        _pk("idempotency_keys", "principal_id", "key"),
    )


def _persons_and_sessions() -> None:
    op.create_table(
        "proofing_sessions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(24), nullable=False),
        _ref("proofing_sessions", "operator_id", "operators", nullable=True),
        _ref("proofing_sessions", "agent_id", "principals", nullable=True),
        _ref("proofing_sessions", "person_id", "persons"),
        sa.Column("line_id", sa.String(32), nullable=True),
        _time("started_at"),
        _time("consent_at"),
        sa.Column("consent_version", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("face_score", sa.Float(), nullable=True),
        sa.Column("face_threshold", sa.Float(), nullable=True),
        sa.Column("model_id", sa.String(64), nullable=True),
        sa.Column("calibration_id", sa.String(128), nullable=True),
        sa.Column("liveness_verdict", sa.String(24), nullable=True),
        sa.Column("liveness_version", sa.String(64), nullable=True),
        sa.Column("holder_score", sa.Float(), nullable=True),
        sa.Column("holder_threshold", sa.Float(), nullable=True),
        _time("decided_at", nullable=True),
        _ref("proofing_sessions", "decided_by", "principals", nullable=True),
        _time("expires_at", nullable=True),
        _time("consumed_at", nullable=True),
        sa.Column("consumed_for", sa.String(64), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("evidence_sha256", sa.String(64), nullable=True),
        sa.Column("template_ct", sa.LargeBinary(), nullable=True),
        _pk("proofing_sessions", "id"),
    )
    op.create_index("ix_proofing_sessions_line_id", "proofing_sessions", ["line_id"])
    op.create_index("ix_proofing_sessions_person_id", "proofing_sessions", ["person_id"])


def _lines_and_disputes() -> None:
    op.create_table(
        "lines",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("msisdn", sa.String(16), nullable=False),
        sa.Column("iccid", sa.String(20), nullable=False),
        sa.Column("service", sa.String(24), nullable=False),
        _ref("lines", "operator_id", "operators"),
        _ref("lines", "holder_id", "persons"),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("approved_by", sa.String(32), sa.ForeignKey(
            "proofing_sessions.id", name="fk_lines_approved_by_proofing_sessions"),
            nullable=False),
        _time("created_at"),
        _time("status_at"),
        _time("swapped_at", nullable=True),
        _time("quarantine_until", nullable=True),
        _pk("lines", "id"),
    )
    op.create_index("ix_lines_holder_status", "lines", ["holder_id", "status"])
    op.create_index("ix_lines_msisdn", "lines", ["msisdn"])
    for column in ("msisdn", "iccid"):
        op.create_index(f"uq_lines_{column}_live", "lines", [column], unique=True,
                        sqlite_where=NOT_CANCELLED, postgresql_where=NOT_CANCELLED)
    op.create_table(
        "disputes",
        sa.Column("id", sa.String(32), nullable=False),
        _ref("disputes", "line_id", "lines"),
        _ref("disputes", "operator_id", "operators"),
        sa.Column("status", sa.String(24), nullable=False),
        _time("opened_at"),
        _time("deadline"),
        _time("closed_at", nullable=True),
        sa.Column("resolved_by", sa.String(32), sa.ForeignKey(
            "proofing_sessions.id", name="fk_disputes_resolved_by_proofing_sessions"),
            nullable=True),
        _pk("disputes", "id"),
    )
    op.create_index("ix_disputes_operator_status", "disputes", ["operator_id", "status"])
    op.create_index("uq_disputes_line_open", "disputes", ["line_id"], unique=True,
                    sqlite_where=IS_OPEN, postgresql_where=IS_OPEN)


def _audit() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=False, nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("actor_id", sa.String(32), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("operator_id", sa.String(32), nullable=True),
        sa.Column("action", sa.String(48), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.String(32), nullable=True),
        sa.Column("object_id", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        _pk("audit_entries", "seq"),
    )
    op.create_index("ix_audit_entries_subject_id", "audit_entries", ["subject_id"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        _pk("audit_head", "id"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS_HASH}])
    _append_only_triggers()


def _append_only_triggers() -> None:
    """UPDATE and DELETE on the audit log fail; the hash chain catches whoever drops these."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION simkyc_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'audit_entries is append-only'; END $$""")
        op.execute("""
            CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
            FOR EACH ROW EXECUTE FUNCTION simkyc_audit_append_only()""")
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(f"""
            CREATE TRIGGER audit_entries_no_{event.lower()} BEFORE {event} ON audit_entries
            BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END""")


def _media() -> None:
    op.create_table(
        "retained_media",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("proofing_id", sa.String(32), sa.ForeignKey(
            "proofing_sessions.id", name="fk_retained_media_proofing_id_proofing_sessions"),
            nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        _time("created_at"),
        _time("purge_after"),
        _pk("retained_media", "id"),
    )
    op.create_index("ix_retained_media_proofing_id", "retained_media", ["proofing_id"])
    op.create_index("ix_retained_media_purge_after", "retained_media", ["purge_after"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION simkyc_audit_append_only()")
    for table in ("retained_media", "audit_head", "audit_entries", "disputes", "lines",
                  "proofing_sessions", "idempotency_keys", "api_keys", "principals", "persons",
                  "operators"):
        op.drop_table(table)
