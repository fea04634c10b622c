"""The log's signing key from the keyring: kept in new key files, derived (the same in every
process) for key files written before the log, and stable across a save and load."""

from __future__ import annotations

import json
from dataclasses import replace

from simkyc.privacy.keyring import Keyring
from simkyc.privacy.tlog import LogKeys


def test_a_new_keyring_carries_a_signing_key_that_survives_a_round_trip() -> None:
    keyring = Keyring.generate()
    assert keyring.signing is not None
    again = Keyring.from_json(keyring.to_json())
    assert again.log_keys() == keyring.log_keys()
    assert LogKeys.from_keyring(again, origin="o/a").verifiers == LogKeys.from_keyring(
        keyring, origin="o/a").verifiers


def test_an_old_key_file_derives_the_same_key_everywhere() -> None:
    old = json.loads(Keyring.generate().to_json())
    del old["signing"]
    first, second = Keyring.from_json(json.dumps(old)), Keyring.from_json(json.dumps(old))
    assert first.signing is None
    assert first.log_keys() == second.log_keys()
    assert first.log_keys().active == f"s.{first.pseudonym.active}"
    rotated = replace(first, pseudonym=first.pseudonym.rotated("p"))
    assert set(first.log_keys().keys) < set(rotated.log_keys().keys)  # old checkpoints verify
