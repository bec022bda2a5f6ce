"""Receipts: C2SP tlog-proof@v1 files that prove an entry is in a log, offline.

    c2sp.org/tlog-proof@v1
    extra <base64 of the entry bytes>          (optional)
    index <leaf index, decimal, no leading zeros>
    <base64 proof hash, the leaf's sibling first>
    ...
    <empty line>
    <the signed (and maybe cosigned) checkpoint note, verbatim>

Our receipts put the entry bytes in the `extra` line so that one file is self-contained; a
receipt without it verifies when the caller supplies the entry bytes. The `extra` data is not
trusted: it is only believed once its leaf hash is proven included in a checkpoint signed by
the log (a given log key, or a `Policy` of logs and witnesses).

A receipt verifies when: the checkpoint verifies; its origin is `rdh/<log id>` and the log
key hashes to that id; index < tree size; SHA-256(0x00 || entry) is included at index; the
entry is a canonical `Entry` of that log whose seq is the index; and every statement it
embeds verifies. Building proofs is left to `ledger.merkle`; entry rules to `contracts`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.checkpoint import (
    MAX_TREE_SIZE,
    Checkpoint,
    SignedCheckpoint,
    check_log_key,
    log_id_from_origin,
    open_checkpoint,
    parse_decimal,
)
from ledger.entry import MAX_ENTRY_BYTES, Entry, verify_statements
from ledger.errors import FormatError, VerificationError
from ledger.keys import decode_base64, encode_base64
from ledger.merkle import leaf_hash, verify_inclusion
from ledger.note import Note, NoteVerifier
from ledger.policy import Policy
from ledger.types import EntryId, Hash

__all__ = [
    "HEADER",
    "MAX_PROOF_HASHES",
    "Receipt",
    "VerifiedReceipt",
    "verify_receipt",
]

#: The first line of every tlog-proof@v1 file.
HEADER = "c2sp.org/tlog-proof@v1"
#: An inclusion proof in a tree of at most 2**63-1 leaves has at most 63 hashes.
MAX_PROOF_HASHES = 63

_EXTRA = "extra "
_INDEX = "index "
_HASH_SIZE = 32
_MAX_EXTRA_CHARS = 4 * ((MAX_ENTRY_BYTES + 2) // 3)


@dataclass(frozen=True, slots=True)
class VerifiedReceipt:
    """A receipt that verified: the entry, where it is, and the checkpoint that proves it."""

    entry: Entry
    entry_bytes: bytes
    index: int
    signed: SignedCheckpoint

    @property
    def checkpoint(self) -> Checkpoint:
        return self.signed.checkpoint

    @property
    def cosigned_by(self) -> tuple[str, ...]:
        """Key names of the witnesses whose cosignatures verified."""
        return self.signed.cosigned_by

    @property
    def entry_id(self) -> EntryId:
        return EntryId(leaf_hash(self.entry_bytes).hex())


@dataclass(frozen=True, slots=True)
class Receipt:
    """A parsed tlog-proof@v1: entry bytes (or None), leaf index, proof, checkpoint note."""

    entry: bytes | None
    index: int
    proof: tuple[Hash, ...]
    checkpoint: bytes

    def __post_init__(self) -> None:
        if self.entry is not None and not isinstance(self.entry, bytes):
            raise FormatError("receipt entry bytes must be bytes")
        if self.entry is not None and len(self.entry) > MAX_ENTRY_BYTES:
            raise FormatError(f"the receipt's entry is larger than {MAX_ENTRY_BYTES} bytes")
        if type(self.index) is not int or not 0 <= self.index <= MAX_TREE_SIZE:
            raise FormatError("a receipt index is an integer from 0 to 2**63-1")
        if not isinstance(self.proof, tuple) or len(self.proof) > MAX_PROOF_HASHES:
            raise FormatError(f"an inclusion proof is a tuple of at most {MAX_PROOF_HASHES} hashes")
        if any(not isinstance(h, bytes) or len(h) != _HASH_SIZE for h in self.proof):
            raise FormatError("every inclusion proof hash is 32 bytes")
        if not isinstance(self.checkpoint, bytes):
            raise FormatError("the receipt's checkpoint must be bytes")
        Checkpoint.from_text(Note.from_bytes(self.checkpoint).text)

    def to_bytes(self) -> bytes:
        lines = [HEADER]
        if self.entry is not None:
            lines.append(_EXTRA + encode_base64(self.entry))
        lines.append(f"{_INDEX}{self.index}")
        lines += [encode_base64(h) for h in self.proof]
        return ("\n".join(lines) + "\n\n").encode("ascii") + self.checkpoint

    @classmethod
    def from_bytes(cls, data: bytes) -> Receipt:
        """Parse a tlog-proof@v1 file strictly (`FormatError` if malformed)."""
        if not isinstance(data, bytes):
            raise FormatError("a receipt is bytes")
        head, sep, checkpoint = data.partition(b"\n\n")
        if not sep:
            raise FormatError("a receipt needs an empty line before its checkpoint")
        try:
            lines = head.decode("ascii").split("\n")
        except UnicodeDecodeError as e:
            raise FormatError("a receipt's proof lines must be ASCII") from e
        if lines[0] != HEADER:
            raise FormatError(f"a receipt must start with the line {HEADER}")
        rest = lines[1:]
        entry = None
        if rest and rest[0].startswith(_EXTRA):
            if len(rest[0]) - len(_EXTRA) > _MAX_EXTRA_CHARS:
                raise FormatError(f"the receipt's entry is larger than {MAX_ENTRY_BYTES} bytes")
            entry = decode_base64(rest.pop(0)[len(_EXTRA) :], what="the receipt's extra data")
        if not rest or not rest[0].startswith(_INDEX):
            raise FormatError("a receipt needs an 'index <n>' line after its header")
        index = parse_decimal(rest.pop(0)[len(_INDEX) :], what="the receipt index")
        if len(rest) > MAX_PROOF_HASHES:
            raise FormatError(f"an inclusion proof has at most {MAX_PROOF_HASHES} hashes")
        proof = tuple(_proof_hash(line) for line in rest)
        return cls(entry=entry, index=index, proof=proof, checkpoint=checkpoint)

    def verify(
        self,
        *,
        key: NoteVerifier | None = None,
        policy: Policy | None = None,
        entry: bytes | None = None,
    ) -> VerifiedReceipt:
        """Verify against a log key and/or a policy; `entry` supplies or must equal the bytes
        in the `extra` line. `FormatError` if malformed, `VerificationError` if it fails."""
        if entry is not None and self.entry is not None and entry != self.entry:
            raise VerificationError("the entry bytes given differ from the receipt's")
        data = self.entry if entry is None else entry
        if data is None:
            raise FormatError("the receipt carries no entry and none was given")
        signed = _open(self.checkpoint, key, policy)
        cp = signed.checkpoint
        log_id = log_id_from_origin(cp.origin)
        check_log_key(log_id, signed.log.public_key)
        if cp.extensions:
            raise FormatError("an rdh checkpoint has no extension lines")
        if self.index >= cp.size:
            raise VerificationError(f"index {self.index} is outside the tree of size {cp.size}")
        verify_inclusion(
            leaf_hash=leaf_hash(data),
            index=self.index,
            size=cp.size,
            proof=self.proof,
            root=cp.root,
        )
        parsed = Entry.from_bytes(data)
        if parsed.seq != self.index:
            raise VerificationError(f"the entry says seq {parsed.seq}, not {self.index}")
        if parsed.log != log_id:
            raise VerificationError("the entry belongs to another log than the checkpoint's")
        verify_statements(parsed)
        return VerifiedReceipt(entry=parsed, entry_bytes=data, index=self.index, signed=signed)


def verify_receipt(
    data: bytes,
    *,
    key: NoteVerifier | None = None,
    policy: Policy | None = None,
    entry: bytes | None = None,
) -> VerifiedReceipt:
    """Parse and verify a receipt file (see `Receipt.verify`)."""
    return Receipt.from_bytes(data).verify(key=key, policy=policy, entry=entry)


def _proof_hash(line: str) -> Hash:
    raw = decode_base64(line, what="an inclusion proof hash")
    if len(raw) != _HASH_SIZE:
        raise FormatError("an inclusion proof hash is not 32 bytes")
    return Hash(raw)


def _open(note: bytes, key: NoteVerifier | None, policy: Policy | None) -> SignedCheckpoint:
    """The checkpoint verified by `key` (if given) and by `policy` (if given)."""
    if policy is None:
        if key is None:
            raise VerificationError("a receipt is verified against a log key or a policy")
        return open_checkpoint(note, verifier=key)
    if key is not None:
        open_checkpoint(note, verifier=key)
    # A policy that lists no logs (allowed by tlog-policy) relies on the key given with it.
    return policy.verify_checkpoint(note, log=key if not policy.logs else None)
