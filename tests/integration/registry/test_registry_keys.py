"""Key rotation: data keys re-sealed in place (old keys then removable); pseudonym keys
re-keyed on the next lookup, never creating a second person."""

from __future__ import annotations

from dataclasses import replace

from registry_world import MODEL, World, unit_vector
from sqlalchemy import func, select

from simkyc import maintenance
from simkyc.auth.actors import SYSTEM
from simkyc.auth.models import Role
from simkyc.privacy.audit import AccessPurpose
from simkyc.privacy.crypto import key_id_of
from simkyc.privacy.templates import Template
from simkyc.records.models import Person
from simkyc.registry import lines
from simkyc.tables import SEALED_COLUMNS


def sealed_key_ids(world: World) -> set[str]:
    ids = set()
    for column in SEALED_COLUMNS:
        for value in world.db.execute(select(column).where(column.is_not(None))).scalars():
            ids.add(key_id_of(value))
    return ids


def test_rotating_the_data_key_reseals_everything(world: World) -> None:
    agent = world.operator("China Mobile", "CN")
    line = world.register(agent, world.applicant("A-1", "WANG Fang"),
                          probe=Template(MODEL, unit_vector(9)))
    old = world.keyring.data.active
    assert sealed_key_ids(world) == {old}
    world.keyring = world.keyring.rotate_data_key()
    assert maintenance.reseal_all(world.db, actor=SYSTEM, keyring=world.keyring,
                                  now=world.now) == 5  # name, birth, template, MSISDN, ICCID
    assert sealed_key_ids(world) == {world.keyring.data.active}
    world.keyring = replace(world.keyring, data=world.keyring.data.without(old))
    auditor = world.unbound(Role.AUDITOR)
    person_id = world.db.execute(select(Person.id)).scalar_one()
    details = maintenance.read_person(world.db, actor=auditor, keyring=world.keyring,
                                      person_id=person_id, purpose=AccessPurpose.OVERSIGHT,
                                      now=world.now)
    assert (details.name, details.has_template) == ("WANG Fang", True)
    assert lines.get_line(world.db, actor=auditor, line_id=line.id,
                          keyring=world.keyring, now=world.now) == line


def test_rotating_the_pseudonym_key_keeps_one_person(world: World) -> None:
    agent = world.operator("China Mobile", "CN")
    world.register(agent, world.applicant("A-1"))
    world.keyring = world.keyring.rotate_pseudonym_key()
    world.register(agent, world.applicant("a 1"))  # same document, other spelling
    persons = world.db.execute(select(Person.pseudonym_key_id)).scalars().all()
    assert persons == [world.keyring.pseudonym.active]
    assert world.db.execute(select(func.count(Person.id))).scalar_one() == 1
