"""Checkpoints as C2SP signed notes: signed, opened, and refused when altered or foreign."""

from __future__ import annotations

import pytest

from simkyc.errors import CheckpointInvalid
from simkyc.privacy.note import EM_DASH, Checkpoint, Signer, VerifierKey, open_note

SIGNER = Signer("simkyc.test/audit", bytes(range(32)))
POINT = Checkpoint(origin="simkyc.test/audit", size=12, root=bytes(32))


def test_a_signed_checkpoint_opens_with_its_key() -> None:
    note = SIGNER.sign(POINT)
    assert note.startswith(f"simkyc.test/audit\n12\n{'A' * 43}=\n\n")
    assert f"\n{EM_DASH} simkyc.test/audit " in note
    assert open_note(note, SIGNER.verifier) == POINT
    key = VerifierKey.decode(SIGNER.verifier.encode())
    assert key == SIGNER.verifier


@pytest.mark.parametrize("edit", [
    lambda n: n.replace("\n12\n", "\n13\n"),
    lambda n: n.replace("AAAA", "AAAB", 1),
    lambda n: n.replace("simkyc.test/audit\n", "elsewhere\n", 1),
])
def test_an_altered_checkpoint_is_refused(edit: object) -> None:
    note = SIGNER.sign(POINT)
    with pytest.raises(CheckpointInvalid):
        open_note(edit(note), SIGNER.verifier)  # type: ignore[operator]


def test_another_key_is_refused() -> None:
    other = Signer("simkyc.test/audit", bytes(32))
    with pytest.raises(CheckpointInvalid):
        open_note(other.sign(POINT), SIGNER.verifier)
