"""Private key files on disk: PEM (PKCS#8), mode 0600, optionally encrypted.

The key's bytes and their encryption are `ledger.keys.SigningKey.to_pem`/`from_pem`; this
module owns the file: it is created atomically with mode 0600 (never briefly readable by
others, never overwriting an existing key), and refused on load if group or others can read
it. Fresh keys come from the operating system's random source, here and nowhere else.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ledger.errors import LedgerError
from ledger.keys import SEED_SIZE, SigningKey
from node.errors import NodeError

__all__ = ["KeyFileError", "generate_key", "read_key_file", "write_key_file"]


class KeyFileError(NodeError):
    """A key file cannot be written or used (permissions, passphrase, format)."""


def generate_key() -> SigningKey:
    """A new Ed25519 key from the operating system's cryptographic random source."""
    return SigningKey.from_seed(os.urandom(SEED_SIZE))


def write_key_file(path: Path, key: SigningKey, *, passphrase: bytes | None = None) -> None:
    """Write `key` to a new file at `path` with mode 0600; refuse to replace an existing file."""
    data = key.to_pem(passphrase=passphrase)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"a temporary key file {tmp} is in the way; remove it") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)  # whatever the umask was
        try:
            os.link(tmp, path)  # fails if `path` exists: never overwrite a key
        except FileExistsError:
            raise KeyFileError(f"{path} already exists; refusing to overwrite a key") from None
    finally:
        tmp.unlink(missing_ok=True)


def read_key_file(path: Path, *, passphrase: bytes | None = None) -> SigningKey:
    """Load a key file, refusing one that group or others may read."""
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeyFileError(f"no key file at {path}") from None
    except OSError as e:
        raise KeyFileError(f"cannot read key file {path}: {e.strerror}") from e
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"key file {path} is accessible by group or others (mode {stat.S_IMODE(mode):o}); "
            f"run: chmod 600 {path}"
        )
    try:
        return SigningKey.from_pem(data, passphrase=passphrase)
    except LedgerError as e:
        raise KeyFileError(f"key file {path}: {e}") from e
