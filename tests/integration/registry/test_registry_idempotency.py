"""Idempotency records expire: honoured for the retention period, then purged (audited), after
which the key may be used afresh."""

from __future__ import annotations

from datetime import timedelta

import pytest
from registry_world import World
from sqlalchemy import func, select

from simkyc import maintenance
from simkyc.auth.actors import SYSTEM
from simkyc.db.idempotency import IdempotencyRecord
from simkyc.errors import IdempotencyKeyReused
from simkyc.privacy.models import AuditEntry

DAY = timedelta(hours=24)


def records(world: World) -> int:
    return world.db.execute(select(func.count()).select_from(IdempotencyRecord)).scalar_one()


def test_records_are_kept_for_the_retention_then_purged(world: World) -> None:
    agent = world.operator("CN Mobile", "CN")
    person = world.applicant("110105194912310021")
    first = world.register(agent, person, key="k-1")
    world.register(agent, person, key="k-2")
    world.tick(hours=12)
    world.register(agent, person, key="k-3")
    world.tick(hours=11)
    purge = maintenance.purge_idempotency_keys
    assert purge(world.db, actor=SYSTEM, now=world.now, retention=DAY) == 0
    with pytest.raises(IdempotencyKeyReused):  # still honoured: k-1 names the first line
        world.register(agent, person, key="k-1")
    world.tick(hours=2)
    assert purge(world.db, actor=SYSTEM, now=world.now, retention=DAY) == 2
    assert records(world) == 1  # k-3 is 13 hours old
    again = world.register(agent, person, key="k-1")  # a fresh key now: a new line
    assert again.id != first.id
    purged = world.db.execute(select(AuditEntry.detail).where(
        AuditEntry.action == "idempotency.purged")).scalars().all()
    assert purged == ['{"count":0}', '{"count":2}']
