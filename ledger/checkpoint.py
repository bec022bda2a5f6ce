"""C2SP tlog-checkpoint: a log's signed tree head, and how our logs name themselves.

A checkpoint is the text of a signed note (see `ledger.note`):

    <origin>
    <tree size, ASCII decimal, no leading zeros>
    <base64 of the 32-byte RFC 6962 root hash>
    [<non-empty extension line>...]

Our logs use origin and key name `rdh/<log id>`, where the log id is the lowercase hex
SHA-256 of the log's raw Ed25519 public key, so the key is self-certifying from the id; our
checkpoints have no extension lines. This module owns the text format, signing a checkpoint
and opening a signed one against a log key and optional witness keys. Cosignature details
are in `ledger.cosignature`; k-of-n witness policies in `ledger.policy`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.errors import FormatError, VerificationError
from ledger.keys import SigningKey, VerifyingKey, decode_base64, encode_base64, party_id
from ledger.note import (
    Note,
    NoteSignature,
    NoteSigner,
    NoteVerifier,
    Signer,
    Verifier,
    sign_note,
    verify_note,
)
from ledger.types import Hash, LogId

__all__ = [
    "MAX_TREE_SIZE",
    "ORIGIN_PREFIX",
    "Checkpoint",
    "SignedCheckpoint",
    "check_log_key",
    "log_id_from_origin",
    "log_origin",
    "log_signer",
    "log_verifier",
    "open_checkpoint",
    "parse_decimal",
    "sign_checkpoint",
]

#: Tree sizes and indices are Go int64 values.
MAX_TREE_SIZE = 2**63 - 1
#: Our logs' origin (and key name) is this prefix followed by the log id.
ORIGIN_PREFIX = "rdh/"

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_LOG_ID = re.compile(r"[0-9a-f]{64}")
_CONTROL = re.compile(r"[\x00-\x1f]")
_HASH_SIZE = 32


def parse_decimal(text: str, *, what: str, maximum: int = MAX_TREE_SIZE) -> int:
    """ASCII decimal with no sign and no leading zeros (unless it is `0`), at most `maximum`."""
    if not _DECIMAL.fullmatch(text) or len(text) > len(str(maximum)):
        raise FormatError(f"{what} must be a decimal number without leading zeros")
    value = int(text)
    if value > maximum:
        raise FormatError(f"{what} is too large")
    return value


def _check_line(line: str, what: str) -> None:
    if not isinstance(line, str) or not line:
        raise FormatError(f"the checkpoint {what} must be a non-empty line")
    if _CONTROL.search(line):
        raise FormatError(f"the checkpoint {what} contains a newline or control character")
    try:
        line.encode("utf-8")
    except UnicodeEncodeError as e:
        raise FormatError(f"the checkpoint {what} is not valid Unicode text") from e


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: origin, tree size, root hash and optional extension lines."""

    origin: str
    size: int
    root: Hash
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "origin")
        if type(self.size) is not int or not 0 <= self.size <= MAX_TREE_SIZE:
            raise FormatError("a tree size is an integer from 0 to 2**63-1")
        if not isinstance(self.root, bytes) or len(self.root) != _HASH_SIZE:
            raise FormatError("a root hash is 32 bytes")
        if not isinstance(self.extensions, tuple):
            raise FormatError("checkpoint extension lines must be a tuple")
        for line in self.extensions:
            _check_line(line, "extension line")

    @classmethod
    def from_note(cls, note: bytes) -> Checkpoint:
        """The checkpoint in a signed note, *without verifying any signature*: only for notes
        already trusted (e.g. one this process just signed). Use `open_checkpoint` otherwise."""
        return cls.from_text(Note.from_bytes(note).text)

    def to_text(self) -> str:
        lines = [self.origin, str(self.size), encode_base64(self.root), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        """Parse checkpoint note text strictly (`FormatError` if it is not exactly one)."""
        if not isinstance(text, str) or not text.endswith("\n"):
            raise FormatError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise FormatError("a checkpoint has an origin, a tree size and a root hash line")
        origin, size, root, *extensions = lines
        _check_line(origin, "origin")
        root_hash = decode_base64(root, what="the checkpoint root hash")
        if len(root_hash) != _HASH_SIZE:
            raise FormatError("the checkpoint root hash is not 32 bytes")
        return cls(
            origin=origin,
            size=parse_decimal(size, what="the checkpoint tree size"),
            root=Hash(root_hash),
            extensions=tuple(extensions),
        )


def log_origin(log_id: str) -> str:
    """`rdh/<log id>`: the origin and key name of our log `log_id`."""
    if not isinstance(log_id, str) or not _LOG_ID.fullmatch(log_id):
        raise FormatError("a log id is 64 lowercase hex digits")
    return ORIGIN_PREFIX + log_id


def log_id_from_origin(origin: str) -> LogId:
    """The log id in an origin `rdh/<log id>`, or `FormatError` if it is not one of ours."""
    log_id = origin.removeprefix(ORIGIN_PREFIX)
    if not origin.startswith(ORIGIN_PREFIX) or not _LOG_ID.fullmatch(log_id):
        raise FormatError(f"origin {origin!r} is not rdh/<64 lowercase hex log id>")
    return LogId(log_id)


def check_log_key(log_id: str, key: VerifyingKey) -> None:
    """Raise `VerificationError` unless `key` is the key log id `log_id` commits to."""
    if party_id(key.to_bytes()) != log_id:
        raise VerificationError(f"the key does not belong to log {log_id}")


def log_verifier(key: VerifyingKey) -> NoteVerifier:
    """The checkpoint verifier of the log whose key is `key` (named `rdh/<log id>`)."""
    return NoteVerifier(log_origin(party_id(key.to_bytes())), key)


def log_signer(key: SigningKey) -> NoteSigner:
    """The checkpoint signer of the log whose key is `key` (named `rdh/<log id>`)."""
    return NoteSigner(log_origin(party_id(key.public.to_bytes())), key)


def sign_checkpoint(
    checkpoint: Checkpoint,
    signer: Signer,
    cosigners: Sequence[Signer | tuple[str, SigningKey]] = (),
    *,
    timestamp: int | None = None,
) -> bytes:
    """The signed note of `checkpoint`: the log's signature first, then the cosigners'.

    The log's key name must be the checkpoint origin. A cosigner is a `Signer` (such as a
    `ledger.cosignature.CosignatureSigner`) or a `(name, SigningKey)` pair, which cosigns
    (type 0x04) at `timestamp`.
    """
    if signer.name != checkpoint.origin:
        raise FormatError(f"the log key {signer.name!r} is not named after the origin")
    signers: list[Signer] = [signer]
    for cosigner in cosigners:
        if isinstance(cosigner, tuple):
            # Imported here: ledger.cosignature builds on this module.
            from ledger.cosignature import CosignatureSigner

            if timestamp is None:
                raise FormatError("cosigning needs a timestamp")
            name, key = cosigner
            signers.append(CosignatureSigner(name, key, timestamp))
        else:
            signers.append(cosigner)
    return sign_note(checkpoint.to_text(), signers)


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint whose log signature (and the listed cosignatures) verified."""

    checkpoint: Checkpoint
    note: bytes
    log: NoteVerifier
    signature: NoteSignature
    cosignatures: tuple[NoteSignature, ...] = ()

    @property
    def cosigned_by(self) -> tuple[str, ...]:
        """Key names of the witnesses whose cosignatures verified, in note order."""
        return tuple(sig.name for sig in self.cosignatures)


def open_checkpoint(
    data: bytes,
    *,
    verifier: NoteVerifier | Sequence[NoteVerifier],
    witnesses: Sequence[Verifier] = (),
) -> SignedCheckpoint:
    """Verify a signed checkpoint note.

    It must be signed by `verifier` (or by one of several log keys) whose name equals the
    checkpoint origin. Signatures by known `witnesses` must verify too and are reported in
    `cosignatures`; unknown signatures are ignored. `FormatError` if malformed,
    `VerificationError` if it does not verify.
    """
    logs = (verifier,) if isinstance(verifier, NoteVerifier) else tuple(verifier)
    note = verify_note(data, [*logs, *witnesses])
    checkpoint = Checkpoint.from_text(note.text)
    log_keys = {(v.name, v.key_id): v for v in logs}
    signed_by = [
        (log_keys[(s.name, s.key_id)], s) for s in note.signatures if (s.name, s.key_id) in log_keys
    ]
    if not signed_by:
        raise VerificationError("the checkpoint is not signed by the log's key")
    matching = [(v, s) for v, s in signed_by if v.name == checkpoint.origin]
    if not matching:
        raise VerificationError(
            f"the checkpoint origin {checkpoint.origin!r} is not the name of its log's key"
        )
    log, signature = matching[0]
    cosignatures = tuple(s for s in note.signatures if (s.name, s.key_id) not in log_keys)
    return SignedCheckpoint(checkpoint, bytes(data), log, signature, cosignatures)
