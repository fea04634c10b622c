"""The packaged migrations build exactly the models' schema, and go down and up again."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from registry_world import BACKENDS, World, migrated_engine
from sqlalchemy import Engine

from simkyc.auth.actors import Actor
from simkyc.auth.models import Role
from simkyc.db.migrate import current_revision, downgrade, head_revision, upgrade
from simkyc.tables import metadata


def differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrations_match_the_models_and_reverse(backend: str, tmp_path: Path) -> None:
    with migrated_engine(backend, tmp_path) as engine:
        assert current_revision(engine) == head_revision()
        assert differences(engine) == []
        downgrade(engine, "base")
        assert current_revision(engine) is None
        upgrade(engine)
        upgrade(engine)  # idempotent at head
        assert current_revision(engine) == head_revision()


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_old_hash_chain_becomes_the_first_leaves(backend: str, tmp_path: Path) -> None:
    """Entries chained before 0003 keep their numbers and hashes and become leaves 0.., in
    order; new entries follow them."""
    from datetime import UTC, datetime

    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from simkyc.auth.actors import SYSTEM
    from simkyc.privacy.canonical import digest
    from simkyc.privacy.keyring import Keyring
    from simkyc.privacy.tlog import LogKeys, integrate, verify_log

    with migrated_engine(backend, tmp_path) as engine:
        downgrade(engine, "0002")
        prev = "0" * 64
        with engine.begin() as connection:
            for seq in (1, 2, 3):
                row = {"seq": seq, "at": "2026-01-01T00:00:00+00:00", "actor_id": "system",
                       "actor_role": "admin", "operator_id": None, "action": "person.read",
                       "purpose": "oversight", "subject_id": None, "object_id": None,
                       "detail": "{}", "prev_hash": prev}
                row["hash"] = prev = digest(row)
                connection.execute(text(
                    "INSERT INTO audit_entries VALUES (:seq, :at, :actor_id, :actor_role, "
                    ":operator_id, :action, :purpose, :subject_id, :object_id, :detail, "
                    ":prev_hash, :hash)"), row)
            connection.execute(text("UPDATE audit_head SET seq = 3, hash = :h"), {"h": prev})
        upgrade(engine)
        keys = LogKeys.from_keyring(Keyring.generate(), origin="simkyc.test/audit")
        now = datetime.now(UTC)
        with Session(engine) as session:
            from simkyc.privacy import audit

            audit.append(session, actor=SYSTEM, action=audit.AuditAction.PERSON_READ,
                         purpose=audit.AccessPurpose.OVERSIGHT, subject_id=None,
                         object_id=None, now=now)
            session.commit()
            done = integrate(session, keys=keys, now=now)
            assert done is not None and done.size == 4
            leaves = session.execute(text("SELECT idx, seq FROM tlog_leaves ORDER BY idx")).all()
            assert [tuple(r) for r in leaves] == [(0, 1), (1, 2), (2, 3), (3, 4)]
            assert verify_log(session, keys=keys).ok


@pytest.mark.parametrize("backend", BACKENDS)
def test_line_numbers_are_sealed_by_the_migration(backend: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines and stored replies of before 0003 (numbers in clear) are sealed with the
    deployment's keyring on upgrade, and opened again on downgrade."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from simkyc.db.idempotency import digest_info
    from simkyc.privacy.keyring import Keyring
    from simkyc.records.models import ServiceType
    from simkyc.registry import lines
    from simkyc.rules.profiles import default_profiles

    keyring = Keyring.generate()
    monkeypatch.setenv("SIMKYC_KEYRING", keyring.to_json())
    with migrated_engine(backend, tmp_path) as engine:
        with Session(engine, expire_on_commit=False, info=digest_info(keyring)) as db:
            world = World(db=db, keyring=keyring, profiles=default_profiles())
            agent = world.operator("China Mobile", "CN")
            line = world.register(agent, world.applicant("A-1"), key="register-1")
        downgrade(engine, "0002")
        with engine.connect() as connection:
            clear = connection.execute(text("SELECT msisdn, iccid FROM lines")).one()
            reply = connection.execute(text("SELECT response FROM idempotency_keys")).scalar()
        assert tuple(clear) == (line.msisdn, line.iccid) and line.msisdn in reply
        upgrade(engine, "0003_tlog")
        with engine.connect() as connection:
            dumped = repr(connection.execute(text("SELECT * FROM lines")).all())
            stored = connection.execute(text("SELECT * FROM idempotency_keys")).all()
            dumped += repr(stored)
        assert stored and line.msisdn not in dumped and line.iccid not in dumped
        upgrade(engine)  # 0003_bind drops the records whose digests were not keyed
        with engine.connect() as connection:
            dumped = repr(connection.execute(text("SELECT * FROM lines")).all())
            assert connection.execute(text("SELECT count(*) FROM idempotency_keys")).scalar() == 0
        assert line.msisdn not in dumped and line.iccid not in dumped
        with Session(engine, info=digest_info(keyring)) as db:
            admin = Actor(principal_id="admin", role=Role.ADMIN)
            assert lines.get_line(db, actor=admin, line_id=line.id, keyring=keyring,
                                  now=world.now) == line
            world = World(db=db, keyring=keyring, profiles=default_profiles())
            again = world.register(agent, world.applicant("A-2"), msisdn="+8613900000001",
                                   key="register-2")
            replayed = lines.register_line(
                db, actor=agent, proofing_id=again.approved_by, msisdn=again.msisdn,
                iccid=again.iccid, service=ServiceType.MOBILE, profiles=world.profiles,
                keyring=keyring, now=world.now, idempotency_key="register-2")
            assert replayed == again  # a sealed, keyed reply replays at head
