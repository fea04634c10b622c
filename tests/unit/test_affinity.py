"""`serve --cpu-affinity`: each worker on its own CPU set, claimed through a locked slot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from simkyc.affinity import (
    SLOTS_DIR,
    claim_slot,
    core_sets,
    pin_process,
    pin_worker_from_environment,
    write_slots,
)

SRC = Path(__file__).resolve().parents[2] / "src"
linux_only = pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="Linux only")


def test_core_sets_give_each_worker_its_own_cpus() -> None:
    assert core_sets([0, 1], 2, 1) == [(0,), (1,)]
    assert core_sets([0, 1, 2, 3], 2, 2) == [(0, 1), (2, 3)]
    assert core_sets([4, 5, 6, 7], 1, 1) == [(4,)]  # one worker of one core: one CPU
    assert core_sets([0, 1], 3, 1) == [(0,), (1,), (0,)]  # more workers than CPUs: in turn
    assert core_sets([0, 1], 1, 4) == [(0, 1)]  # never more CPUs than there are
    with pytest.raises(ValueError):
        core_sets([], 1, 1)


def test_a_taken_slot_is_skipped_and_freed_when_its_holder_closes(tmp_path: Path) -> None:
    write_slots(tmp_path, [(0,), (1,)])
    first, second = claim_slot(tmp_path), claim_slot(tmp_path)
    assert first is not None and second is not None
    assert (first.slot, first.cpus, second.slot, second.cpus) == (0, (0,), 1, (1,))
    assert claim_slot(tmp_path) is None  # both held
    os.close(first.fd)  # the worker died: the kernel drops its lock
    again = claim_slot(tmp_path)
    assert again is not None and again.cpus == (0,)
    for claim in (second, again):
        os.close(claim.fd)


def test_without_the_slots_folder_nothing_is_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SLOTS_DIR, raising=False)
    assert pin_worker_from_environment() is None


@linux_only
def test_pinning_moves_every_thread_of_the_process() -> None:
    import threading

    cpus = sorted(os.sched_getaffinity(0))
    started, stop = threading.Event(), threading.Event()
    thread = threading.Thread(target=lambda: (started.set(), stop.wait()))
    thread.start()
    started.wait()
    try:
        pin_process(cpus[:1])
        for task in Path("/proc/self/task").iterdir():
            assert os.sched_getaffinity(int(task.name)) == {cpus[0]}
    finally:
        stop.set()
        thread.join()
        pin_process(cpus)


WORKER = """
import os, sys, threading
from simkyc.affinity import pin_worker_from_environment
claim = pin_worker_from_environment()
child = threading.Thread(target=lambda: print(sorted(os.sched_getaffinity(0)), flush=True))
child.start(); child.join()  # a thread started after the pin runs on the slot's CPUs
print(claim.slot if claim else None, flush=True)
sys.stdin.read()  # hold the slot until the test lets go
"""


@linux_only
def test_two_worker_processes_take_two_slots(tmp_path: Path) -> None:
    cpus = sorted(os.sched_getaffinity(0))
    write_slots(tmp_path, core_sets(cpus, 2, 1))
    env = {**os.environ, SLOTS_DIR: str(tmp_path), "PYTHONPATH": str(SRC)}
    workers = [subprocess.Popen([sys.executable, "-c", WORKER], env=env, text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
               for _ in range(2)]
    try:
        seen = [(w.stdout.readline().strip(), w.stdout.readline().strip())  # type: ignore[union-attr]
                for w in workers]
    finally:
        for worker in workers:
            worker.communicate("", timeout=30)
    assert sorted(seen) == [(str([cpus[0]]), "0"), (str([cpus[1 % len(cpus)]]), "1")]
