"""Checkpoints as C2SP signed notes (c2sp.org/signed-note, c2sp.org/tlog-checkpoint), Ed25519.

A checkpoint's text is three lines, `<origin>`, `<tree size>`, `<base64 root hash>`, each
ending in a newline; the note adds a blank line and one signature line per signer:
`— <key name> <base64(key hash (4 bytes) || signature (64 bytes))>`. The key hash is the
first 4 bytes of SHA-256(key name || 0x0A || 0x01 || public key), 0x01 naming Ed25519; a
verifier key is written `<name>+<key hash, 8 hex digits>+<base64(0x01 || public key)>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from simkyc.errors import CheckpointInvalid

ED25519 = b"\x01"
EM_DASH = "\u2014"


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint states: this origin's log had `size` entries with this root."""

    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


@dataclass(frozen=True)
class VerifierKey:
    """A signer's public key under its name (the log's origin)."""

    name: str
    public: bytes

    @property
    def key_hash(self) -> bytes:
        return hashlib.sha256(self.name.encode() + b"\n" + ED25519 + self.public).digest()[:4]

    def encode(self) -> str:
        raw = base64.b64encode(ED25519 + self.public).decode()
        return f"{self.name}+{self.key_hash.hex()}+{raw}"

    @classmethod
    def decode(cls, text: str) -> VerifierKey:
        try:
            name, hash_hex, raw_b64 = text.strip().split("+", 2)  # names hold no "+"
            raw = base64.b64decode(raw_b64, validate=True)
        except (ValueError, binascii.Error):
            raise CheckpointInvalid("the verifier key is not name+hash+key.") from None
        key = cls(name=name, public=raw[1:])
        if raw[:1] != ED25519 or len(key.public) != 32 or key.key_hash.hex() != hash_hex:
            raise CheckpointInvalid("the verifier key is not an Ed25519 note key.")
        return key


@dataclass(frozen=True)
class Signer:
    """The log's Ed25519 signing key (32-byte seed from the keyring) under the log's origin."""

    name: str
    seed: bytes

    @property
    def verifier(self) -> VerifierKey:
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key()
        return VerifierKey(self.name, public.public_bytes(Encoding.Raw, PublicFormat.Raw))

    def sign(self, checkpoint: Checkpoint) -> str:
        """The signed note of a checkpoint."""
        body = checkpoint.body()
        signature = Ed25519PrivateKey.from_private_bytes(self.seed).sign(body.encode())
        blob = base64.b64encode(self.verifier.key_hash + signature).decode()
        return f"{body}\n{EM_DASH} {self.name} {blob}\n"


def open_note(note: str, key: VerifierKey) -> Checkpoint:
    """The checkpoint in a note carrying a valid signature by `key`; CheckpointInvalid if not."""
    body, sep, signatures = note.partition("\n\n")
    if not sep or not body:
        raise CheckpointInvalid("a signed note is text, a blank line, then signatures.")
    body += "\n"
    for line in signatures.splitlines():
        if _signed_by(line, body, key):
            return parse_checkpoint(body)
    raise CheckpointInvalid(f"no valid signature by {key.name!r} on the checkpoint.")


def _signed_by(line: str, body: str, key: VerifierKey) -> bool:
    parts = line.split(" ")
    if len(parts) != 3 or parts[0] != EM_DASH or parts[1] != key.name:
        return False
    try:
        blob = base64.b64decode(parts[2], validate=True)
    except binascii.Error:
        return False
    if len(blob) != 68 or blob[:4] != key.key_hash:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(key.public).verify(blob[4:], body.encode())
    except InvalidSignature:
        return False
    return True


def parse_checkpoint(body: str) -> Checkpoint:
    """The origin, size and root of a checkpoint text (signature not checked)."""
    lines = body.split("\n")
    try:
        origin, size_text, root_b64 = lines[0], lines[1], lines[2]
        root = base64.b64decode(root_b64, validate=True)
        size = int(size_text)
    except (IndexError, ValueError, binascii.Error):
        raise CheckpointInvalid("a checkpoint is origin, size and base64 root lines.") from None
    if not origin or size < 0 or len(root) != 32 or str(size) != size_text:
        raise CheckpointInvalid("a checkpoint is origin, size and base64 root lines.")
    return Checkpoint(origin=origin, size=size, root=root)
