"""Signed statements: what a worker or another node signs to consent (DESIGN §4.2).

Owns the `Statement` format, its signature (Ed25519 over `STATEMENT_PREFIX` + canonical
bytes) and the field formats statements share with entries: UTC times, dotted type names,
JSON objects with a fixed set of keys. Whether a node accepts a statement (its own log, fresh
nonce, clock skew) is left to `node/`; what a statement's body means, to `contracts/`.
"""

from __future__ import annotations

import base64
import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from ledger.canonical import canonicalize, canonicalize_parsed
from ledger.errors import FormatError
from ledger.keys import (
    SIGNATURE_SIZE,
    SigningKey,
    VerifyingKey,
    check_party_id,
    decode_base64,
    encode_base64,
)
from ledger.types import JSON, LogId

__all__ = [
    "NONCE_MAX_BYTES",
    "NONCE_MIN_BYTES",
    "STATEMENT_PREFIX",
    "STATEMENT_VERSION",
    "SignedStatement",
    "Statement",
    "check_object",
    "check_time",
    "check_type_name",
    "format_time",
    "parse_time",
    "sign_statement",
]

#: Domain separation: the signed message is this prefix followed by the canonical statement.
STATEMENT_PREFIX = b"rdh/statement/v1\n"
STATEMENT_VERSION = 1
#: A nonce is base64url without padding of this many random bytes (at least 128 bits).
NONCE_MIN_BYTES = 16
NONCE_MAX_BYTES = 64

# The date is checked by `date`; the time of day by the pattern (no leap seconds).
_TIME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z")
_TYPE_NAME = re.compile(r"[a-z][a-z0-9_-]*(?:\.[a-z][a-z0-9_-]*)+")
_NONCE = re.compile(r"[A-Za-z0-9_-]+")
_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#: Last characters that leave 4 (resp. 2) unused low bits zero.
_NONCE_END_4 = frozenset(_B64URL[::16])
_NONCE_END_2 = frozenset(_B64URL[::4])
_STATEMENT_KEYS = frozenset({"v", "type", "log", "signer", "time", "nonce", "body"})
_SIGNED_KEYS = frozenset({"statement", "sig"})


def parse_time(text: str, *, what: str = "time") -> datetime:
    """Read a ledger time, exactly `YYYY-MM-DDTHH:MM:SSZ` (UTC), as an aware datetime.

    The fixed width means ledger times also compare correctly as strings.
    """
    check_time(text, what=what)
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)


def check_time(value: object, *, what: str = "time") -> str:
    """Return `value` if it is a ledger time `YYYY-MM-DDTHH:MM:SSZ` of a real date and time."""
    match = _TIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise FormatError(f"{what} must be a UTC time like 2026-11-25T15:04:05Z")
    if not _is_real_date(match.group(1)):
        raise FormatError(f"{what} {value} is not a real date")
    return match.string


@functools.lru_cache(maxsize=4096)
def _is_real_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def format_time(moment: datetime) -> str:
    """Write an aware datetime as a ledger time in UTC, dropping fractions of a second."""
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise FormatError("a ledger time needs a timezone-aware datetime")
    utc = moment.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z"
    )


def check_type_name(value: object, *, what: str = "type") -> str:
    """Return `value` if it is a dotted lowercase type name like `contract.sign`."""
    if not isinstance(value, str) or not _TYPE_NAME.fullmatch(value):
        raise FormatError(f"{what} must be a dotted lowercase name like contract.sign")
    return value


def check_object(
    value: object,
    *,
    what: str,
    required: frozenset[str],
    optional: frozenset[str] = frozenset(),
) -> dict[str, JSON]:
    """Return `value` if it is a dict with every `required` key and no key outside both sets."""
    if not isinstance(value, dict):
        raise FormatError(f"{what} must be a JSON object")
    keys = value.keys()
    if keys == required or required <= keys <= required | optional:
        return value
    missing = sorted(required - keys)
    if missing:
        raise FormatError(f"{what} lacks the field {missing[0]!r}")
    unknown = sorted(str(key) for key in keys - required - optional)
    raise FormatError(f"{what} has the unknown field {unknown[0]!r}")


def _check_version(value: object, what: str) -> None:
    if type(value) is not int or value != STATEMENT_VERSION:
        raise FormatError(f"{what} version must be {STATEMENT_VERSION}")


def _check_nonce(value: object) -> None:
    """Base64url without padding, canonical, of NONCE_MIN_BYTES..NONCE_MAX_BYTES bytes.

    Checked without decoding (this runs once per statement in an audit): a text of length L
    holds floor(6L/8) bytes, L mod 4 == 1 is impossible, and the last character must leave
    the unused low bits zero (2 bits free when L mod 4 == 3, 4 bits when L mod 4 == 2).
    """
    if not isinstance(value, str) or not _NONCE.fullmatch(value):
        raise FormatError("statement nonce must be base64url without padding")
    size, rest = divmod(len(value) * 6, 8)
    if len(value) % 4 == 1:
        raise FormatError("statement nonce is not valid base64url (impossible length)")
    if rest and value[-1] not in (_NONCE_END_4 if rest == 4 else _NONCE_END_2):
        raise FormatError("statement nonce is not canonical base64url")
    if not NONCE_MIN_BYTES <= size <= NONCE_MAX_BYTES:
        raise FormatError(f"statement nonce must hold {NONCE_MIN_BYTES} to {NONCE_MAX_BYTES} bytes")


