"""Lookup of lines by person with millions of lines loaded in PostgreSQL (issue 4: 10M lines,
p99 <= 5 ms).

Load (timed, printed)
    The registry is migrated and emptied, then filled with COPY (psycopg's copy API, text
    format, written in blocks): 3 operators in CN with one agent each, one approved and
    consumed registration session per operator (the `approved_by` of all their lines), then
    `--persons` persons and `--lines` lines. Persons have real pseudonyms (HMAC-SHA256 under
    the keyring's pseudonym key, of synthetic document numbers); the first `--sealed`
    persons have name and birth date really sealed with the project's AES-GCM (bound to
    their row), the bulk carries one fixed dummy ciphertext (sealing is not what is
    measured). Line i belongs to person i mod persons (so a person's lines lie far apart in
    the table, as when registered over time); every 20th line is cancelled; MSISDNs and
    ICCIDs (Luhn-valid) are unique.
    For speed the secondary indexes and primary keys of `persons` and `lines` are dropped
    first and rebuilt after the load from the definitions the migrations created (read back
    from pg_indexes / pg_constraint), and foreign-key triggers are off during COPY
    (session_replication_role = replica): every row refers to rows that exist.

Lookups (timed, printed)
    For `--lookups` persons drawn at random (fixed seed), one thread, through SQLAlchemy:
    - `query`: the statement `registry.selfservice.my_lines` runs (lines joined to
      operators where holder_id = ?, ordered);
    - `holdings`: the statement `registry.batch` runs for the cap check (`standing`, one
      holder, no numbers);
    - `my_lines`: the whole self-service call, which also appends an audit entry and
      commits.

Run
    export URL=$(SIMKYC_PG_DB=simkyc_load scripts/postgres.sh)
    .venv/bin/python bench/registry_load.py --url "$URL" [--lines 10000000] [--persons 2500000]
    (the database is emptied; needs about 6 GB of disk for 10M lines; --lookups-only
    repeats the lookups on what was loaded before)
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
from registry import CAP, agent, person_row, reset, session_row
from sqlalchemy import Engine, insert, select, text

from simkyc.auth.actors import Actor
from simkyc.auth.models import Role
from simkyc.db.base import new_id
from simkyc.db.engine import create_db_engine, session_factory
from simkyc.privacy.crypto import place, seal
from simkyc.privacy.keyring import Keyring, KeySet
from simkyc.privacy.pseudonyms import DocumentIdentity, pseudonym
from simkyc.proofing.models import ProofingSession
from simkyc.records.models import Line, Operator, Person
from simkyc.registry import selfservice
from simkyc.registry.batch import OperatorRef, standing
from simkyc.registry.sealed_numbers import number_columns

BLOCK = 200_000
STAMP = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S+00")
TABLES = ("persons", "lines")


def luhn_digits(bodies: np.ndarray[Any, np.dtype[np.int64]], width: int) -> np.ndarray[Any, Any]:
    """The Luhn check digit of each `width`-digit number (vectorised)."""
    total = np.zeros(len(bodies), dtype=np.int64)
    rest = bodies.copy()
    for position in range(width):  # from the right; the check digit will be position 0
        digit = rest % 10
        rest //= 10
        doubled = digit * 2 if position % 2 == 0 else digit
        total += np.where(doubled > 9, doubled - 9, doubled)
    return (10 - total % 10) % 10


def saved_definitions(connection: Any) -> list[str]:
    """CREATE INDEX / ADD CONSTRAINT statements for the indexes of the bulk tables."""
    indexes = connection.execute(text(
        "SELECT indexdef FROM pg_indexes WHERE tablename = ANY(:t) AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint)"), {"t": list(TABLES)}).scalars().all()
    constraints = connection.execute(text(
        "SELECT format('ALTER TABLE %I ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname,"
        " pg_get_constraintdef(c.oid)) FROM pg_constraint c WHERE c.contype IN ('p', 'u') "
        "AND c.conrelid::regclass::text = ANY(:t)"), {"t": list(TABLES)}).scalars().all()
    referencing = connection.execute(text(
        "SELECT format('ALTER TABLE %I ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname,"
        " pg_get_constraintdef(c.oid)) FROM pg_constraint c WHERE c.contype = 'f' "
        "AND c.confrelid::regclass::text = ANY(:t)"), {"t": list(TABLES)}).scalars().all()
    return [*constraints, *referencing, *indexes]


def drop_indexes(connection: Any) -> None:
    """Drop what saved_definitions() will recreate: foreign keys into, keys and indexes of."""
    fks = connection.execute(text(
        "SELECT c.conrelid::regclass::text, c.conname FROM pg_constraint c WHERE c.contype = "
        "'f' AND c.confrelid::regclass::text = ANY(:t)"), {"t": list(TABLES)}).all()
    for table, name in fks:
        connection.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
    for table in TABLES:
        keys = connection.execute(text(
            "SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u') "
            "AND conrelid::regclass::text = :t"), {"t": table}).scalars().all()
        for name in keys:
            connection.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
    for name in connection.execute(text(
            "SELECT indexname FROM pg_indexes WHERE tablename = ANY(:t)"),
            {"t": list(TABLES)}).scalars().all():
        connection.execute(text(f'DROP INDEX "{name}"'))


def operators(engine: Engine, count: int) -> list[tuple[Actor, str]]:
    """`count` operators in CN, each with an agent and one approved registration session
    (for a placeholder person), which all that operator's loaded lines name as approved_by."""
    factory, keyring, made = session_factory(engine), bench_keyring(), []
    for number in range(count):
        actor = agent(factory, name=f"Load Operator {number}")
        with factory() as db:
            person = person_row(keyring, 10**11 + number)
            db.execute(insert(Person), [person])
            row = session_row(actor, str(person["id"])) | {"consumed_at": person["created_at"]}
            db.execute(insert(ProofingSession), [row])
            db.commit()
        made.append((actor, str(row["id"])))
    return made


