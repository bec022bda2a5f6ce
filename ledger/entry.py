"""Log entries: the canonical JSON leaves of a log's Merkle tree (DESIGN §4.1).

Owns the entry envelope (`v`, `log`, `seq`, `time`, `type`, `refs`, `body`, `signed`), its
byte form (canonical JSON, at most `MAX_ENTRY_BYTES`) and its id (hex RFC 6962 leaf hash).
`Entry.from_bytes` is the one parser, fast enough for audits of millions of entries: it parses
once and checks the fields without encoding again. What a body means for its type, and
whether `seq` is the entry's leaf index, is left to `contracts/` and the auditor.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ledger.canonical import MAX_SAFE_INTEGER, canonicalize, canonicalize_parsed, parse_canonical
from ledger.errors import FormatError, VerificationError
from ledger.keys import check_party_id
from ledger.merkle import leaf_hash
from ledger.statement import SignedStatement, check_object, check_time, check_type_name
from ledger.types import JSON, EntryId, LogId

__all__ = ["ENTRY_VERSION", "MAX_ENTRY_BYTES", "Entry", "entry_id", "verify_statements"]

#: Largest entry in bytes (tile entry bundles use a 16-bit length prefix).
MAX_ENTRY_BYTES = 65535
ENTRY_VERSION = 1

_ENTRY_ID = re.compile(r"[0-9a-f]{64}")
#: A plain decoder, for bytes already verified (no encoding sniffing, no checks).
_DECODER = json.JSONDecoder()
_REQUIRED = frozenset({"v", "log", "seq", "time", "type", "refs", "body"})
_OPTIONAL = frozenset({"signed"})


def entry_id(data: bytes) -> EntryId:
    """The id of entry bytes: lowercase hex of the RFC 6962 leaf hash SHA-256(0x00 || data)."""
    if not isinstance(data, bytes):
        raise FormatError(f"entry bytes must be bytes, not {type(data).__name__}")
    return EntryId(leaf_hash(data).hex())


def _check_size(data: bytes) -> None:
    if len(data) > MAX_ENTRY_BYTES:
        raise FormatError(f"entry is {len(data)} bytes, more than {MAX_ENTRY_BYTES}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One log entry. Construction checks every field and computes the canonical bytes.

    `body` (and statement bodies) must not be changed after construction: `to_bytes()` and
    `id` come from the bytes computed (or parsed) when the entry was made.
    """

    v: int = ENTRY_VERSION
    log: LogId
    seq: int
    time: str
    type: str
    refs: tuple[EntryId, ...] = ()
    body: dict[str, JSON]
    signed: tuple[SignedStatement, ...] = ()
    _bytes: bytes = field(default=b"", init=False, repr=False, compare=False)
    _id: EntryId | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._check_fields()
        data = canonicalize(self.to_dict())
        _check_size(data)
        object.__setattr__(self, "_bytes", data)

    def _check_fields(self) -> None:
        if type(self.v) is not int or self.v != ENTRY_VERSION:
            raise FormatError(f"entry version must be {ENTRY_VERSION}")
        check_party_id(self.log, what="entry log")
        if type(self.seq) is not int or not 0 <= self.seq <= MAX_SAFE_INTEGER:
            raise FormatError("entry seq must be an integer from 0 to 2**53 - 1")
        check_time(self.time, what="entry time")
        check_type_name(self.type, what="entry type")
        if not isinstance(self.refs, tuple):
            raise FormatError("entry refs must be a tuple of entry ids")
        for ref in self.refs:
            if not isinstance(ref, str) or not _ENTRY_ID.fullmatch(ref):
                raise FormatError("each entry ref must be an entry id: 64 lowercase hex digits")
        if len(set(self.refs)) != len(self.refs):
            raise FormatError("entry refs must not repeat an entry id")
        if not isinstance(self.body, dict):
            raise FormatError("entry body must be a JSON object")
        if not isinstance(self.signed, tuple):
            raise FormatError("entry signed must be a tuple of signed statements")
        for signed in self.signed:
            if not isinstance(signed, SignedStatement):
                raise FormatError("entry signed must be a tuple of signed statements")

    def __hash__(self) -> int:
        return hash(self._bytes)

    @classmethod
    def from_parsed_parts(
        cls,
        *,
        log: LogId,
        seq: int,
        time: str,
        type: str,
        refs: tuple[EntryId, ...],
        body: dict[str, JSON],
        signed: tuple[SignedStatement, ...],
    ) -> Entry:
        """An entry whose `body` (and statements) came from `ledger.canonical.parse`.

        Every field is checked as by the constructor, but the body is not walked again to
        validate its JSON values (the parser did), which halves the cost of building an
        entry from a request. Never use it on a hand-built body.
        """
        entry = object.__new__(cls)
        put = object.__setattr__
        for name, value in (
            ("v", ENTRY_VERSION),
            ("log", log),
            ("seq", seq),
            ("time", time),
            ("type", type),
            ("refs", refs),
            ("body", body),
            ("signed", signed),
        ):
            put(entry, name, value)
        entry._check_fields()
        data = canonicalize_parsed(entry.to_dict())
        _check_size(data)
        put(entry, "_bytes", data)
        put(entry, "_id", None)
        return entry

    @classmethod
    def from_dict(cls, data: object) -> Entry:
        """Read an entry from parsed JSON; every field is checked, unknown ones rejected."""
        return cls(**_fields(data))

    @classmethod
    def from_bytes(cls, data: bytes) -> Entry:
        """Read entry bytes, which must be canonical JSON of at most `MAX_ENTRY_BYTES`.

        FormatError (CanonicalError for valid but non-canonical JSON) if they are not an entry.
        `Entry.from_bytes(b).to_bytes() == b` for every accepted `b`.
        """
        if not isinstance(data, bytes):
            raise FormatError(f"entry bytes must be bytes, not {type(data).__name__}")
        _check_size(data)
        fields = _fields(parse_canonical(data), parsed=True)
        # The bytes are canonical, so they are `canonicalize(to_dict())`: skip encoding again.
        entry = object.__new__(cls)
        for name, value in fields.items():
            object.__setattr__(entry, name, value)
        object.__setattr__(entry, "_bytes", data)
        object.__setattr__(entry, "_id", None)
        entry._check_fields()
        return entry

    @classmethod
    def from_verified_bytes(cls, data: bytes) -> Entry:
        """Rebuild an entry from bytes that `from_bytes` accepted before, without its checks.

        For a second pass over bytes already verified (an audit's workers check every entry
        in parallel; its rules then fold them in order). Never use it on unchecked bytes.
        """
        obj, _end = _DECODER.raw_decode(data.decode("utf-8"))
        entry = object.__new__(cls)
        put = object.__setattr__
        for name in ("v", "log", "seq", "time", "type", "body"):
            put(entry, name, obj[name])
        put(entry, "refs", tuple(obj["refs"]))
        signed = obj.get("signed")
        put(entry, "signed", tuple(map(SignedStatement.from_verified_dict, signed or ())))
        put(entry, "_bytes", data)
        put(entry, "_id", None)
        return entry

    def to_dict(self) -> dict[str, JSON]:
        """The entry as JSON values; `signed` is left out when empty. Shares `body`."""
        out: dict[str, JSON] = {
            "v": self.v,
            "log": self.log,
            "seq": self.seq,
            "time": self.time,
            "type": self.type,
            "refs": list(self.refs),
            "body": self.body,
        }
        if self.signed:
            out["signed"] = [s.to_dict() for s in self.signed]
        return out

    def to_bytes(self) -> bytes:
        """The canonical (RFC 8785) bytes of `to_dict()`: what the log stores and hashes."""
        return self._bytes

    @property
    def id(self) -> EntryId:
        """Lowercase hex of the entry's RFC 6962 leaf hash (computed once)."""
        cached = self._id
        if cached is None:
            cached = entry_id(self._bytes)
            object.__setattr__(self, "_id", cached)
        return cached


