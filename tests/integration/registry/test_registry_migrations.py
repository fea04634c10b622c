"""The packaged migrations build exactly the models' schema, and go down and up again."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from registry_world import BACKENDS, migrated_engine
from sqlalchemy import Engine

from simkyc.db.migrate import current_revision, downgrade, head_revision, upgrade
from simkyc.db.models import metadata


def differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrations_match_the_models_and_reverse(backend: str, tmp_path: Path) -> None:
    with migrated_engine(backend, tmp_path) as engine:
        assert current_revision(engine) == head_revision() == "0003_deploy"
        assert differences(engine) == []
        downgrade(engine, "base")
        assert current_revision(engine) is None
        upgrade(engine)
        upgrade(engine)  # idempotent at head
        assert current_revision(engine) == "0003_deploy"
