"""Canonical JSON: RFC 8785 (JCS) bytes for entries and statements, and strict parsing.

Owns the byte form of every JSON value the ledger hashes or signs: `canonicalize` writes it,
`parse` reads any JSON text safely, and `parse_canonical` accepts only bytes that are already
canonical (`canonicalize(parse(b)) == b`). The JSON subset is that of DESIGN §2.2: no floats,
integers within ±(2**53 - 1), UTF-8 without BOM, no unpaired surrogates, no duplicate keys.
What the values mean (entries, statements) is left to `ledger.entry` and `ledger.statement`.

Speed. `rfc8785.dumps` is the reference. The standard library's C JSON encoder with sorted
keys, no ASCII escaping and compact separators writes the same bytes, with one exception: it
sorts object keys by code point where RFC 8785 sorts by UTF-16 code unit, and the two orders
differ only when a key holds a character at or above U+E000 (a non-BMP character encodes to
surrogates D800-DFFF, below E000-FFFF). Such values go to `rfc8785.dumps`; everything else
takes the C encoder. A Hypothesis test checks the two agree. `parse_canonical` parses with the
C decoder, encodes again and compares; only inputs that fail that comparison, or hold
characters at or above U+E000, take the slower strict path.

Nesting is limited to `MAX_DEPTH` so that acceptance never depends on the interpreter's stack.
"""

from __future__ import annotations

import json
import json.encoder
import re
from collections.abc import Callable
from typing import Any

import rfc8785

from ledger.errors import CanonicalError, FormatError
from ledger.types import JSON

__all__ = ["MAX_DEPTH", "MAX_SAFE_INTEGER", "canonicalize", "parse", "parse_canonical"]

#: Largest integer magnitude allowed (2**53 - 1, exact in an IEEE 754 double, as in RFC 8785).
MAX_SAFE_INTEGER = 2**53 - 1

#: Deepest nesting of arrays and objects allowed (`[[1]]` has depth 2), so that every
#: implementation accepts the same values whatever its stack.
MAX_DEPTH = 100

# "-9007199254740991" is 17 characters; 15 characters or fewer are always within range.
_MAX_INT_CHARS = len(str(-MAX_SAFE_INTEGER))
_SAFE_INT_CHARS = 15
_UTF8_BOM = b"\xef\xbb\xbf"
# Where UTF-16 and code point order may differ: characters at or above U+E000, whose UTF-8
# lead bytes are EE..F4. Deleting every other byte leaves nothing if there are none.
_HIGH_CHAR = "\ue000"
_NOT_HIGH_LEAD = bytes(b for b in range(256) if not 0xEE <= b <= 0xF4)
# An escaped surrogate (`\ud800`..`\udfff`), the only way a JSON text can carry a lone one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _reject_float(token: str) -> Any:
    raise FormatError(f"JSON number {token[:40]} is not an integer: floats are not allowed")


def _reject_constant(token: str) -> Any:
    raise FormatError(f"JSON does not allow {token}")


def _parse_int(token: str) -> int:
    if len(token) <= _SAFE_INT_CHARS:
        return int(token)
    if len(token) <= _MAX_INT_CHARS:
        value = int(token)
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return value
    raise FormatError(f"JSON integer {token[:40]} is beyond ±(2**53 - 1)")


def _object_without_duplicates(pairs: list[tuple[str, JSON]]) -> dict[str, JSON]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise FormatError(f"JSON object has the key {key!r} twice")
            seen.add(key)
    return obj


# parse_canonical relies on byte equality to catch duplicate keys; parse checks them itself.
_FAST_DECODER = json.JSONDecoder(
    parse_float=_reject_float, parse_int=_parse_int, parse_constant=_reject_constant
)
_STRICT_DECODER = json.JSONDecoder(
    parse_float=_reject_float,
    parse_int=_parse_int,
    parse_constant=_reject_constant,
    object_pairs_hook=_object_without_duplicates,
)


def _make_encoder() -> Callable[[object], str]:
    """The stdlib encoder in RFC 8785 shape: the C one called directly when available."""
    reference = json.JSONEncoder(
        ensure_ascii=False,
        check_circular=False,
        allow_nan=False,
        sort_keys=True,
        separators=(",", ":"),
    ).encode
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has _json
        return reference
    try:
        # markers, default, encoder, indent, key_sep, item_sep, sort_keys, skipkeys, allow_nan
        iterencode = make(
            None, None, json.encoder.encode_basestring, None, ":", ",", True, False, False
        )
    except TypeError:  # pragma: no cover - a future signature change: use the public path
        return reference

    def encode(value: object) -> str:
        return "".join(iterencode(value, 0))

    probe = {"b": [1, -2, True, None, '\x00\x1f\x7f\u2028/"\\é😀'], "a": {}, "": []}
    return encode if encode(probe) == reference(probe) else reference


_encode = _make_encoder()