@dataclass(frozen=True, slots=True, kw_only=True)
class Statement:
    """A statement before signing. `body` must not be changed after construction."""

    v: int = STATEMENT_VERSION
    type: str
    log: LogId
    signer: VerifyingKey
    time: str
    nonce: str
    body: dict[str, JSON]
    _bytes: bytes = field(default=b"", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._check_fields()
        object.__setattr__(self, "_bytes", canonicalize(self.to_dict()))

    def _check_fields(self) -> None:
        _check_version(self.v, "statement")
        check_type_name(self.type, what="statement type")
        check_party_id(self.log, what="statement log")
        if not isinstance(self.signer, VerifyingKey):
            raise FormatError("statement signer must be a VerifyingKey")
        check_time(self.time, what="statement time")
        _check_nonce(self.nonce)
        if not isinstance(self.body, dict):
            raise FormatError("statement body must be a JSON object")

    def __hash__(self) -> int:
        return hash(self._bytes)

    @classmethod
    def from_dict(cls, data: object, *, parsed: bool = False) -> Statement:
        """Read a statement from JSON values; every field is checked, unknown ones rejected.

        `parsed=True` promises that `data` came from `ledger.canonical.parse` (or
        `parse_canonical`), which already validated it as ledger JSON; encoding then skips
        that validation (the audit's hot path). Anything else must leave it False.
        """
        fields = check_object(data, what="statement", required=_STATEMENT_KEYS)
        signer = fields["signer"]
        if not isinstance(signer, str):
            raise FormatError("statement signer must be a base64 public key")
        values = {
            "v": fields["v"],
            "type": fields["type"],
            "log": fields["log"],
            "signer": VerifyingKey.from_b64(signer),
            "time": fields["time"],
            "nonce": fields["nonce"],
            "body": fields["body"],
        }
        if not parsed:
            return cls(**values)  # type: ignore[arg-type]
        statement = object.__new__(cls)
        for name, value in values.items():
            object.__setattr__(statement, name, value)
        statement._check_fields()
        data_bytes = canonicalize_parsed(fields)  # the same JSON as to_dict(), already parsed
        object.__setattr__(statement, "_bytes", data_bytes)
        return statement

    def to_dict(self) -> dict[str, JSON]:
        """The statement as JSON values (shares `body`, does not copy it)."""
        return {
            "v": self.v,
            "type": self.type,
            "log": self.log,
            "signer": self.signer.to_b64(),
            "time": self.time,
            "nonce": self.nonce,
            "body": self.body,
        }

    def to_bytes(self) -> bytes:
        """The canonical (RFC 8785) bytes of `to_dict()`."""
        return self._bytes

    def signed_message(self) -> bytes:
        """The exact bytes the signer signs: `STATEMENT_PREFIX` + canonical statement."""
        return STATEMENT_PREFIX + self._bytes


@dataclass(frozen=True, slots=True)
class SignedStatement:
    """A statement with its signer's Ed25519 signature (not yet verified)."""

    statement: Statement
    sig: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.statement, Statement):
            raise FormatError("a signed statement needs a Statement")
        if not isinstance(self.sig, bytes) or len(self.sig) != SIGNATURE_SIZE:
            raise FormatError(f"a statement signature is {SIGNATURE_SIZE} bytes")

    @classmethod
    def from_dict(cls, data: object, *, parsed: bool = False) -> SignedStatement:
        """Read `{"statement": {...}, "sig": "<base64>"}`; unknown fields are rejected.

        `parsed` as for `Statement.from_dict`.
        """
        fields = check_object(data, what="signed statement", required=_SIGNED_KEYS)
        sig = decode_base64(fields["sig"], what="statement signature")  # type: ignore[arg-type]
        return cls(Statement.from_dict(fields["statement"], parsed=parsed), sig)

    @classmethod
    def from_verified_dict(cls, data: dict[str, Any]) -> SignedStatement:
        """Rebuild from JSON values that `from_dict` accepted before, without its checks (see
        `Entry.from_verified_bytes`). Never use it on unchecked values."""
        fields = data["statement"]
        statement = object.__new__(Statement)
        put = object.__setattr__
        for name in ("v", "type", "log", "time", "nonce", "body"):
            put(statement, name, fields[name])
        put(statement, "signer", VerifyingKey(base64.b64decode(fields["signer"])))
        put(statement, "_bytes", canonicalize_parsed(fields))
        signed = object.__new__(cls)
        put(signed, "statement", statement)
        put(signed, "sig", base64.b64decode(data["sig"]))
        return signed

    def to_dict(self) -> dict[str, JSON]:
        """`{"statement": {...}, "sig": "<base64>"}`."""
        return {"statement": self.statement.to_dict(), "sig": encode_base64(self.sig)}

    def verify(self) -> None:
        """Check the signature by the statement's signer; raise VerificationError if it fails."""
        self.statement.signer.verify(signature=self.sig, data=self.statement.signed_message())


def sign_statement(statement: Statement, *, key: SigningKey) -> SignedStatement:
    """Sign `statement` with `key`, which must be the statement's signer."""
    if not isinstance(statement, Statement):
        raise FormatError("only a Statement can be signed")
    if not isinstance(key, SigningKey):
        raise FormatError("a statement is signed with a SigningKey")
    if key.public != statement.signer:
        raise FormatError("the signing key is not the statement's signer")
    return SignedStatement(statement, key.sign(statement.signed_message()))
