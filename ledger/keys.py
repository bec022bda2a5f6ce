"""Ed25519 identities: verifying keys, signing keys, party ids and strict base64.

Owns the key types every signature in the ledger uses (DESIGN §2.8): a party id is the
lowercase hex SHA-256 of the raw 32-byte public key. Wraps `cryptography` and translates its
exceptions into `ledger.errors`. Key generation (randomness) and key files (I/O) are left to
`node/`; this module only converts seeds and PEM bytes it is given.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InternalError, InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ledger.errors import FormatError, VerificationError
from ledger.types import PartyId

__all__ = [
    "PUBLIC_KEY_SIZE",
    "SEED_SIZE",
    "SIGNATURE_SIZE",
    "SigningKey",
    "VerifyingKey",
    "check_party_id",
    "decode_base64",
    "encode_base64",
    "party_id",
]

PUBLIC_KEY_SIZE = 32
SEED_SIZE = 32
SIGNATURE_SIZE = 64

_HEX64 = re.compile(r"[0-9a-f]{64}")
_ENCRYPTED_PEM_MARKERS = (b"-----BEGIN ENCRYPTED PRIVATE KEY-----", b"Proc-Type: 4,ENCRYPTED")


def encode_base64(data: bytes) -> str:
    """Standard base64 with padding (RFC 4648 §4)."""
    if not isinstance(data, bytes):
        raise FormatError(f"only bytes can be base64 encoded, not {type(data).__name__}")
    return base64.b64encode(data).decode("ascii")


def decode_base64(text: str, *, what: str = "value") -> bytes:
    """Decode standard padded base64, accepting only its one canonical spelling.

    Rejects (FormatError) characters outside the alphabet, missing or extra padding, and
    non-zero unused bits, so that every byte string has exactly one accepted text.
    """
    if not isinstance(text, str):
        raise FormatError(f"{what} must be a base64 string, not {type(text).__name__}")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise FormatError(f"{what} is not valid base64") from e
    if encode_base64(data) != text:
        raise FormatError(f"{what} is not canonical base64")
    return data


def _raw_public_key(public_key: object) -> bytes:
    if not isinstance(public_key, bytes) or len(public_key) != PUBLIC_KEY_SIZE:
        raise FormatError(f"an Ed25519 public key is {PUBLIC_KEY_SIZE} raw bytes")
    return public_key


def party_id(public_key: bytes) -> PartyId:
    """The party id of a raw 32-byte Ed25519 public key: lowercase hex SHA-256."""
    return PartyId(hashlib.sha256(_raw_public_key(public_key)).hexdigest())


def check_party_id(value: object, *, what: str = "party id") -> PartyId:
    """Return `value` if it is a party (or log) id, 64 lowercase hex digits; else FormatError."""
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise FormatError(f"{what} must be 64 lowercase hex digits")
    return PartyId(value)


@dataclass(frozen=True, slots=True)
class VerifyingKey:
    """An Ed25519 public key (32 raw bytes)."""

    raw: bytes

    def __post_init__(self) -> None:
        _raw_public_key(self.raw)

    @classmethod
    def from_bytes(cls, data: bytes) -> VerifyingKey:
        """The key from its 32 raw bytes."""
        return cls(data)

    def to_bytes(self) -> bytes:
        """The 32 raw bytes."""
        return self.raw

    @classmethod
    def from_b64(cls, text: str) -> VerifyingKey:
        """The key from standard padded base64 of its raw bytes (as in a statement's signer)."""
        return cls(decode_base64(text, what="public key"))

    def to_b64(self) -> str:
        """Standard padded base64 of the raw bytes."""
        return encode_base64(self.raw)

    @property
    def party_id(self) -> PartyId:
        """Lowercase hex SHA-256 of the raw key."""
        return party_id(self.raw)

    def verify(self, *, signature: bytes, data: bytes) -> None:
        """Check an Ed25519 signature over `data`; raise VerificationError if it is not valid."""
        if not isinstance(data, bytes):
            raise FormatError(f"signed data must be bytes, not {type(data).__name__}")
        if not isinstance(signature, bytes) or len(signature) != SIGNATURE_SIZE:
            raise VerificationError(f"an Ed25519 signature is {SIGNATURE_SIZE} bytes")
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, data)
        except (InvalidSignature, ValueError) as e:
            raise VerificationError(
                f"the signature does not verify with key {self.party_id}"
            ) from e


class SigningKey:
    """An Ed25519 private key. Its repr shows only the party id, never the key."""

    __slots__ = ("_key", "_public")

    def __init__(self, key: Ed25519PrivateKey) -> None:
        if not isinstance(key, Ed25519PrivateKey):
            raise FormatError("a signing key must be an Ed25519 private key")
        self._key = key
        self._public = VerifyingKey(key.public_key().public_bytes_raw())

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKey:
        """The key from its 32-byte seed (RFC 8032 private key)."""
        if not isinstance(seed, bytes) or len(seed) != SEED_SIZE:
            raise FormatError(f"an Ed25519 seed is {SEED_SIZE} bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    def seed(self) -> bytes:
        """The 32-byte seed. Handle with care: it is the private key."""
        return self._key.private_bytes_raw()

    @property
    def public(self) -> VerifyingKey:
        """The matching verifying key."""
        return self._public

    @property
    def party_id(self) -> PartyId:
        """The party id of the public key."""
        return self._public.party_id

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature of `data`."""
        if not isinstance(data, bytes):
            raise FormatError(f"data to sign must be bytes, not {type(data).__name__}")
        return self._key.sign(data)

    def to_pem(self, *, passphrase: bytes | None = None) -> bytes:
        """PKCS#8 PEM, encrypted with the best available scheme when a passphrase is given."""
        encryption: serialization.KeySerializationEncryption
        if passphrase is None:
            encryption = serialization.NoEncryption()
        elif isinstance(passphrase, bytes) and passphrase:
            encryption = serialization.BestAvailableEncryption(passphrase)
        else:
            raise FormatError("a key file passphrase must be non-empty bytes")
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    @classmethod
    def from_pem(cls, data: bytes, *, passphrase: bytes | None = None) -> SigningKey:
        """Load a PEM private key file (PKCS#8, optionally encrypted) holding an Ed25519 key.

        FormatError if the file is not such a key, is encrypted and no passphrase is given, or
        is not encrypted and one is; VerificationError if the passphrase is wrong.
        """
        if not isinstance(data, bytes):
            raise FormatError(f"a PEM key file must be bytes, not {type(data).__name__}")
        if passphrase is not None and (not isinstance(passphrase, bytes) or not passphrase):
            raise FormatError("a key file passphrase must be non-empty bytes")
        encrypted = any(marker in data for marker in _ENCRYPTED_PEM_MARKERS)
        if encrypted and passphrase is None:
            raise FormatError("the key file is encrypted: a passphrase is needed")
        if not encrypted and passphrase is not None:
            raise FormatError("the key file is not encrypted: no passphrase is needed")
        try:
            key = serialization.load_pem_private_key(data, password=passphrase)
        except (ValueError, TypeError, UnsupportedAlgorithm, InternalError) as e:
            # InternalError: OpenSSL fails this way on some damaged PEM bodies.
            if encrypted:
                raise VerificationError("the passphrase is wrong or the key file is damaged") from e
            raise FormatError("the key file is not a readable PEM private key") from e
        if not isinstance(key, Ed25519PrivateKey):
            raise FormatError("the key file does not hold an Ed25519 private key")
        return cls(key)

    def __repr__(self) -> str:
        return f"SigningKey(party_id={self.party_id!r})"