def _check(value: object, depth: int = 1) -> bool:
    """Validate a value as ledger JSON; True if some key needs UTF-16 ordering.

    `depth` is the nesting level a container `value` would have (1 at the top).
    """
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return False
    if isinstance(value, int):
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return False
        raise FormatError(f"integer {value} is beyond ±(2**53 - 1)")
    if depth > MAX_DEPTH:
        raise FormatError(f"JSON value is nested deeper than {MAX_DEPTH} levels")
    high = False
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise FormatError(f"JSON object keys must be strings, not {type(key).__name__}")
            if not key.isascii() and max(key) >= _HIGH_CHAR:
                high = True
            if _check(item, depth + 1):
                high = True
        return high
    if isinstance(value, list | tuple):
        for item in value:
            if _check(item, depth + 1):
                high = True
        return high
    if isinstance(value, float):
        raise FormatError("floats are not allowed in ledger JSON: use integers or strings")
    raise FormatError(f"{type(value).__name__} values cannot be written as JSON")


def canonicalize(value: JSON) -> bytes:
    """Return the RFC 8785 canonical bytes of `value`.

    Raises FormatError for floats, integers beyond ±(2**53 - 1), non-string keys, unpaired
    surrogates and values that are not JSON.
    """
    needs_utf16_order = _check(value)
    try:
        if needs_utf16_order:
            return bytes(rfc8785.dumps(value))
        return _encode(value).encode("utf-8")
    except (UnicodeEncodeError, rfc8785.CanonicalizationError) as e:
        raise FormatError("a JSON string holds an unpaired surrogate") from e


def canonicalize_parsed(value: JSON) -> bytes:
    """`canonicalize` for a value that `parse` or `parse_canonical` produced.

    Such a value is already known to be ledger JSON, so the validating walk is skipped (but
    for the nesting depth, checked when the text has more brackets than MAX_DEPTH); the
    fast encoder's code point key order equals RFC 8785's UTF-16 order unless some character
    is at or above U+E000, in which case this falls back to `canonicalize`. Only for parsed
    values: a hand-built value must go through `canonicalize`.
    """
    try:
        text = _encode(value)
    except RecursionError as e:
        raise FormatError(f"JSON value is nested deeper than {MAX_DEPTH} levels") from e
    if text.count("[") + text.count("{") > MAX_DEPTH:  # could be too deep: walk it
        _check(value)
    if text.isascii() or max(text) < _HIGH_CHAR:
        return text.encode("utf-8")
    return canonicalize(value)


def _decode_utf8(data: bytes) -> str:
    if not isinstance(data, bytes | bytearray):
        raise FormatError(f"JSON input must be bytes, not {type(data).__name__}")
    if data.startswith(_UTF8_BOM):
        raise FormatError("JSON text must not start with a byte order mark")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(f"JSON text is not valid UTF-8 (byte {e.start})") from e


def _may_be_too_deep(data: bytes) -> bool:
    """False when `data` has too few brackets to nest deeper than MAX_DEPTH (a cheap test)."""
    return data.count(b"[") + data.count(b"{") > MAX_DEPTH


def parse(data: bytes, *, check_depth: bool = True) -> JSON:
    """Parse JSON bytes strictly into ledger JSON values.

    Accepts whatever JSON allows (whitespace, escapes; "-0" reads as 0), but rejects invalid
    UTF-8, a BOM, duplicate keys, floats, NaN/Infinity, integers beyond ±(2**53 - 1), unpaired
    surrogates, nesting deeper than MAX_DEPTH and trailing data: all with FormatError.

    `check_depth=False` leaves the MAX_DEPTH check to the caller (extreme nesting is still a
    FormatError): for a large request whose parts are each re-encoded with
    `canonicalize_parsed`, which checks the depth of what it encodes.
    """
    text = _decode_utf8(data)
    try:
        value: JSON = _STRICT_DECODER.decode(text)
    except json.JSONDecodeError as e:
        raise FormatError(f"invalid JSON: {e.msg} at character {e.pos}") from e
    except RecursionError as e:
        raise FormatError(f"JSON value is nested deeper than {MAX_DEPTH} levels") from e
    if check_depth and _may_be_too_deep(data):
        _check(value)
    if _SURROGATE_ESCAPE.search(text):
        try:
            _encode(value).encode("utf-8")
        except UnicodeEncodeError as e:
            raise FormatError("a JSON string holds an unpaired surrogate") from e
    return value


def parse_canonical(data: bytes) -> JSON:
    """Parse bytes that must already be canonical: `canonicalize(result) == data`.

    Raises FormatError if the bytes are not ledger JSON at all (as `parse`; duplicate keys
    included), CanonicalError if they are but not in RFC 8785 form (whitespace, key order,
    escapes, "-0", ...).
    """
    try:
        text = data.decode("utf-8")
        value, end = _FAST_DECODER.raw_decode(text)
        # Equal text means canonical up to key order; code point order is the RFC 8785 order
        # unless some character is >= U+E000 (only possible in non-ASCII input).
        if (
            end == len(text)
            and _encode(value) == text
            and (data.isascii() or not data.translate(None, _NOT_HIGH_LEAD))
            and not _may_be_too_deep(data)
        ):
            return value  # type: ignore[no-any-return]
    except (AttributeError, ValueError, RecursionError):
        pass
    return _parse_canonical_slow(data)


def _parse_canonical_slow(data: bytes) -> JSON:
    value = parse(data)
    if canonicalize(value) != data:
        raise CanonicalError("JSON bytes are not in canonical form (RFC 8785)")
    return value