def _fields(data: object, *, parsed: bool = False) -> dict[str, Any]:
    """The constructor arguments for an entry from parsed JSON (values not yet checked)."""
    obj = check_object(data, what="entry", required=_REQUIRED, optional=_OPTIONAL)
    refs = obj["refs"]
    if not isinstance(refs, list):
        raise FormatError("entry refs must be a JSON array of entry ids")
    fields: dict[str, Any] = {
        "v": obj["v"],
        "log": obj["log"],
        "seq": obj["seq"],
        "time": obj["time"],
        "type": obj["type"],
        "refs": tuple(refs),
        "body": obj["body"],
        "signed": (),
    }
    if "signed" in obj:
        signed = obj["signed"]
        if not isinstance(signed, list) or not signed:
            raise FormatError("entry signed must be a non-empty JSON array (or left out)")
        fields["signed"] = tuple(SignedStatement.from_dict(s, parsed=parsed) for s in signed)
    return fields


def verify_statements(entry: Entry) -> None:
    """Check every embedded statement: its signature, and that it is addressed to this log."""
    if not isinstance(entry, Entry):
        raise FormatError("only an Entry has statements to verify")
    for n, signed in enumerate(entry.signed):
        if signed.statement.log != entry.log:
            raise VerificationError(
                f"statement {n} is addressed to log {signed.statement.log}, not {entry.log}"
            )
        signed.verify()
