"""Field encryption: AES-256-GCM with the active data key; each ciphertext names its key.

Sealed value layout: version (1 byte) | key-id length (1) | key id (ASCII) | nonce (12) |
ciphertext + tag. The associated data is the value's place ("persons.name_ct:<row id>"), so
a ciphertext copied into another row or column fails to open.
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from simkyc.errors import DecryptionFailed, KeyringInvalid
from simkyc.privacy.keyring import Keyring

VERSION = 1
NONCE_BYTES = 12


def place(table: str, column: str, row_id: str) -> str:
    """The associated data binding a ciphertext to its table, column and row."""
    return f"{table}.{column}:{row_id}"


def seal(keyring: Keyring, plaintext: bytes, *, where: str) -> bytes:
    """Encrypt `plaintext` for the place `where` with the active data key."""
    key_id = keyring.data.active
    nonce = secrets.token_bytes(NONCE_BYTES)
    body = AESGCM(keyring.data.active_key).encrypt(nonce, plaintext, where.encode("utf-8"))
    kid = key_id.encode("ascii")
    return bytes([VERSION, len(kid)]) + kid + nonce + body


def key_id_of(sealed: bytes) -> str:
    """The id of the key a value was sealed with."""
    if len(sealed) < 2 or sealed[0] != VERSION:
        raise KeyringInvalid("not a sealed value of a known version.")
    return sealed[2 : 2 + sealed[1]].decode("ascii")


def unseal(keyring: Keyring, sealed: bytes, *, where: str) -> bytes:
    """Decrypt a sealed value; fails if the key, the place or a byte is not what it was."""
    key_id = key_id_of(sealed)
    start = 2 + len(key_id)
    nonce, body = sealed[start : start + NONCE_BYTES], sealed[start + NONCE_BYTES :]
    try:
        return AESGCM(keyring.data.key(key_id)).decrypt(nonce, body, where.encode("utf-8"))
    except InvalidTag:
        table_column = where.partition(":")[0]
        raise DecryptionFailed(f"a sealed value in {table_column} did not open.") from None


def reseal(keyring: Keyring, sealed: bytes, *, where: str) -> bytes | None:
    """The value sealed with the active key, or None when it already is."""
    if key_id_of(sealed) == keyring.data.active:
        return None
    return seal(keyring, unseal(keyring, sealed, where=where), where=where)
