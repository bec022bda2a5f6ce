"""Equivocation evidence: two checkpoints signed by one log that cannot both be true.

A log that signs two checkpoints with no consistency proof between them has shown different
histories to different readers. The evidence file is plain text (see docs/protocol.md):

    rdh/equivocation/v1
    vkey <the log's verifier key>
    note <base64 of the first signed checkpoint>
    note <base64 of the second signed checkpoint>

`check_equivocation` verifies both signatures and then decides whether the conflict is
*proven*: two different roots for one size always are; checkpoints of different sizes are
proven to conflict when the auditor knows the log's tree (from a bundle) and one of them
does not match it. Anything else cannot be decided offline and is reported as unproven.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ledger.checkpoint import Checkpoint, log_origin, open_checkpoint
from ledger.errors import FormatError, VerificationError
from ledger.keys import decode_base64, encode_base64, party_id
from ledger.note import NoteVerifier
from ledger.types import Hash, LogId, PartyId

__all__ = ["HEADER", "Equivocation", "Verdict", "check_equivocation"]

HEADER = "rdh/equivocation/v1"


@dataclass(frozen=True, slots=True)
class Equivocation:
    """Two signed checkpoints of one log, said to conflict."""

    vkey: str
    first: bytes
    second: bytes

    @property
    def log_id(self) -> LogId:
        """The log the evidence is about (the party id of the key)."""
        return PartyId(party_id(NoteVerifier.from_vkey(self.vkey).public_key.to_bytes()))

    def to_bytes(self) -> bytes:
        lines = [
            HEADER,
            f"vkey {self.vkey}",
            "note " + encode_base64(self.first),
            "note " + encode_base64(self.second),
        ]
        return ("\n".join(lines) + "\n").encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Equivocation:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise FormatError("evidence is not UTF-8 text") from e
        lines = text.split("\n")
        if len(lines) != 5 or lines[4] != "" or lines[0] != HEADER:
            raise FormatError(f"evidence must be {HEADER}, a vkey line and two note lines")
        if not lines[1].startswith("vkey "):
            raise FormatError("evidence: the second line must be 'vkey <key>'")
        notes = []
        for line in lines[2:4]:
            if not line.startswith("note "):
                raise FormatError("evidence: the third and fourth lines must be 'note <base64>'")
            notes.append(decode_base64(line[5:], what="evidence note"))
        verifier = NoteVerifier.from_vkey(lines[1][5:])
        expected = log_origin(party_id(verifier.public_key.to_bytes()))
        if verifier.name != expected:
            raise FormatError(f"evidence: the key is named {verifier.name!r}, not {expected!r}")
        return cls(vkey=lines[1][5:], first=notes[0], second=notes[1])


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether the evidence proves equivocation, and why (one sentence)."""

    proven: bool
    reason: str
    first: Checkpoint
    second: Checkpoint


def check_equivocation(
    item: Equivocation, *, root_at: Callable[[int], Hash | None] | None = None
) -> Verdict:
    """Verify both checkpoints' signatures and judge the conflict.

    `root_at(size)` gives the root of the log's tree at `size` when the caller knows it (or
    None). Raises `VerificationError` when the evidence is not evidence: a signature fails,
    the origins differ, or the two checkpoints are the same tree head.
    """
    verifier = NoteVerifier.from_vkey(item.vkey)
    a = open_checkpoint(item.first, verifier=verifier).checkpoint
    b = open_checkpoint(item.second, verifier=verifier).checkpoint
    if (a.size, a.root) == (b.size, b.root):
        raise VerificationError("the two checkpoints are the same tree head")
    if a.size == b.size:
        return Verdict(True, f"the log signed two different roots for size {a.size}", a, b)
    if root_at is not None:
        for cp in (a, b):
            known = root_at(cp.size)
            if known is not None and known != cp.root:
                return Verdict(
                    True,
                    f"the log signed root {cp.root.hex()} for size {cp.size}, but its tree in "
                    f"this bundle has root {known.hex()} at that size",
                    a,
                    b,
                )
        if all(root_at(cp.size) is not None for cp in (a, b)):
            raise VerificationError(
                "both checkpoints match the log's tree in this bundle: they are consistent"
            )
    return Verdict(
        False,
        f"checkpoints of sizes {a.size} and {b.size} are both validly signed; without the "
        "log's tree their consistency cannot be decided offline",
        a,
        b,
    )
