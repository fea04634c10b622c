"""Keyring, AES-GCM sealing and HMAC pseudonyms."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from simkyc.config import Settings
from simkyc.errors import DecryptionFailed, KeyringInvalid
from simkyc.privacy.crypto import key_id_of, reseal, seal, unseal
from simkyc.privacy.keyring import Keyring, KeySet, load_keyring
from simkyc.privacy.pseudonyms import DocumentIdentity, pseudonym, pseudonym_candidates

WHERE = "persons.name_ct:abc"


def test_sealed_values_open_only_in_their_place() -> None:
    keyring = Keyring.generate()
    sealed = seal(keyring, b"LI Ming", where=WHERE)
    assert b"LI Ming" not in sealed and key_id_of(sealed) == keyring.data.active
    assert unseal(keyring, sealed, where=WHERE) == b"LI Ming"
    assert seal(keyring, b"LI Ming", where=WHERE) != sealed  # a fresh nonce each time
    with pytest.raises(DecryptionFailed):
        unseal(keyring, sealed, where="persons.name_ct:other-row")
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(DecryptionFailed):
        unseal(keyring, tampered, where=WHERE)


def test_rotation_keeps_old_values_readable_until_resealed() -> None:
    old = Keyring.generate()
    sealed = seal(old, b"1990-05-17", where=WHERE)
    new = old.rotate_data_key()
    assert unseal(new, sealed, where=WHERE) == b"1990-05-17"
    resealed = reseal(new, sealed, where=WHERE)
    assert resealed is not None and key_id_of(resealed) == new.data.active
    assert reseal(new, resealed, where=WHERE) is None
    with pytest.raises(KeyringInvalid):
        unseal(Keyring.generate(), sealed, where=WHERE)
    with pytest.raises(KeyringInvalid):
        new.data.without(new.data.active)


def test_keyring_json_round_trip_and_validation() -> None:
    keyring = Keyring.generate().rotate_data_key()
    assert Keyring.from_json(keyring.to_json()) == keyring
    assert "keys=" not in repr(keyring.data)  # key bytes never in reprs or logs
    with pytest.raises(KeyringInvalid):
        Keyring.from_json('{"data": {"active": "x", "keys": {}}}')
    with pytest.raises(KeyringInvalid):
        KeySet("k", {"k": b"short"})


def test_the_key_file_is_created_once_owner_only(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path / "state", keyring_file=None, keyring=None)
    first = load_keyring(settings)
    path = tmp_path / "state-keys" / "keyring.json"  # apart from the database's folder
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keyring(settings) == first
    inline = Settings(state_dir=tmp_path / "state", keyring=Keyring.generate().to_json())
    assert load_keyring(inline) != first


def test_pseudonyms_are_keyed_and_ignore_spelling() -> None:
    keyring = Keyring.generate()
    doc = DocumentIdentity("national_id", "cn", "1101-0519 491231002x")
    same = DocumentIdentity("NATIONAL_ID", "CN", "11010519491231002X")
    assert pseudonym(keyring, doc) == pseudonym(keyring, same)
    assert pseudonym(Keyring.generate(), doc) != pseudonym(keyring, doc)
    assert "491231" not in repr(doc)
    rotated = keyring.rotate_pseudonym_key()
    assert set(pseudonym_candidates(rotated, doc).values()) == {
        pseudonym(keyring, doc), pseudonym(rotated, doc)}
