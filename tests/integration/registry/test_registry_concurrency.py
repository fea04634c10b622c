"""Caps and idempotency hold under concurrency: 1,000 simultaneous registrations for one person
under a cap of 5 give exactly 5 lines, on SQLite and on PostgreSQL (threads, one session each,
committed data in a scratch database)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from registry_world import BACKENDS, World, iccid, log_verdict, migrated_engine
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from simkyc.auth.actors import Actor
from simkyc.db.engine import session_factory
from simkyc.errors import LineCapExceeded, SimkycError
from simkyc.privacy.keyring import Keyring
from simkyc.privacy.models import AuditEntry
from simkyc.records.models import Line, ServiceType
from simkyc.registry import batch, lines
from simkyc.registry.batch import Registration
from simkyc.registry.sealed_numbers import NumberKind, blind_index
from simkyc.rules.profiles import default_profiles

ATTEMPTS = 1000
POOL = 20  # connections per engine (and twice that with overflow)
BATCHES, BATCH = 20, 10  # 200 attempts, as 20 concurrent batches
RACERS = 8
RETRY_ROUNDS, RETRIES = 5, 50
RETRY_ICCIDS = 50_000  # this module's ICCID seeds: the cap race < 1,000, batches 10,000+,
# racing batches 20,000+ and 30,000+, the commit race 40,000+


@pytest.fixture(scope="module", params=BACKENDS)
def shared_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[Engine]:
    folder: Path = tmp_path_factory.mktemp("concurrency")
    with migrated_engine(request.param, folder, pool_size=POOL) as engine:
        yield engine


def all_at_once(count: int, attempt: Callable[[int], str]) -> Counter[str]:
    """Run `attempt(i)` for i < count, each in its own thread, released together."""
    start, results, lock = threading.Barrier(count), Counter[str](), threading.Lock()

    def run(i: int) -> None:
        start.wait()
        outcome = attempt(i)
        with lock:
            results[outcome] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def setup(factory: sessionmaker[Session], keyring: Keyring, name: str, sessions: int
          ) -> tuple[World, Actor, list[str]]:
    """An operator in CN (cap 5 per operator), its agent, one person, approved sessions."""
    db = factory()
    world = World(db=db, keyring=keyring, profiles=default_profiles())
    agent = world.operator(name, "CN")
    person = world.applicant(f"{name}-110105194912310021")
    ids = [world.proofed(agent, person).id for _ in range(sessions)]
    db.close()
    return world, agent, ids


def test_1000_concurrent_registrations_under_a_cap_of_5(
    shared_engine: Engine, keyring: Keyring
) -> None:
    factory = session_factory(shared_engine, keyring)
    world, agent, proofing_ids = setup(factory, keyring, "cap-race", ATTEMPTS)

    def attempt(i: int) -> str:
        with factory() as db:
            try:
                lines.register_line(
                    db, actor=agent, proofing_id=proofing_ids[i], msisdn=f"+86139{i:08d}",
                    iccid=iccid(i), service=ServiceType.MOBILE, profiles=world.profiles,
                    keyring=keyring, now=world.now)
            except LineCapExceeded:
                return "cap"
            except SimkycError as error:
                return error.code
            return "ok"

    assert all_at_once(ATTEMPTS, attempt) == {"ok": 5, "cap": ATTEMPTS - 5}
    with factory() as db:
        held = db.execute(select(func.count(Line.id)).where(
            Line.operator_id == agent.operator_id)).scalar_one()
        refusals = db.execute(select(func.count(AuditEntry.seq)).where(
            AuditEntry.action == "line.refused")).scalar_one()
        assert (held, refusals) == (5, ATTEMPTS - 5)
        assert log_verdict(db, keyring).ok  # concurrent appends: every entry in the log


def test_concurrent_retries_with_one_idempotency_key_make_one_line(
    shared_engine: Engine, keyring: Keyring
) -> None:
    """RETRY_ROUNDS rounds of RETRIES retries released together, each round one key: one line
    and the same reply for every caller. The numbers are this test's own (ICCID seeds from
    RETRY_ICCIDS): it once took iccid(7), which the cap race above also tries, and when that
    attempt was among the race's 5 winners every retry here was rightly NUMBER_IN_USE."""
    factory = session_factory(shared_engine, keyring)
    world, agent, proofing_ids = setup(factory, keyring, "retry-race", RETRY_ROUNDS)
    replies: dict[int, set[str]] = {round_: set() for round_ in range(RETRY_ROUNDS)}
    for round_, proofing_id in enumerate(proofing_ids):
        msisdn, number = f"+86137{round_:08d}", iccid(RETRY_ICCIDS + round_)
        with factory() as db:  # nothing else in this module holds them
            assert not db.execute(select(Line.id).where(Line.iccid_index == blind_index(
                keyring, NumberKind.ICCID, number))).first()

        def attempt(_: int, proofing_id: str = proofing_id, msisdn: str = msisdn,
                    number: str = number, round_: int = round_) -> str:
            with factory() as db:
                try:
                    line = lines.register_line(
                        db, actor=agent, proofing_id=proofing_id, msisdn=msisdn, iccid=number,
                        service=ServiceType.MOBILE, profiles=world.profiles, keyring=keyring,
                        now=world.now, idempotency_key=f"retry-{round_}")
                except SimkycError as error:
                    return error.code
                replies[round_].add(line.model_dump_json())
                return "ok"

        assert all_at_once(RETRIES, attempt) == {"ok": RETRIES}
        assert len(replies[round_]) == 1  # the same line, numbers and all, for every caller
    with factory() as db:
        assert db.execute(select(func.count(Line.id)).where(
            Line.operator_id == agent.operator_id)).scalar_one() == RETRY_ROUNDS


