"""C2SP tlog-policy: which logs to trust and which witnesses must have cosigned.

A policy file is lines of octets; items are separated by ASCII spaces and tabs only, lines
may have leading and trailing whitespace, and empty lines and comment lines (first
non-whitespace octet `#`) are ignored:

    log <vkey> [<url>]                   a trusted log; its key name is its origin
    witness <name> <vkey> [<url>]        a witness (cosignature vkey, type 0x04)
    group <name> all|any|<k> <name>...   k of the n members must have witnessed
    quorum <name>|none                   exactly once

Names are defined before use; witnesses and groups share one namespace, in which `none` is
predefined (and cannot be a group member); a group lists each member at most once; two logs
or two witnesses with the same public key are refused. The only control octets allowed are
tab and newline; octets with the high bit set are opaque: a name is kept as `str` decoded
from UTF-8 with `surrogateescape`, so distinct octet strings stay distinct and `to_bytes`
gives them back unchanged. A final newline is not required.

This module owns parsing, writing and evaluating policies, and verifying a checkpoint
against one. Checking what the log's entries say is left to the caller.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from ledger.checkpoint import SignedCheckpoint, open_checkpoint
from ledger.cosignature import CosignerKey
from ledger.errors import FormatError, VerificationError
from ledger.note import NoteSignature, NoteVerifier

__all__ = [
    "NONE",
    "Policy",
    "PolicyGroup",
    "PolicyLog",
    "PolicyWitness",
]

#: The predefined quorum name that requires no cosignature.
NONE = "none"

_BAD_OCTET = re.compile(rb"[^\t\n\x20-\x7e\x80-\xff]")
_WHITESPACE = re.compile(rb"[ \t]+")
_TOKEN = re.compile(rb"[\x21-\x7e\x80-\xff]+")
_THRESHOLD = re.compile(r"[1-9][0-9]*")


def _octets(value: str) -> bytes:
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as e:
        raise FormatError("a policy item is not text") from e


def _check_token(value: str | None, what: str) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not _TOKEN.fullmatch(_octets(value)):
        raise FormatError(f"a policy {what} must be one item without spaces or control octets")


def _decode(token: bytes) -> str:
    return token.decode("utf-8", "surrogateescape")


@dataclass(frozen=True, slots=True)
class PolicyLog:
    """A `log` line: a trusted log's key (its name is the log's origin) and optional URL."""

    verifier: NoteVerifier
    url: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.verifier, NoteVerifier):
            raise FormatError("a policy log needs a NoteVerifier (type 0x01) key")
        _check_token(self.url, "log URL")

    def to_line(self) -> str:
        url = "" if self.url is None else f" {self.url}"
        return f"log {self.verifier.to_vkey()}{url}"


@dataclass(frozen=True, slots=True)
class PolicyWitness:
    """A `witness` line: the policy's name for a witness, its cosigner key, optional URL."""

    name: str
    key: CosignerKey
    url: str | None = None

    def __post_init__(self) -> None:
        _check_token(self.name, "witness name")
        if not isinstance(self.key, CosignerKey):
            raise FormatError("a policy witness needs a cosigner (type 0x04) key")
        _check_token(self.url, "witness URL")

    def to_line(self) -> str:
        url = "" if self.url is None else f" {self.url}"
        return f"witness {self.name} {self.key.to_vkey()}{url}"


@dataclass(frozen=True, slots=True)
class PolicyGroup:
    """A `group` line: at least `threshold` of `members` must have witnessed.

    `rule` is `all`, `any` or the decimal threshold, as written.
    """

    name: str
    rule: str
    members: tuple[str, ...]

    def __post_init__(self) -> None:
        _check_token(self.name, "group name")
        if not isinstance(self.members, tuple) or not self.members:
            raise FormatError(f"group {self.name} needs at least one member")
        for member in self.members:
            _check_token(member, "group member")
        if len(set(self.members)) != len(self.members):
            raise FormatError(f"group {self.name} lists a member twice")
        if NONE in self.members:
            raise FormatError(f"group {self.name}: 'none' cannot be a group member")
        if self.rule not in ("all", "any"):
            if not isinstance(self.rule, str) or not _THRESHOLD.fullmatch(self.rule):
                raise FormatError(f"group {self.name}: the threshold must be all, any or k")
            if int(self.rule) > len(self.members):
                raise FormatError(f"group {self.name}: the threshold exceeds its members")

    @property
    def threshold(self) -> int:
        if self.rule == "all":
            return len(self.members)
        if self.rule == "any":
            return 1
        return int(self.rule)

    def to_line(self) -> str:
        return f"group {self.name} {self.rule} {' '.join(self.members)}"


