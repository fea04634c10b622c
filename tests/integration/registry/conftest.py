"""Registry fixtures: real SQLite and real PostgreSQL, each test in a rolled-back transaction.

PostgreSQL comes from SIMKYC_TEST_POSTGRES_URL (scripts/postgres.sh prints one); without it
the PostgreSQL cases fail in CI and skip elsewhere. Each test session works in a scratch
database created on that server and dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from registry_world import World, migrated_engine
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from simkyc.db.idempotency import digest_info
from simkyc.privacy.keyring import Keyring
from simkyc.rules.profiles import JurisdictionProfile, default_profiles

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session", params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Engine]:
    with migrated_engine(request.param, tmp_path_factory.mktemp("registry")) as engine:
        yield engine


@pytest.fixture
def db(engine: Engine, keyring: Keyring) -> Iterator[Session]:
    """A session whose commits are savepoints inside one transaction rolled back at the end."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint",
                      expire_on_commit=False, info=digest_info(keyring))
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@pytest.fixture(scope="session")
def keyring() -> Keyring:
    return Keyring.generate()


@pytest.fixture
def profiles() -> dict[str, JurisdictionProfile]:
    return default_profiles()


@pytest.fixture
def world(db: Session, keyring: Keyring, profiles: dict[str, JurisdictionProfile]) -> World:
    return World(db=db, keyring=keyring, profiles=profiles)

