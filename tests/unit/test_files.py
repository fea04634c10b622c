"""Writing a derived file (a converted model) atomically, one temporary file per process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from simkyc.files import write_atomically


def test_write_lands_whole_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "cache" / "model.onnx"  # the folder is created
    written: list[Path] = []

    def write(path: Path) -> None:
        written.append(path)
        path.write_bytes(b"model")

    write_atomically(target, write)
    assert target.read_bytes() == b"model"
    assert str(os.getpid()) in written[0].name  # two workers never share a temporary file
    assert sorted(p.name for p in target.parent.iterdir()) == ["model.onnx"]


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "model.onnx"

    def fail_halfway(path: Path) -> None:
        path.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, fail_halfway)
    assert list(tmp_path.iterdir()) == []