@dataclass(frozen=True, slots=True)
class Policy:
    """A parsed tlog-policy. Groups may only name witnesses and earlier groups."""

    logs: tuple[PolicyLog, ...] = ()
    witnesses: tuple[PolicyWitness, ...] = ()
    groups: tuple[PolicyGroup, ...] = ()
    quorum: str = NONE

    def __post_init__(self) -> None:
        keys = [log.verifier.public_key.to_bytes() for log in self.logs]
        if len(set(keys)) != len(keys):
            raise FormatError("the policy lists one log key twice")
        keys = [w.key.public_key.to_bytes() for w in self.witnesses]
        if len(set(keys)) != len(keys):
            raise FormatError("the policy lists one witness key twice")
        defined = {NONE}
        for name in [w.name for w in self.witnesses]:
            _define(defined, name)
        for group in self.groups:
            for member in group.members:
                if member not in defined:
                    raise FormatError(f"group {group.name} uses {member}, not defined before")
            _define(defined, group.name)
        _check_token(self.quorum, "quorum")
        if self.quorum not in defined:
            raise FormatError(f"the quorum {self.quorum} is not a defined witness or group")

    # --- text -------------------------------------------------------------------------

    @classmethod
    def from_bytes(cls, data: bytes) -> Policy:
        """Parse a policy file (`FormatError` with the line number if malformed)."""
        if not isinstance(data, bytes):
            raise FormatError("a policy is bytes")
        if bad := _BAD_OCTET.search(data):
            number = data.count(b"\n", 0, bad.start()) + 1
            raise FormatError(f"policy line {number}: control octet 0x{bad.group()[0]:02x}")
        parser = _Parser()
        for number, line in enumerate(data.split(b"\n"), start=1):
            stripped = line.strip(b" \t")
            if not stripped or stripped.startswith(b"#"):
                continue
            try:
                parser.line(_WHITESPACE.split(stripped))
            except FormatError as e:
                raise FormatError(f"policy line {number}: {e}") from e
        return parser.policy()

    @classmethod
    def from_text(cls, text: str | bytes) -> Policy:
        """Parse a policy given as text (or as the file's bytes)."""
        return cls.from_bytes(text if isinstance(text, bytes) else _octets(text))

    def to_bytes(self) -> bytes:
        lines = [log.to_line() for log in self.logs]
        lines += [w.to_line() for w in self.witnesses]
        lines += [g.to_line() for g in self.groups]
        lines.append(f"quorum {self.quorum}")
        return b"".join(_octets(line) + b"\n" for line in lines)

    def to_text(self) -> str:
        return _decode(self.to_bytes())

    # --- evaluation -------------------------------------------------------------------

    def satisfied(self, cosigned_by: Collection[str]) -> bool:
        """Whether the quorum is met when exactly the witnesses named in `cosigned_by` (policy
        names) have cosigned."""
        met = {w.name: w.name in cosigned_by for w in self.witnesses}
        met[NONE] = True
        for group in self.groups:  # members are always defined earlier
            met[group.name] = sum(met[m] for m in group.members) >= group.threshold
        return met[self.quorum]

    def witness_names(self, cosignatures: Iterable[NoteSignature]) -> frozenset[str]:
        """Policy names of the witnesses whose keys made these (verified) cosignatures."""
        by_key = {(w.key.name, w.key.key_id): w.name for w in self.witnesses}
        return frozenset(
            by_key[(s.name, s.key_id)] for s in cosignatures if (s.name, s.key_id) in by_key
        )

    def verify_checkpoint(
        self, data: bytes, *, log: NoteVerifier | None = None
    ) -> SignedCheckpoint:
        """Verify a cosigned checkpoint: signed by one of the policy's logs (or `log`), with
        an origin equal to that log's key name, and cosigned to meet the quorum."""
        logs = [entry.verifier for entry in self.logs]
        if log is not None:
            logs.append(log)
        if not logs:
            raise VerificationError("the policy lists no log to verify the checkpoint against")
        signed = open_checkpoint(data, verifier=logs, witnesses=[w.key for w in self.witnesses])
        if not self.satisfied(self.witness_names(signed.cosignatures)):
            raise VerificationError(
                f"the checkpoint's cosignatures do not meet the policy quorum {self.quorum!r}"
            )
        return signed


def _define(defined: set[str], name: str) -> None:
    if name in defined:
        raise FormatError(f"the name {name} is defined twice (or is 'none')")
    defined.add(name)


class _Parser:
    """Accumulates policy lines in file order, checking names as they are defined."""

    def __init__(self) -> None:
        self.logs: list[PolicyLog] = []
        self.witnesses: list[PolicyWitness] = []
        self.groups: list[PolicyGroup] = []
        self.quorum: str | None = None
        self.defined: set[str] = {NONE}

    def line(self, tokens: list[bytes]) -> None:
        keyword, args = tokens[0], [_decode(t) for t in tokens[1:]]
        if keyword == b"log":
            if len(args) not in (1, 2):
                raise FormatError("expected: log <vkey> [<url>]")
            self.logs.append(PolicyLog(NoteVerifier.from_vkey(_vkey(tokens[1])), _url(args, 1)))
        elif keyword == b"witness":
            if len(args) not in (2, 3):
                raise FormatError("expected: witness <name> <vkey> [<url>]")
            key = CosignerKey.from_vkey(_vkey(tokens[2]))
            witness = PolicyWitness(args[0], key, _url(args, 2))
            _define(self.defined, witness.name)
            self.witnesses.append(witness)
        elif keyword == b"group":
            if len(args) < 3:
                raise FormatError("expected: group <name> all|any|<k> <name>...")
            group = PolicyGroup(args[0], args[1], tuple(args[2:]))
            for member in group.members:
                if member not in self.defined:
                    raise FormatError(f"group member {member} is not defined on an earlier line")
            _define(self.defined, group.name)
            self.groups.append(group)
        elif keyword == b"quorum":
            if len(args) != 1:
                raise FormatError("expected: quorum <name>")
            if self.quorum is not None:
                raise FormatError("the policy defines the quorum twice")
            if args[0] not in self.defined:
                raise FormatError(f"the quorum {args[0]} is not defined on an earlier line")
            self.quorum = args[0]
        else:
            raise FormatError(f"unknown keyword {_decode(keyword)!r}")

    def policy(self) -> Policy:
        if self.quorum is None:
            raise FormatError("the policy has no quorum line")
        return Policy(tuple(self.logs), tuple(self.witnesses), tuple(self.groups), self.quorum)


def _vkey(token: bytes) -> str:
    try:
        return token.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FormatError("a vkey must be UTF-8") from e


def _url(args: list[str], index: int) -> str | None:
    return args[index] if len(args) > index else None
