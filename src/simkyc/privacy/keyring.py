"""The keyring: AES-256-GCM data keys and HMAC-SHA256 pseudonym keys, each set with one active
key (used for new values) and older keys kept for reading until everything is re-sealed.

File / SIMKYC_KEYRING format (keys are 32 random bytes, standard base64):
    {"data": {"active": "d-...", "keys": {"d-...": "<b64>"}},
     "pseudonym": {"active": "p-...", "keys": {"p-...": "<b64>"}},
     "signing": {"active": "s-...", "keys": {"s-...": "<b64>"}}}   (Ed25519 seeds; optional)
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from simkyc.config import Settings
from simkyc.errors import KeyringInvalid

KEY_BYTES = 32
logger = logging.getLogger(__name__)
_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,32}$")


@dataclass(frozen=True)
class KeySet:
    """Keys by id, and the id of the one that seals (or pseudonymises) new values."""

    active: str
    keys: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))
        if self.active not in self.keys:
            raise KeyringInvalid(f"the active key {self.active!r} is not in the keyring.")
        for key_id, key in self.keys.items():
            if not _KEY_ID.match(key_id) or len(key) != KEY_BYTES:
                raise KeyringInvalid(f"key {key_id!r}: ids are [A-Za-z0-9._-]{{1,32}}, keys "
                                     f"{KEY_BYTES} bytes.")

    def key(self, key_id: str) -> bytes:
        """The key with this id; unknown ids mean the keyring lost a key still in use."""
        try:
            return self.keys[key_id]
        except KeyError:
            raise KeyringInvalid(f"no key {key_id!r} in the keyring.") from None

    @property
    def active_key(self) -> bytes:
        return self.keys[self.active]

    @classmethod
    def fresh(cls, prefix: str) -> KeySet:
        """One new random key, active."""
        key_id = f"{prefix}-{secrets.token_hex(6)}"
        return cls(active=key_id, keys={key_id: secrets.token_bytes(KEY_BYTES)})

    def rotated(self, prefix: str) -> KeySet:
        """A new active key; the old ones stay for reading."""
        new = KeySet.fresh(prefix)
        return KeySet(active=new.active, keys={**self.keys, **new.keys})

    def without(self, key_id: str) -> KeySet:
        """Drop a retired key (after re-encryption left nothing sealed with it)."""
        if key_id == self.active:
            raise KeyringInvalid("the active key cannot be removed.")
        return KeySet(self.active, {k: v for k, v in self.keys.items() if k != key_id})


@dataclass(frozen=True)
class Keyring:
    """Both key sets of a deployment."""

    data: KeySet
    pseudonym: KeySet
    # The transparency log's Ed25519 seeds (simkyc.privacy.tlog). Key files written before
    # the log existed have none: theirs are derived from the pseudonym keys (`log_keys`).
    signing: KeySet | None = None

    @classmethod
    def generate(cls) -> Keyring:
        """A fresh keyring with one key of each kind."""
        return cls(data=KeySet.fresh("d"), pseudonym=KeySet.fresh("p"),
                   signing=KeySet.fresh("s"))

    def log_keys(self) -> KeySet:
        """The log's signing seeds: the stored ones, or one per pseudonym key, derived
        (HMAC-SHA256 with a fixed label) so that every process of a deployment agrees."""
        if self.signing is not None:
            return self.signing
        derived = {f"s.{key_id}": hmac.new(key, b"simkyc transparency log signing key",
                                           hashlib.sha256).digest()
                   for key_id, key in self.pseudonym.keys.items()}
        return KeySet(active=f"s.{self.pseudonym.active}", keys=derived)

    def rotate_data_key(self) -> Keyring:
        """A new active data key (then run privacy.rotation.reencrypt)."""
        return replace(self, data=self.data.rotated("d"))

    def rotate_pseudonym_key(self) -> Keyring:
        """A new active pseudonym key; persons are re-keyed when next looked up."""
        return replace(self, pseudonym=self.pseudonym.rotated("p"))

    def to_json(self) -> str:
        sets = {"data": _dump(self.data), "pseudonym": _dump(self.pseudonym)}
        if self.signing is not None:
            sets["signing"] = _dump(self.signing)
        return json.dumps(sets, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Keyring:
        try:
            raw = json.loads(text)
            signing = _load(raw["signing"]) if "signing" in raw else None
            return cls(data=_load(raw["data"]), pseudonym=_load(raw["pseudonym"]),
                       signing=signing)
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise KeyringInvalid(f"malformed keyring ({type(exc).__name__}).") from None


def _dump(keys: KeySet) -> dict[str, Any]:
    encoded = {k: base64.b64encode(v).decode("ascii") for k, v in keys.keys.items()}
    return {"active": keys.active, "keys": encoded}


def _load(raw: Mapping[str, Any]) -> KeySet:
    keys = {str(k): base64.b64decode(v, validate=True) for k, v in raw["keys"].items()}
    return KeySet(active=str(raw["active"]), keys=keys)


def keyring_path(settings: Settings) -> Path:
    """Where the key file is: SIMKYC_KEYRING_FILE, else `<state_dir>-keys/keyring.json`, a
    folder apart from the database's, so a copy of the database folder (a backup, a dump
    handed over) does not carry the keys that open it. A key file an earlier version made at
    `<state_dir>/keyring.json` is still used, so its data stays readable (with a warning)."""
    if settings.keyring_file is not None:
        return settings.keyring_file
    legacy = settings.state_dir / "keyring.json"
    if legacy.exists():
        return legacy
    return settings.state_dir.with_name(f"{settings.state_dir.name}-keys") / "keyring.json"


def shares_folder(key_file: Path, database: str) -> bool:
    """Whether the key file sits in the folder of a SQLite database file (`database` is the
    database URL; a server database has no folder here)."""
    prefix = "sqlite:///"
    if not database.startswith(prefix) or database == f"{prefix}:memory:":
        return False
    return Path(database[len(prefix):]).resolve().parent == key_file.resolve().parent


def load_keyring(settings: Settings, *, database: str | None = None) -> Keyring:
    """SIMKYC_KEYRING if set, else the key file, created with fresh keys when missing; warns
    when the key file shares the folder of the database (URL `database`)."""
    if settings.keyring is not None:
        return Keyring.from_json(settings.keyring.get_secret_value())
    path = keyring_path(settings)
    if database is not None and shares_folder(path, database):
        logger.warning("the keyring %s is in the database's folder: a copy of that folder "
                       "carries the keys that open it; move it (SIMKYC_KEYRING_FILE)", path)
    if not path.exists():
        write_keyring(path, Keyring.generate(), exclusive=True)
    return Keyring.from_json(path.read_text())


def write_keyring(path: Path, keyring: Keyring, *, exclusive: bool = False) -> None:
    """Write the key file readable by its owner only; `exclusive` never overwrites one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole under a temporary name, then linked (exclusive) or renamed into place, so
    # no reader ever sees half a key file.
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(keyring.to_json())
    try:
        if exclusive:
            with contextlib.suppress(FileExistsError):  # another process was first: use theirs
                os.link(temporary, path)
        else:
            temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
