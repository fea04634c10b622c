"""The restricted reader of PyTorch's legacy .pth files (simkyc.convert.torch_pickle): a
booby-trapped pickle runs nothing, a file that is not a plain state dict is refused, and what
torch's own writer saves reads back exactly. No model weights: torch (dev extra) writes the
reference files."""

from __future__ import annotations

import pickle
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from shared_files import require_module

from simkyc.convert.torch_pickle import TorchFileError, UnsafePickleError, read_legacy_state_dict

# Legacy header: magic number, protocol version, system facts (torch/serialization.py).
HEADER = b"".join(
    pickle.dumps(part, protocol=2)
    for part in (
        0x1950A86A20F9469CFC6C,
        1001,
        {"protocol_version": 1001, "little_endian": True, "type_sizes": {"long": 8}},
    )
)


def _call(module: str, name: str, arg: object) -> bytes:
    """A protocol-2 pickle of module.name(arg): what a booby-trapped model file holds."""
    body = pickle.dumps(arg, protocol=2)[2:-1]  # without PROTO and STOP
    return b"\x80\x02c" + f"{module}\n{name}\n".encode() + body + b"\x85R."  # TUPLE1 REDUCE STOP


class _Shell:
    """Pickles as a call of os.system, the classic malicious pickle (posix.system on Linux)."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        import os

        return os.system, (self.command,)


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("os", "system"),
        ("posix", "system"),
        ("builtins", "eval"),
        ("builtins", "exec"),
        ("subprocess", "Popen"),
        ("torch", "load"),
        ("torch._utils", "_rebuild_parameter"),
        ("numpy", "load"),
    ],
)
def test_refuses_any_global_outside_a_state_dict(module: str, name: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    with pytest.raises(UnsafePickleError, match=f"{module}.{name}"):
        read_legacy_state_dict(HEADER + _call(module, name, f"touch {marker}"))
    assert not marker.exists()


@pytest.mark.parametrize("protocol", [2, 4])  # GLOBAL and STACK_GLOBAL opcodes
def test_refuses_a_malicious_state_dict(protocol: int, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = OrderedDict([("conv1.conv.weight", _Shell(f"touch {marker}"))])
    with pytest.raises(UnsafePickleError, match="system"):
        read_legacy_state_dict(HEADER + pickle.dumps(payload, protocol=protocol))
    assert not marker.exists()


def test_refuses_a_malicious_header(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    with pytest.raises(UnsafePickleError):
        read_legacy_state_dict(pickle.dumps(_Shell(f"touch {marker}"), protocol=2))
    assert not marker.exists()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"PK\x03\x04 a zip-format torch file",
        pickle.dumps(12345, protocol=2) + HEADER,
        HEADER + pickle.dumps(OrderedDict(), protocol=2) + pickle.dumps([], protocol=2),
        HEADER + pickle.dumps({"weight": 1.0}, protocol=2) + pickle.dumps([], protocol=2),
    ],
    ids=["empty", "zip", "magic", "empty-dict", "not-a-tensor"],
)
def test_rejects_what_is_not_a_legacy_state_dict(data: bytes) -> None:
    with pytest.raises(TorchFileError):
        read_legacy_state_dict(data)


def test_reads_what_torch_writes(tmp_path: Path) -> None:
    """Views, offsets, shared storages and every common dtype, saved by torch's legacy writer."""
    torch = require_module("torch", "PyTorch (dev extra): it writes the reference file")
    base = torch.arange(60, dtype=torch.float32).reshape(3, 4, 5)
    tensors = OrderedDict(
        [
            ("base", base),
            ("transposed", base.transpose(0, 2)),
            ("offset", base[1:, 2:, ::2]),
            ("double", torch.linspace(-1, 1, 7, dtype=torch.float64)),
            ("half", torch.tensor([0.5, -2.0], dtype=torch.float16)),
            ("long", torch.tensor(123456789012, dtype=torch.int64)),
            ("bool", torch.tensor([True, False])),
            ("bytes", torch.arange(5, dtype=torch.uint8)),
            ("empty", torch.zeros(0, 3)),
        ]
    )
    path = tmp_path / "legacy.pth"
    torch.save(tensors, path, _use_new_zipfile_serialization=False)
    read = read_legacy_state_dict(path.read_bytes())
    assert list(read) == list(tensors)
    for name, tensor in tensors.items():
        expected = tensor.numpy()
        assert read[name].dtype == expected.dtype, name
        np.testing.assert_array_equal(read[name], expected, err_msg=name)


def test_refuses_a_tensor_larger_than_its_storage(tmp_path: Path) -> None:
    """A stride-0 view would let a few bytes unfold into gigabytes: not in a state dict."""
    torch = require_module("torch", "PyTorch (dev extra, torch==2.13.0; it writes the file)")
    path = tmp_path / "expanded.pth"
    torch.save({"w": torch.ones(1).expand(1000)}, path, _use_new_zipfile_serialization=False)
    with pytest.raises(TorchFileError, match="does not fit"):
        read_legacy_state_dict(path.read_bytes())


def test_rejects_torch_zip_format(tmp_path: Path) -> None:
    torch = require_module("torch", "PyTorch (dev extra): it writes the reference file")
    path = tmp_path / "zip.pth"
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(TorchFileError, match="zip"):
        read_legacy_state_dict(path.read_bytes())
