"""The deployment under test (cluster_world.py), started once for the module that uses it,
and the evidence of the API tests: a SPECIMEN card carrying the head-turn video's face, a
selfie from its last frame, and the video."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from shared_files import require

sys.path.insert(0, str(Path(__file__).parents[1] / "integration" / "registry"))
sys.path.insert(0, str(Path(__file__).parents[1] / "integration" / "api"))

from api_world import PERFORMED, Shots, shots_of
from cluster_world import HAPROXY, POSTGRES_SH, Cluster, running_cluster


@pytest.fixture(scope="session")
def shots(headturn: Path) -> Shots:
    return shots_of(headturn.read_bytes())


@pytest.fixture(scope="module")
def cluster(shots: Shots) -> Iterator[Cluster]:
    """PostgreSQL + two `simkyc serve` processes + HAProxy, for the whole module."""
    require(HAPROXY, "Debian's haproxy (run.sh installs it)")
    require(POSTGRES_SH, "scripts/postgres.sh")
    with running_cluster(2, tuple(a.value for a in PERFORMED)) as running:
        yield running
