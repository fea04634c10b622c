"""The engine pool: as many calls at once as members, each member used by one call at a time,
no global lock (the old single `pipeline_lock` made every request queue behind one). What the
members share of the real models: tests/integration/proofing/test_engine_models.py."""

from __future__ import annotations

import threading
import time
from typing import cast

from simkyc.proofing.engines import EnginePool, Engines


def fake_members(count: int) -> list[Engines]:
    return [cast(Engines, object()) for _ in range(count)]


def test_members_are_checked_out_by_one_call_at_a_time() -> None:
    pool = EnginePool(fake_members(2))
    inside: list[object] = []
    peak = 0
    lock = threading.Lock()
    both_in = threading.Barrier(2, timeout=5)

    def call() -> None:
        nonlocal peak
        with pool.checkout() as member:
            with lock:
                assert member not in inside  # never shared between two calls
                inside.append(member)
                peak = max(peak, len(inside))
            both_in.wait()  # two calls are inside at once: nobody queued on a single lock
            with lock:
                inside.remove(member)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert peak == 2 and pool.idle() == 2


def test_a_call_waits_only_for_a_free_member() -> None:
    pool = EnginePool(fake_members(1))
    started = time.perf_counter()
    waited: list[float] = []

    def second() -> None:
        with pool.checkout():
            waited.append(time.perf_counter() - started)

    with pool.checkout():
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.2)
        assert not waited  # the only member is busy
    thread.join(5)
    assert waited and pool.idle() == 1



def test_a_member_coming_back_runs_the_trimmer() -> None:
    """The trimmer (malloc_trim in a worker) runs once per checkout, also when the call fails."""
    calls: list[int] = []
    pool = EnginePool(fake_members(1), trimmer=lambda: calls.append(pool.idle()))
    with pool.checkout():
        pass
    try:
        with pool.checkout():
            raise RuntimeError("inference failed")
    except RuntimeError:
        pass
    assert calls == [0, 0] and pool.idle() == 1  # run before the member is free again
