"""Read legacy (pre-1.6, non-zip) torch state dicts with numpy, never running their pickles' code.

torch.load unpickles whatever a file names; a model file from the internet can therefore run code.
This reader admits only the four globals a state dict of tensors needs and maps each to an inert
stand-in, so it neither needs PyTorch nor trusts the file. The format is torch/serialization.py's
`_legacy_save` / `_legacy_load`.
"""

from __future__ import annotations

import collections
import io
import math
import pickle
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["StateDict", "TorchFileError", "UnsafePickleError", "read_legacy_state_dict"]

StateDict: TypeAlias = dict[str, npt.NDArray[Any]]


class TorchFileError(ValueError):
    """The file is not a legacy torch state dict of tensors."""


class UnsafePickleError(TorchFileError):
    """The pickle names a global a state dict never needs: loading it could run code."""


# The file is five pickles back to back - a magic number, the protocol version, a dict of system
# facts, the saved object, the list of storage keys - then each storage's raw data in that order:
# an int64 element count and the elements. Tensors are pickled as a call of
# torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, meta])
# whose storage is a persistent id ("storage", <torch.XStorage>, key, location, numel, view).

_LEGACY_MAGIC: Final = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL: Final = 1001

# torch.<Name>Storage -> element type, little-endian as the files we accept declare.
_STORAGE_DTYPES: Final[Mapping[str, str]] = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}


@dataclass(frozen=True)
class _StorageType:
    """What a `torch.<Name>Storage` global unpickles to here: only its element type."""

    dtype: np.dtype[Any]


@dataclass(frozen=True)
class _StorageRef:
    """A storage announced by a persistent id; its bytes follow the pickles."""

    key: str
    dtype: np.dtype[Any]
    numel: int


@dataclass(frozen=True)
class _TensorRef:
    """A tensor as `_rebuild_tensor_v2` describes it: a strided view of a storage (in elements)."""

    storage: _StorageRef
    offset: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]


