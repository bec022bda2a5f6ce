"""C2SP tlog-cosignature, Ed25519 flavour (`cosignature/v1`, signature type 0x04).

A witness that has checked a checkpoint is consistent with everything it saw before adds a
note signature line to it. The signature bytes (after the 4-byte key id) are

    8-byte big-endian timestamp || Ed25519 signature (64 bytes)

over the message `"cosignature/v1\\ntime <timestamp>\\n" + checkpoint note text`. The key id
is SHA-256(name || 0x0A || 0x04 || public key)[:4], and a cosigner's vkey carries type 0x04.
The timestamp is POSIX seconds, at most 2**63-1, and is passed in: nothing here reads a
clock. Deciding whether the checkpoint is consistent (the witness's job) is left to the
node; quorum rules to `ledger.policy`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.checkpoint import Checkpoint
from ledger.errors import FormatError, VerificationError
from ledger.keys import SigningKey, VerifyingKey, encode_base64
from ledger.note import (
    KEY_TYPE_COSIGNATURE,
    NoteSignature,
    key_id,
    parse_vkey,
)

__all__ = [
    "COSIGNATURE_HEADER",
    "MAX_TIMESTAMP",
    "CosignatureSigner",
    "CosignerKey",
    "cosign",
    "cosignature_timestamp",
    "cosigned_message",
    "verify_cosignature",
]

#: First line of every signed cosignature/v1 message.
COSIGNATURE_HEADER = "cosignature/v1"
#: Cosignature timestamps must not exceed this.
MAX_TIMESTAMP = 2**63 - 1

_SIGNATURE_SIZE = 8 + 64


def _check_timestamp(timestamp: int) -> None:
    if type(timestamp) is not int or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise FormatError("a cosignature timestamp is an integer from 0 to 2**63-1")


def cosigned_message(checkpoint_text: str, timestamp: int) -> bytes:
    """The bytes a cosigner signs: header line, time line, then the checkpoint text.

    The text must be a well-formed checkpoint (`FormatError` otherwise), so a witness key
    never signs anything else.
    """
    _check_timestamp(timestamp)
    if Checkpoint.from_text(checkpoint_text).to_text() != checkpoint_text:
        raise FormatError("the cosigned text is not a canonical checkpoint")
    return f"{COSIGNATURE_HEADER}\ntime {timestamp}\n{checkpoint_text}".encode()


@dataclass(frozen=True, slots=True)
class CosignerKey:
    """A witness's public key for Ed25519 cosignatures (vkey type 0x04)."""

    name: str
    public_key: VerifyingKey
    key_id: int = field(init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.public_key, VerifyingKey):
            raise FormatError("a cosigner key needs a VerifyingKey")
        kid = key_id(self.name, KEY_TYPE_COSIGNATURE, self.public_key.to_bytes())
        object.__setattr__(self, "key_id", kid)

    @property
    def key_type(self) -> int:
        return KEY_TYPE_COSIGNATURE

    @classmethod
    def from_vkey(cls, vkey: str) -> CosignerKey:
        """Parse `<name>+<key id>+<base64(0x04 || key)>`; the key id must match."""
        name, _, key_type, material = parse_vkey(vkey)
        if key_type != KEY_TYPE_COSIGNATURE:
            raise FormatError(f"a cosigner vkey has type 0x04, not 0x{key_type:02x}")
        if len(material) != 32:
            raise FormatError("an Ed25519 cosigner public key is 32 bytes")
        return cls(name, VerifyingKey.from_bytes(material))

    def to_vkey(self) -> str:
        material = bytes([KEY_TYPE_COSIGNATURE]) + self.public_key.to_bytes()
        return f"{self.name}+{self.key_id:08x}+{encode_base64(material)}"

    def verify(self, *, text: bytes, signature: bytes) -> None:
        """Check a cosignature (timestamp and signature, key id removed) over note `text`."""
        if len(signature) != _SIGNATURE_SIZE:
            raise VerificationError(f"the cosignature by {self.name} is not 72 bytes")
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            raise VerificationError(f"the cosignature by {self.name} has an invalid timestamp")
        try:
            message = cosigned_message(text.decode("utf-8"), timestamp)
        except (UnicodeDecodeError, FormatError) as e:
            raise VerificationError("a cosignature only signs a checkpoint") from e
        self.public_key.verify(signature=signature[8:], data=message)


@dataclass(frozen=True, slots=True)
class CosignatureSigner:
    """A witness's signing key with the time to put in its next cosignature.

    Satisfies `ledger.note.Signer`, so it can be passed to `sign_note`/`sign_checkpoint`.
    Its repr never shows the key.
    """

    name: str
    key: SigningKey = field(repr=False, compare=False)
    timestamp: int
    key_id: int = field(init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.key, SigningKey):
            raise FormatError("a cosignature signer needs a SigningKey")
        _check_timestamp(self.timestamp)
        kid = key_id(self.name, KEY_TYPE_COSIGNATURE, self.key.public.to_bytes())
        object.__setattr__(self, "key_id", kid)

    @property
    def cosigner_key(self) -> CosignerKey:
        return CosignerKey(self.name, self.key.public)

    def sign(self, text: bytes) -> bytes:
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise FormatError("a cosignature only signs a checkpoint") from e
        message = cosigned_message(decoded, self.timestamp)
        return self.timestamp.to_bytes(8, "big") + self.key.sign(message)


def cosign(checkpoint_text: str, *, name: str, key: SigningKey, timestamp: int) -> NoteSignature:
    """The cosignature line a witness named `name` adds to a checkpoint at `timestamp`."""
    signer = CosignatureSigner(name, key, timestamp)
    text = Checkpoint.from_text(checkpoint_text).to_text()
    return NoteSignature(name, signer.key_id, signer.sign(text.encode("utf-8")))


def cosignature_timestamp(signature: NoteSignature) -> int:
    """The timestamp a cosignature line carries (`FormatError` if it is not a cosignature)."""
    if len(signature.signature) != _SIGNATURE_SIZE:
        raise FormatError(f"the signature by {signature.name} is not a cosignature")
    timestamp = int.from_bytes(signature.signature[:8], "big")
    if timestamp > MAX_TIMESTAMP:
        raise FormatError(f"the cosignature by {signature.name} has an invalid timestamp")
    return timestamp


def verify_cosignature(checkpoint_text: str, *, key: CosignerKey, signature: NoteSignature) -> None:
    """Raise `VerificationError` unless `signature` is `key`'s cosignature of the text."""
    if (signature.name, signature.key_id) != (key.name, key.key_id):
        raise VerificationError(f"the signature is not by cosigner {key.name}")
    try:
        text = checkpoint_text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise VerificationError("a cosignature only signs a checkpoint") from e
    key.verify(text=text, signature=signature.signature)
