"""Pseudonyms: a keyed HMAC-SHA256 of a person's document; the number itself is never stored.

Without the key the pseudonym cannot be recomputed from a guessed number (document numbers
have little entropy, so a plain hash would be reversed by enumeration).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field

from simkyc.privacy.keyring import Keyring

_SEPARATORS = re.compile(r"[\s\-./]")
DOMAIN = b"simkyc/person/v1"


@dataclass(frozen=True)
class DocumentIdentity:
    """What identifies a person: document type, issuing country (alpha-2/3) and number."""

    doc_type: str
    country: str
    number: str = field(repr=False)

    def canonical(self) -> bytes:
        """Case and separators do not make a different person."""
        number = _SEPARATORS.sub("", self.number).upper()
        parts = (self.doc_type.strip().lower(), self.country.strip().upper(), number)
        return b"\x1f".join([DOMAIN, *(p.encode("utf-8") for p in parts)])


def pseudonym(keyring: Keyring, identity: DocumentIdentity, key_id: str | None = None) -> str:
    """The person's pseudonym under the active (or the named) pseudonym key, 64 hex digits."""
    keys = keyring.pseudonym
    key = keys.key(key_id or keys.active)
    return hmac.new(key, identity.canonical(), hashlib.sha256).hexdigest()


def pseudonym_candidates(keyring: Keyring, identity: DocumentIdentity) -> dict[str, str]:
    """The pseudonym under every known key (a lookup finds persons not yet re-keyed)."""
    return {key_id: pseudonym(keyring, identity, key_id) for key_id in keyring.pseudonym.keys}
