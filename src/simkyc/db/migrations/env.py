"""Alembic environment: runs on the connection simkyc.db.migrate hands over (or, from the
`alembic` command line, on an engine built from the settings)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from simkyc.config import get_settings
from simkyc.db.engine import engine_from_settings
from simkyc.tables import metadata

# Two instances starting together must not both migrate: PostgreSQL takes a transaction-level
# advisory lock (an arbitrary constant: "simkyc" in ASCII); SQLite's BEGIN IMMEDIATE suffices.
_PG_MIGRATION_LOCK = 0x73696D6B7963


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                               {"k": _PG_MIGRATION_LOCK})
        context.run_migrations()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = engine_from_settings(get_settings())
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


main()
