"""The server's and disk's commit ceiling: pgbench's one-row-insert transaction on the same
PostgreSQL, at the same client counts, in the same run as a registry benchmark.

What it measures
    `pgbench -c N` (PostgreSQL's own C client: next to no client CPU) committing
    `INSERT INTO bench_ceiling (v) VALUES (:client_id)` one row per transaction, with the
    server's durability settings as they are (fsync, synchronous_commit): the most durable
    commits per second this server, disk and machine give at N clients. A service's single
    registrations per second over it is the share of that ceiling it reaches; their ratio is
    steadier than either figure on a machine shared with other work.

Needs
    Debian's pgbench (the postgresql package scripts/postgres.sh installs) on this machine;
    without it the ceiling is skipped with a note.

Run alone
    .venv/bin/python bench/pg_ceiling.py --url "$URL" [--clients 1 4 16] [--seconds 10]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

TABLE = "bench_ceiling"
SCRIPT = f"INSERT INTO {TABLE} (v) VALUES (:client_id);\n"


def pgbench() -> str | None:
    """Debian's pgbench (the newest installed server version), or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))
    return str(found[-1]) if found else None


def ceiling(url: str, *, clients: int, seconds: float) -> float | None:
    """Committed one-row-insert transactions per second with `clients` pgbench clients, or
    None without pgbench. The table is made for the run and dropped after it."""
    binary = pgbench()
    if binary is None:
        return None
    parsed = make_url(url)
    engine = create_engine(parsed.set(drivername="postgresql+psycopg"))
    try:
        with engine.begin() as connection:
            connection.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
            connection.execute(text(f"CREATE TABLE {TABLE} (id bigserial PRIMARY KEY, v int)"))
        with tempfile.NamedTemporaryFile("w", suffix=".sql") as script:
            script.write(SCRIPT)
            script.flush()
            command = [binary, "-n", "-f", script.name, "-c", str(clients),
                       "-j", str(min(clients, 2)), "-T", str(max(1, round(seconds))),
                       "-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432),
                       "-U", parsed.username or "postgres", parsed.database or "postgres"]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
        with engine.begin() as connection:
            connection.execute(text(f"DROP TABLE {TABLE}"))
    finally:
        engine.dispose()
    return tps(done.stdout)


def tps(report: str) -> float:
    """pgbench's `tps = N (without initial connection time)` figure."""
    match = re.search(r"^tps = ([0-9.]+) \(without", report, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no tps in pgbench's report:\n{report}")
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--url", required=True, help="PostgreSQL SQLAlchemy URL")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    for clients in args.clients:
        rate = ceiling(args.url, clients=clients, seconds=args.seconds)
        print(f"pgbench one-row insert, {clients:2d} clients: "
              + ("pgbench not installed" if rate is None else f"{rate:8.0f} commits/s"))


if __name__ == "__main__":
    main()