def test_concurrent_batches_for_one_person_hold_the_cap(
    shared_engine: Engine, keyring: Keyring
) -> None:
    factory = session_factory(shared_engine, keyring)
    world, agent, proofing_ids = setup(factory, keyring, "batch-race", BATCHES * BATCH)

    def attempt(b: int) -> str:
        items = [Registration(proofing_ids[i], f"+86136{i:08d}", iccid(10_000 + i))
                 for i in range(b * BATCH, (b + 1) * BATCH)]
        with factory() as db:
            done = batch.register_lines(db, actor=agent, items=items, profiles=world.profiles,
                                        keyring=keyring, now=world.now)
        return ",".join(sorted({o.error.code if o.error else "ok" for o in done}))

    all_at_once(BATCHES, attempt)
    with factory() as db:
        held = db.execute(select(func.count(Line.id)).where(
            Line.operator_id == agent.operator_id)).scalar_one()
        refusals = db.execute(select(func.count(AuditEntry.seq)).where(
            AuditEntry.action == "line.refused",
            AuditEntry.operator_id == agent.operator_id)).scalar_one()
        assert (held, refusals) == (5, BATCHES * BATCH - 5)
        assert log_verdict(db, keyring).ok


def test_batches_racing_for_one_number_give_it_to_one_holder(
    shared_engine: Engine, keyring: Keyring
) -> None:
    """Different persons take no common lock: the live-number index decides, and the losing
    batch is judged again (its other items still go through)."""
    factory = session_factory(shared_engine, keyring)
    db = factory()
    world = World(db=db, keyring=keyring, profiles=default_profiles())
    agent = world.operator("number-race", "CN")
    people = [world.applicant(f"number-race-{i}") for i in range(RACERS)]
    contested = [world.proofed(agent, p).id for p in people]
    own = [world.proofed(agent, p).id for p in people]
    db.close()

    def attempt(i: int) -> str:
        items = [Registration(contested[i], "+8613500000001", iccid(20_000 + i)),
                 Registration(own[i], f"+86135{100 + i:08d}", iccid(30_000 + i))]
        with factory() as session:
            done = batch.register_lines(session, actor=agent, items=items,
                                        profiles=world.profiles, keyring=keyring,
                                        now=world.now)
        assert done[1].line is not None
        return done[0].error.code if done[0].error else "ok"

    results = all_at_once(RACERS, attempt)
    assert results["ok"] == 1 and sum(results.values()) == RACERS
    assert set(results) <= {"ok", "TRANSFER_FORBIDDEN"}


def test_a_batch_that_loses_a_number_at_commit_is_judged_again(
    shared_engine: Engine, keyring: Keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another transaction holds an uncommitted line with the contested number: on PostgreSQL
    the batch reads the number free, blocks on the unique index, fails when the other
    commits, and is judged again (the number refused, its other item registered); on SQLite
    the batch waits for the write lock and sees the number at once."""
    factory = session_factory(shared_engine, keyring)
    db = factory()
    world = World(db=db, keyring=keyring, profiles=default_profiles())
    agent = world.operator("commit-race", "CN")
    rival, person = world.applicant("commit-race-1"), world.applicant("commit-race-2")
    rivals = world.proofed(agent, rival).id
    contested, own = world.proofed(agent, person).id, world.proofed(agent, person).id
    db.close()
    judged = Counter[str]()
    real = batch._judge_and_write

    def counted(*args: Any, **kwargs: Any) -> list[batch.Outcome]:
        judged["passes"] += 1
        return real(*args, **kwargs)

    with factory() as holder:
        lines.register_line(holder, actor=agent, proofing_id=rivals, msisdn="+8613400000001",
                            iccid=iccid(40_000), service=ServiceType.MOBILE,
                            profiles=world.profiles, keyring=keyring, now=world.now)
    monkeypatch.setattr(batch, "_judge_and_write", counted)  # (register_line is a batch too)
    outcome: list[list[batch.Outcome]] = []
    with shared_engine.connect() as blocker:  # the rival's line takes the contested number,
        blocker.execute(text("UPDATE lines SET msisdn_index = :new WHERE msisdn_index = :old"),
                        {"new": blind_index(keyring, NumberKind.MSISDN, "+8613400000002"),
                         "old": blind_index(keyring, NumberKind.MSISDN, "+8613400000001")}
                        )  # uncommitted for now
        items = [Registration(contested, "+8613400000002", iccid(40_001)),
                 Registration(own, "+8613400000003", iccid(40_002))]

        def run() -> None:
            with factory() as session:
                outcome.append(batch.register_lines(
                    session, actor=agent, items=items, profiles=world.profiles,
                    keyring=keyring, now=world.now))

        thread = threading.Thread(target=run)
        thread.start()
        if shared_engine.dialect.name == "postgresql":
            wait_for_a_lock_wait(shared_engine)
        blocker.commit()
        thread.join()
    (first, second), = outcome
    assert first.error is not None and first.error.code == "TRANSFER_FORBIDDEN"
    assert second.line is not None
    assert judged["passes"] == (2 if shared_engine.dialect.name == "postgresql" else 1)


def wait_for_a_lock_wait(engine: Engine, timeout_s: float = 10.0) -> None:
    """Until some backend of this database waits on a lock (the batch, on the index)."""
    deadline = time.monotonic() + timeout_s
    query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                 "AND wait_event_type = 'Lock'")
    with engine.connect() as watcher:
        while watcher.execute(query).scalar_one() == 0:
            assert time.monotonic() < deadline, "the batch never blocked"
            watcher.rollback()
            time.sleep(0.02)