def person_block(keyring: Keyring, start: int, stop: int, *, ids: list[str], sealed: int,
                 dummy: str) -> Iterator[str]:
    """COPY text lines for persons start..stop (ids[i] is person i's id)."""
    active = keyring.pseudonym.active
    for i in range(start, stop):
        document = DocumentIdentity("national_id", "CN", f"LOAD{i:012d}")
        name, born = dummy, dummy
        if i < sealed:
            name = "\\\\x" + seal(keyring, b"SYNTHETIC Name",
                                  where=place("persons", "name_ct", ids[i])).hex()
            born = "\\\\x" + seal(keyring, b"1990-01-01",
                                  where=place("persons", "birth_date_ct", ids[i])).hex()
        yield (f"{ids[i]}\t{pseudonym(keyring, document)}\t{active}\t{name}\t{born}\t\\N\t"
               f"{STAMP}\t{STAMP}\n")


def bench_keyring() -> Keyring:
    """A fixed keyring (synthetic data only), so a registry loaded earlier can be read."""
    return Keyring(data=KeySet("d-bench", {"d-bench": bytes(range(32))}),
                   pseudonym=KeySet("p-bench", {"p-bench": bytes(range(32, 64))}))


def line_block(keyring: Keyring, start: int, stop: int, ids: list[str],
               owners: list[tuple[Actor, str]]) -> Iterator[str]:
    """COPY text lines for lines start..stop (numbers sealed, with their blind indexes)."""
    numbers = np.arange(start, stop, dtype=np.int64)
    checks = luhn_digits(numbers + 89 * 10**16, 18).tolist()
    persons = len(ids)
    for offset, i in enumerate(range(start, stop)):
        actor, proofing_id = owners[i % len(owners)]
        status = "cancelled" if i % 20 == 19 else "active"
        line_id = new_id()
        sealed = number_columns(keyring, line_id=line_id, msisdn=f"+8613{i:09d}",
                                iccid=f"89{i:016d}{checks[offset]}")
        numbers_text = "\t".join(
            str(v) if isinstance(v, str) else "\\\\x" + v.hex() for v in (
                sealed["msisdn_index"], sealed["msisdn_ct"], sealed["iccid_index"],
                sealed["iccid_ct"]))
        yield (f"{line_id}\t{numbers_text}\tmobile\t"
               f"{actor.operator_id}\t{ids[i % persons]}\t{status}\t{proofing_id}\t"
               f"{STAMP}\t{STAMP}\t\\N\t\\N\n")


