"""No ID number, name, birth date, face template, retained image, phone number or ICCID in
clear anywhere in the database - stored idempotent replies included: every table dumped
(both backends), and the SQLite file's own bytes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
from registry_world import MODEL, World, iccid, migrated_engine, unit_vector
from sqlalchemy import select
from sqlalchemy.orm import Session

from simkyc.auth.actors import Actor
from simkyc.auth.keys import authenticate
from simkyc.auth.models import Role
from simkyc.db.engine import session_factory
from simkyc.privacy.keyring import Keyring
from simkyc.privacy.models import MediaKind
from simkyc.privacy.pseudonyms import DocumentIdentity
from simkyc.privacy.retention import RetentionPolicy, retain_image
from simkyc.privacy.templates import Template
from simkyc.proofing.models import Purpose
from simkyc.records.models import Line
from simkyc.records.persons import Applicant
from simkyc.registry import lines, selfservice
from simkyc.rules.profiles import default_profiles
from simkyc.tables import metadata

NUMBER = "11010519491231002X"
NAME = "ZHANG Xiaoming 张小明"
BORN = date(1949, 12, 31)
IMAGE = b"\xff\xd8\xff\xe0JFIF-selfie-pixels-of-zhang"
TEMPLATE = Template(MODEL, unit_vector(5))
NEEDLES = (NUMBER, NUMBER.lower(), "110105-19491231-002X", "ZHANG Xiaoming", "张小明",
           "Xiaoming", "1949-12-31", "19491231", "31/12/1949", "31.12.1949")
MSISDN, ICCID = "+8613912345678", iccid(77_777)
SYSTEM_ADMIN = Actor(principal_id="admin", role=Role.ADMIN)
LINE_NEEDLES = (MSISDN, MSISDN[1:], MSISDN[3:], ICCID, ICCID[:-1])


def populate(world: World) -> None:
    """A person through every path that stores something about them."""
    agent = world.operator("China Mobile", "CN")
    zhang = Applicant(DocumentIdentity("cn_resident_id", "CN", NUMBER), NAME, BORN)
    line = world.register(agent, zhang, msisdn=MSISDN, probe=TEMPLATE, key="register-1")
    session = world.proofed(agent, zhang, purpose=Purpose.SIM_SWAP, line_id=line.id,
                            probe=TEMPLATE)
    lines.swap_sim(world.db, actor=agent, line_id=line.id, proofing_id=session.id,
                   iccid=ICCID, keyring=world.keyring, now=world.now,
                   idempotency_key="swap-1")
    retain_image(world.db, policy=RetentionPolicy(enabled=True, days=30), keyring=world.keyring,
                 proofing_id=session.id, kind=MediaKind.SELFIE, image=IMAGE, now=world.now)
    world.db.commit()
    token = selfservice.issue_citizen_token(
        world.db, proofing_id=world.proofed(agent, zhang, purpose=Purpose.SELF_SERVICE,
                                          probe=TEMPLATE).id,
        ttl_s=900, now=world.now)
    me = authenticate(world.db, token=token.token, now=world.now)
    selfservice.dispute_line(world.db, actor=me, line_id=line.id, reproof_hours=72,
                             keyring=world.keyring, now=world.now)


def dump(db: Session) -> tuple[str, bytes]:
    """Every row of every table: text values joined, binary values joined."""
    texts: list[str] = []
    blobs: list[bytes] = []
    for table in metadata.sorted_tables:
        for row in db.execute(select(table)).all():
            for value in row:
                if isinstance(value, bytes | memoryview):
                    blobs.append(bytes(value))
                else:
                    texts.append(str(value))
    return "\n".join(texts), b"\n".join(blobs)


def assert_nothing_in_clear(text: str, data: bytes) -> None:
    template_bytes = np.asarray(TEMPLATE.embedding, "<f4").tobytes()
    for needle in NEEDLES:
        assert needle not in text, needle
        assert needle.encode() not in data, needle
    assert IMAGE not in data and IMAGE[4:] not in data
    assert template_bytes[:16] not in data


def assert_no_line_number(text: str, data: bytes) -> None:
    for needle in LINE_NEEDLES:
        assert needle not in text, needle
        assert needle.encode() not in data, needle


def test_no_line_number_in_any_table_or_stored_reply(world: World) -> None:
    populate(world)
    text, data = dump(world.db)
    assert "swap-1" in text and "register-1" in text  # the stored replies were dumped
    assert_no_line_number(text, data)
    agent_line = world.db.execute(select(Line)).scalars().one()
    view = lines.get_line(world.db, actor=SYSTEM_ADMIN, line_id=agent_line.id,
                          keyring=world.keyring, now=world.now)
    assert (view.msisdn, view.iccid) == (MSISDN, ICCID)  # and they still read back


def test_no_personal_data_in_any_table(world: World) -> None:
    populate(world)
    text, data = dump(world.db)
    assert "line.disputed" in text and len(data) > 0  # the dump did see the data
    assert_nothing_in_clear(text, data)


def test_no_personal_data_in_the_sqlite_file(tmp_path: Path, keyring: Keyring) -> None:
    with migrated_engine("sqlite", tmp_path) as engine:
        with session_factory(engine, keyring)() as db:
            populate(World(db=db, keyring=keyring, profiles=default_profiles()))
        url = engine.url.database
    assert url is not None
    files = [p for p in tmp_path.iterdir() if p.name.startswith(Path(url).name)]
    raw = b"".join(p.read_bytes() for p in files)
    assert len(raw) > 50_000 and b"line.disputed" in raw
    assert_nothing_in_clear(raw.decode("utf-8", "replace"), raw)
    assert_no_line_number(raw.decode("utf-8", "replace"), raw)
