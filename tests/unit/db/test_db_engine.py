"""Engines from settings; SQLite transactions take the write lock at BEGIN."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from simkyc.config import Settings
from simkyc.db.engine import create_db_engine, database_url


def test_the_default_database_is_sqlite_in_the_state_dir(tmp_path: Path) -> None:
    assert database_url(Settings(state_dir=tmp_path, database_url=None)) == (
        f"sqlite:///{tmp_path / 'simkyc.db'}")
    assert database_url(Settings(database_url="postgresql+psycopg://h/db")) == (
        "postgresql+psycopg://h/db")


def test_sqlite_transactions_are_immediate_and_checked(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'sub' / 'x.db'}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        with engine.connect() as first, engine.connect() as second:
            raw = second.connection.dbapi_connection
            assert raw is not None
            raw.execute("PRAGMA busy_timeout = 50")  # outside any transaction
            # Nothing written yet, but BEGIN already took the write lock.
            with first.begin(), pytest.raises(OperationalError, match="locked"):
                second.execute(text("SELECT 1"))
    finally:
        engine.dispose()
