"""What a piece of code sends to PostgreSQL, counted on the wire: libpq's trace of the
protocol on one psycopg connection. The registry's statements go through the driver
(`simkyc.db.driver`), past SQLAlchemy's events, and the pool's checks and psycopg's BEGIN
never reach them, so the round-trip budget (tests) and `bench/registry_profile.py` read the
protocol itself."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any

from psycopg import pq


def wire_round_trips(raw: Any, act: Callable[[], object]) -> list[str]:
    """What `act` sends on the psycopg connection `raw`, one item per round trip: a simple
    Query as `Query "<its text>"` (BEGIN, COMMIT, a ping), an extended-protocol statement
    as `Sync` (the message that ends it)."""
    trips: list[str] = []
    with tempfile.TemporaryFile("w+") as log:
        raw.pgconn.trace(log.fileno())
        raw.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            act()
        finally:
            raw.pgconn.untrace()
        log.seek(0)
        for line in log:
            fields = [*line.rstrip("\n").split("\t"), "", "", "", ""]
            if fields[0] == "F" and fields[2] in ("Query", "Sync"):
                trips.append(f"{fields[2]} {fields[3].strip()}".strip())
    return trips
