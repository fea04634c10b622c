"""An audit entry with its inclusion proof and the signed checkpoint it is proven against:
what the citizen's access list carries and `simkyc audit verify-proof FILE` checks offline.

File format (JSON): {"entry": "<the entry's canonical JSON, the leaf's data>", "index": i,
"tree_size": n, "inclusion": ["<base64 hash>", ...], "checkpoint": "<signed note>",
"vkey": "<the log's verifier key>"} - everything needed, and nothing from the database.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from simkyc.errors import CheckpointInvalid
from simkyc.privacy.merkle import leaf_hash, verify_inclusion
from simkyc.privacy.note import Checkpoint, VerifierKey, open_note


@dataclass(frozen=True)
class EntryProof:
    """An entry, its leaf index, the proof and the checkpoint note it leads to."""

    entry: str
    index: int
    tree_size: int
    inclusion: tuple[bytes, ...]
    checkpoint: str
    vkey: str

    def to_json(self) -> dict[str, Any]:
        return {"entry": self.entry, "index": self.index, "tree_size": self.tree_size,
                "inclusion": [base64.b64encode(h).decode() for h in self.inclusion],
                "checkpoint": self.checkpoint, "vkey": self.vkey}

    @classmethod
    def from_json(cls, text: str) -> EntryProof:
        try:
            raw = json.loads(text)
            return cls(entry=str(raw["entry"]), index=int(raw["index"]),
                       tree_size=int(raw["tree_size"]),
                       inclusion=tuple(base64.b64decode(h, validate=True)
                                       for h in raw["inclusion"]),
                       checkpoint=str(raw["checkpoint"]), vkey=str(raw["vkey"]))
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise CheckpointInvalid("a proof file is JSON with entry, index, tree_size, "
                                    "inclusion, checkpoint and vkey.") from None


def check_entry_proof(proof: EntryProof, key: VerifierKey) -> Checkpoint:
    """The checkpoint, if it is signed by `key` and the entry is leaf `index` of its tree;
    CheckpointInvalid otherwise."""
    checkpoint = open_note(proof.checkpoint, key)
    if checkpoint.size != proof.tree_size:
        raise CheckpointInvalid("the proof is for another tree size than the checkpoint's.")
    leaf = leaf_hash(proof.entry.encode("utf-8"))
    if not verify_inclusion(leaf=leaf, index=proof.index, size=proof.tree_size,
                            proof=proof.inclusion, root=checkpoint.root):
        raise CheckpointInvalid(f"the entry is not leaf {proof.index} of the signed tree.")
    return checkpoint
