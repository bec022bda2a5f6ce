"""node.keystore: key files are 0600, never overwritten, refused when readable by others."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ledger.keys import SigningKey
from node.keystore import KeyFileError, generate_key, read_key_file, write_key_file


def test_generated_keys_differ() -> None:
    assert generate_key().public != generate_key().public


@pytest.mark.parametrize("passphrase", [None, b"correct horse battery staple"])
def test_round_trip_with_mode_0600(tmp_path: Path, passphrase: bytes | None) -> None:
    key = SigningKey.from_seed(bytes(range(32)))
    path = tmp_path / "node.key"
    write_key_file(path, key, passphrase=passphrase)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_key_file(path, passphrase=passphrase).public == key.public
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_encrypted_file_does_not_hold_the_seed_in_clear(tmp_path: Path) -> None:
    key = SigningKey.from_seed(bytes(range(32)))
    path = tmp_path / "node.key"
    write_key_file(path, key, passphrase=b"secret")
    assert b"ENCRYPTED" in path.read_bytes()
    assert key.to_pem() not in path.read_bytes()


def test_never_overwrites_a_key(tmp_path: Path) -> None:
    path = tmp_path / "node.key"
    write_key_file(path, SigningKey.from_seed(bytes(32)))
    before = path.read_bytes()
    with pytest.raises(KeyFileError, match="already exists"):
        write_key_file(path, SigningKey.from_seed(bytes([1]) * 32))
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("mode", "passphrase", "message"),
    [
        (0o644, None, "accessible by group or others"),
        (0o640, None, "accessible by group or others"),
        (0o600, b"wrong", "key file"),
    ],
    ids=["world-readable", "group-readable", "passphrase-not-needed"],
)
def test_refused_key_files(
    tmp_path: Path, mode: int, passphrase: bytes | None, message: str
) -> None:
    path = tmp_path / "node.key"
    write_key_file(path, SigningKey.from_seed(bytes(32)))
    path.chmod(mode)
    with pytest.raises(KeyFileError, match=message):
        read_key_file(path, passphrase=passphrase)


def test_wrong_passphrase_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "node.key"
    write_key_file(path, SigningKey.from_seed(bytes(32)), passphrase=b"right")
    with pytest.raises(KeyFileError, match="passphrase"):
        read_key_file(path)
    with pytest.raises(KeyFileError, match="key file"):
        read_key_file(path, passphrase=b"wrong")
    with pytest.raises(KeyFileError, match="no key file"):
        read_key_file(tmp_path / "absent.key")