def copy_rows(engine: Engine, statement: str, blocks: Iterator[Iterator[str]]) -> None:
    """One COPY ... FROM STDIN, fed block by block, FK triggers off."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SET session_replication_role = replica")
        with cursor.copy(statement) as copy:
            for block in blocks:
                copy.write("".join(block).encode())
        raw.commit()
    finally:
        raw.close()


def load(engine: Engine, *, persons: int, lines: int, sealed: int) -> dict[str, Any]:
    """Empty registry -> operators, sessions, persons, lines, indexes; timings per step."""
    reset(engine)
    keyring, timings = bench_keyring(), {}
    owners = operators(engine, 3)
    ids = [new_id() for _ in range(persons)]
    with engine.begin() as connection:
        definitions = saved_definitions(connection)
        drop_indexes(connection)
    dummy = "\\\\x" + seal(keyring, b"dummy", where="bulk").hex()
    started = time.perf_counter()
    copy_rows(engine, "COPY persons (id, pseudonym, pseudonym_key_id, name_ct, birth_date_ct, "
              "template_ct, created_at, updated_at) FROM STDIN",
              (person_block(keyring, s, min(s + BLOCK, persons), ids=ids, sealed=sealed,
                            dummy=dummy)
               for s in range(0, persons, BLOCK)))
    timings["copy persons"] = time.perf_counter() - started
    started = time.perf_counter()
    copy_rows(engine, "COPY lines (id, msisdn_index, msisdn_ct, iccid_index, iccid_ct, service, "
              "operator_id, holder_id, status, approved_by, created_at, status_at, swapped_at, "
              "quarantine_until) FROM STDIN",
              (line_block(keyring, s, min(s + BLOCK, lines), ids, owners)
               for s in range(0, lines, BLOCK)))
    timings["copy lines"] = time.perf_counter() - started
    started = time.perf_counter()
    rebuild(engine, definitions)
    timings["indexes + keys + analyze"] = time.perf_counter() - started
    return {"timings": timings, "ids": ids, "operators": owners}


def rebuild(engine: Engine, definitions: list[str]) -> None:
    """Recreate the saved keys and indexes, then ANALYZE."""
    with engine.connect() as connection:
        connection.execute(text("SET maintenance_work_mem = '1GB'"))
        for statement in definitions:
            connection.execute(text(statement))
        connection.commit()
        connection.execute(text("ANALYZE persons"))
        connection.execute(text("ANALYZE lines"))
        connection.commit()


def timed(picks: list[str], call: Callable[[str], object]) -> tuple[float, float, float]:
    """p50, p99 and max of `call(person_id)` in ms."""
    spent = []
    for person_id in picks:
        started = time.perf_counter()
        call(person_id)
        spent.append((time.perf_counter() - started) * 1000)
    spent.sort()
    return spent[len(spent) // 2], spent[int(len(spent) * 0.99)], spent[-1]


def lookups(engine: Engine, ids: list[str], operator_id: str, count: int) -> None:
    """Time the lines-by-person statements for random persons (after a warm-up pass)."""
    rng = random.Random(11)
    with session_factory(engine)() as db:
        operator = db.get(Operator, operator_id)
        assert operator is not None

        def query(person_id: str) -> object:
            return db.execute(select(Line, Operator.name).join(
                Operator, Operator.id == Line.operator_id).where(
                Line.holder_id == person_id).order_by(Line.created_at, Line.id)).all()

        def counts(person_id: str) -> object:
            where = OperatorRef(operator.id, operator.jurisdiction)
            return standing(db.connection(), [], [person_id], where, now=datetime.now(UTC))

        def my_lines(person_id: str) -> object:
            citizen = Actor(principal_id="bench-citizen", role=Role.CITIZEN, person_id=person_id)
            return selfservice.my_lines(db, actor=citizen, keyring=bench_keyring(),
                                        now=datetime.now(UTC))

        for name, call in (("query", query), ("holdings", counts), ("my_lines", my_lines)):
            timed([rng.choice(ids) for _ in range(min(200, count))], call)  # warm-up
            p50, p99, worst = timed([rng.choice(ids) for _ in range(count)], call)
            print(f"  {name:9s} n={count} p50={p50:.2f} ms p99={p99:.2f} ms max={worst:.2f} ms")
            db.rollback()


def already_loaded(engine: Engine) -> tuple[list[str], str]:
    """Person ids and an operator id of a registry loaded earlier (for --lookups-only)."""
    with engine.connect() as connection:
        ids = list(connection.execute(select(Person.id)).scalars())
        operator_id = connection.execute(select(Operator.id).limit(1)).scalar_one()
    return ids, operator_id


def sizes(engine: Engine) -> str:
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class "
            "WHERE relname IN ('persons', 'lines')")).all()
        counts = connection.execute(text(
            "SELECT (SELECT count(*) FROM persons), (SELECT count(*) FROM lines)")).one()
    return f"rows persons={counts[0]} lines={counts[1]}; sizes " + ", ".join(
        f"{name} {size}" for name, size in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description="bulk load + lines-by-person lookups")
    parser.add_argument("--url", required=True, help="PostgreSQL SQLAlchemy URL (emptied!)")
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--persons", type=int, default=2_500_000)
    parser.add_argument("--sealed", type=int, default=10_000,
                        help="persons whose fields are really sealed (the rest: dummy)")
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--lookups-only", action="store_true",
                        help="skip the load: time lookups on the registry loaded before")
    args = parser.parse_args()
    engine = create_db_engine(args.url)
    try:
        if args.lookups_only:
            print(f"  {sizes(engine)}")
            lookups(engine, *already_loaded(engine), args.lookups)
            return
        started = time.perf_counter()
        loaded = load(engine, persons=args.persons, lines=args.lines, sealed=args.sealed)
        total = time.perf_counter() - started
        steps = ", ".join(f"{k} {v:.0f}s" for k, v in loaded["timings"].items())
        print(f"load: {args.lines} lines, {args.persons} persons in {total:.0f}s ({steps})")
        print(f"  {sizes(engine)}; cap per person {CAP} not enforced by the loader "
              f"(avg {args.lines / args.persons:.1f} lines/person)")
        lookups(engine, loaded["ids"], loaded["operators"][0][0].operator_id or "",
                args.lookups)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