def _is_count(value: object) -> bool:
    """A non-negative int (and not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_counts(value: object) -> bool:
    """A tuple of non-negative ints: a shape or stride."""
    return isinstance(value, tuple) and all(_is_count(item) for item in value)


def _tensor_ref(
    storage: object, offset: object, shape: object, strides: object, *rest: object
) -> _TensorRef:
    """Stands in for torch._utils._rebuild_tensor_v2: records the view, checks its arguments.

    The trailing arguments are requires_grad, the backward hooks (an empty OrderedDict in a saved
    state dict) and, in newer files, metadata; none matter for inference.
    """
    if not (
        isinstance(storage, _StorageRef)
        and _is_count(offset)
        and _is_counts(shape)
        and _is_counts(strides)
        and len(shape) == len(strides)  # type: ignore[arg-type]
        and 2 <= len(rest) <= 3
    ):
        raise TorchFileError("malformed tensor record (_rebuild_tensor_v2 arguments)")
    return _TensorRef(storage, offset, shape, strides)  # type: ignore[arg-type]


class _StateDictUnpickler(pickle.Unpickler):
    """An unpickler for state dicts only: every global but four is refused (a security boundary).

    pickle resolves every class or function a file names through find_class (GLOBAL,
    STACK_GLOBAL, INST and the extension registry); refusing there stops `os.system` and the like
    before anything is called. The allowed names map to inert stand-ins, never to torch.
    """

    def __init__(self, stream: io.BytesIO, storages: dict[str, _StorageRef]) -> None:
        """Read pickles from *stream*, recording announced storages in *storages*."""
        super().__init__(stream)
        self._storages = storages

    def find_class(self, module: str, name: str) -> Any:
        """OrderedDict, _rebuild_tensor_v2 and torch.*Storage; anything else is refused."""
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _tensor_ref
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(np.dtype(_STORAGE_DTYPES[name]))
        raise UnsafePickleError(
            f"refusing to load the global {module}.{name}: not part of a state dict"
        )

    def persistent_load(self, pid: Any) -> _StorageRef:
        """A storage reference ("storage", type, key, location, numel, None)."""
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"):
            raise TorchFileError(f"unsupported persistent id {pid!r:.80}")
        _, kind, key, _location, numel, view = pid
        if not (isinstance(kind, _StorageType) and isinstance(key, str) and _is_count(numel)):
            raise TorchFileError(f"malformed storage record {pid!r:.80}")
        if view is not None:  # storage views were written by torch < 0.4 only
            raise TorchFileError("storage views (torch < 0.4 files) are not supported")
        ref = _StorageRef(key, kind.dtype, numel)
        if self._storages.setdefault(key, ref) != ref:
            raise TorchFileError(f"storage {key} is declared twice, differently")
        return ref


def _unpickle(stream: io.BytesIO, storages: dict[str, _StorageRef], what: str) -> object:
    """The next pickle in the stream, through the restricted unpickler."""
    try:
        return _StateDictUnpickler(stream, storages).load()
    except TorchFileError:
        raise
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        OverflowError,
    ) as exc:
        raise TorchFileError(f"cannot read the {what}: {exc}") from exc


def _check_header(magic: object, protocol: object, system: object) -> None:
    """The legacy magic number and protocol, written on a little-endian machine."""
    if magic != _LEGACY_MAGIC:
        raise TorchFileError("not a legacy torch file (wrong magic number)")
    if protocol != _LEGACY_PROTOCOL:
        raise TorchFileError(f"unsupported torch protocol version {protocol!r}")
    if not isinstance(system, dict) or system.get("little_endian") is not True:
        raise TorchFileError("only files saved on little-endian machines are supported")


def _take(stream: io.BytesIO, count: int) -> bytes:
    """Exactly *count* bytes; a truncated file is an error."""
    chunk = stream.read(count)
    if len(chunk) != count:
        raise TorchFileError("unexpected end of file in the storage data")
    return chunk


def _read_storages(
    stream: io.BytesIO, storages: dict[str, _StorageRef], keys: object
) -> dict[str, npt.NDArray[Any]]:
    """Each storage's elements, in the order of *keys* (torch's `_set_from_file` layout)."""
    if not (
        isinstance(keys, list)
        and all(isinstance(key, str) for key in keys)
        and sorted(keys) == sorted(storages)
    ):
        raise TorchFileError("the storage list does not match the storages the tensors use")
    flat: dict[str, npt.NDArray[Any]] = {}
    for key in keys:
        ref = storages[key]
        (count,) = struct.unpack("<q", _take(stream, 8))
        if count != ref.numel:
            raise TorchFileError(f"storage {key} holds {count} elements, not {ref.numel}")
        flat[key] = np.frombuffer(_take(stream, count * ref.dtype.itemsize), dtype=ref.dtype)
    return flat


def _materialize(ref: _TensorRef, flat: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The tensor as an owned, native-endian array; the view must lie inside its storage.

    A tensor may not have more elements than its storage: that takes overlapping (stride 0,
    `expand`ed) views, which a state dict has no use for and a hostile file could use to make
    a few bytes unfold into gigabytes.
    """
    native = flat.dtype.newbyteorder("=")
    if 0 in ref.shape:
        return np.zeros(ref.shape, native)
    last = ref.offset + sum((n - 1) * s for n, s in zip(ref.shape, ref.strides, strict=True))
    if last >= flat.size or math.prod(ref.shape) > flat.size:
        raise TorchFileError(f"a tensor does not fit in its storage {ref.storage.key}")
    byte_strides = tuple(s * flat.itemsize for s in ref.strides)
    view = np.lib.stride_tricks.as_strided(flat[ref.offset :], ref.shape, byte_strides)
    return np.array(view, dtype=native)


def read_legacy_state_dict(data: bytes) -> StateDict:
    """The tensors of a legacy torch state dict, by name, read with numpy alone.

    Only collections.OrderedDict, torch._utils._rebuild_tensor_v2 and torch.*Storage may appear
    in the pickles; any other global raises UnsafePickleError before it is called. Anything else
    that is not a state dict of tensors raises TorchFileError.
    """
    if data[:2] == b"PK":
        raise TorchFileError("a zip-format torch file (torch >= 1.6); expected the legacy one")
    stream = io.BytesIO(data)
    storages: dict[str, _StorageRef] = {}
    header = [_unpickle(stream, storages, what) for what in ("magic", "protocol", "system info")]
    _check_header(*header)
    root = _unpickle(stream, storages, "state dict")
    keys = _unpickle(stream, storages, "storage keys")
    flat = _read_storages(stream, storages, keys)
    if stream.tell() != len(data):
        raise TorchFileError(f"{len(data) - stream.tell()} unexpected bytes at the end")
    if not isinstance(root, dict) or not root:
        raise TorchFileError("the saved object is not a state dict")
    tensors: StateDict = {}
    for name, ref in root.items():
        if not (isinstance(name, str) and isinstance(ref, _TensorRef)):
            raise TorchFileError(f"state dict entry {name!r:.80} is not a named tensor")
        tensors[name] = _materialize(ref, flat[ref.storage.key])
    return tensors
