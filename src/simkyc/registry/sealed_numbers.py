"""A line's MSISDN and ICCID at rest: sealed (AES-256-GCM, bound to the line's row) for
reading, and a keyed blind index (HMAC-SHA256) for uniqueness and lookup, so a database dump
alone yields neither numbers nor a way to test guesses against them.

The blind-index key is derived from each pseudonym key (HMAC with a fixed label, so it is
never the key persons' pseudonyms use); new rows take the active one, lookups try every key
in the keyring (one after a rotation: two), as persons' pseudonyms do.
"""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum

from simkyc.privacy.crypto import place, seal, unseal
from simkyc.privacy.keyring import Keyring

_LABEL = b"simkyc line number blind index v1"


class NumberKind(StrEnum):
    """Which of a line's numbers."""

    MSISDN = "msisdn"
    ICCID = "iccid"


def _index_key(pseudonym_key: bytes) -> bytes:
    return hmac.new(pseudonym_key, _LABEL, hashlib.sha256).digest()


def blind_index(keyring: Keyring, kind: NumberKind, number: str) -> str:
    """The index new rows store: HMAC under the active key, 64 hex digits."""
    return _index(_index_key(keyring.pseudonym.active_key), kind, number)


def blind_indexes(keyring: Keyring, kind: NumberKind, number: str) -> list[str]:
    """The number's index under every key of the keyring (for lookups)."""
    return [_index(_index_key(key), kind, number) for key in keyring.pseudonym.keys.values()]


def _index(key: bytes, kind: NumberKind, number: str) -> str:
    return hmac.new(key, f"{kind.value}:{number}".encode(), hashlib.sha256).hexdigest()


def number_place(kind: NumberKind, line_id: str) -> str:
    """The associated data of a sealed number: lines.<kind>_ct:<line id>."""
    return place("lines", f"{kind.value}_ct", line_id)


def seal_number(keyring: Keyring, kind: NumberKind, number: str, *, line_id: str) -> bytes:
    """The number sealed for its line's row."""
    return seal(keyring, number.encode("ascii"), where=number_place(kind, line_id))


def open_number(keyring: Keyring, kind: NumberKind, sealed: bytes, *, line_id: str) -> str:
    """A sealed number of a line, in clear."""
    return unseal(keyring, sealed, where=number_place(kind, line_id)).decode("ascii")


def number_columns(keyring: Keyring, *, line_id: str, msisdn: str | None = None,
                   iccid: str | None = None) -> dict[str, str | bytes]:
    """The `lines` columns holding these numbers (index and sealed value of each given)."""
    columns: dict[str, str | bytes] = {}
    for kind, number in ((NumberKind.MSISDN, msisdn), (NumberKind.ICCID, iccid)):
        if number is not None:
            columns[f"{kind.value}_index"] = blind_index(keyring, kind, number)
            columns[f"{kind.value}_ct"] = seal_number(keyring, kind, number, line_id=line_id)
    return columns
