"""Face templates at rest: a template (and the recognizer it came from) sealed with the
keyring's AES-GCM for one place (table, column, row), so a ciphertext copied to another row
does not open."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simkyc.privacy.crypto import place, seal, unseal
from simkyc.privacy.keyring import Keyring
from simkyc.types import Embedding


@dataclass(frozen=True)
class Template:
    """A face template and the recognizer it came from (templates of two models never meet)."""

    model_id: str
    embedding: Embedding = field(repr=False)


def seal_template(keyring: Keyring, template: Template, *, where: str) -> bytes:
    """A face template sealed for a place (model id, NUL, float32 values)."""
    raw = template.model_id.encode() + b"\0" + np.asarray(template.embedding, "<f4").tobytes()
    return seal(keyring, raw, where=where)


def open_template(keyring: Keyring, sealed: bytes, *, where: str) -> Template:
    """The template sealed by seal_template."""
    model_id, _, values = unseal(keyring, sealed, where=where).partition(b"\0")
    return Template(model_id.decode(), np.frombuffer(values, dtype="<f4").astype(np.float32))


def template_place(person_id: str) -> str:
    """Where a person's enrolled template is sealed."""
    return place("persons", "template_ct", person_id)
