"""ledger.canonical: RFC 8785 bytes, strict parsing, and the fast path's equality with rfc8785."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ledger import canonical
from ledger.canonical import (
    MAX_DEPTH,
    MAX_SAFE_INTEGER,
    canonicalize,
    canonicalize_parsed,
    parse,
    parse_canonical,
)
from ledger.errors import CanonicalError, FormatError

# Characters where RFC 8785 and naive encoders disagree, or where key order flips.
SPECIAL_CHARS = [
    "\x00", "\x08", "\x0b", "\x1f", "\x7f", "\x80", '"', "\\", "/", "\u2028", "\u2029",
    "\ud7ff", "\ue000", "\uffff", "\ufeff", "\U00010000", "\U0001f600", "\U0010ffff", "é", "a",
]  # fmt: skip

texts = st.text(
    alphabet=st.one_of(st.characters(exclude_categories=["Cs"]), st.sampled_from(SPECIAL_CHARS)),
    max_size=8,
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
    st.sampled_from([0, -1, MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER]),
    texts,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(texts, inner, max_size=5)),
    max_leaves=25,
)
# The same with unpaired surrogates and out-of-range integers, which both encoders must refuse.
wild_texts = st.text(
    alphabet=st.one_of(st.characters(), st.sampled_from([*SPECIAL_CHARS, "\ud800", "\udfff"])),
    max_size=6,
)
wild_values = st.recursive(
    st.one_of(scalars, wild_texts, st.integers()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(wild_texts, inner, max_size=4)
    ),
    max_leaves=15,
)

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _reference_parse_canonical(data: bytes) -> Any:
    """An independent oracle: json.loads with strict hooks, then rfc8785.dumps must give `data`."""

    def no_dups(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if len({k for k, _ in pairs}) != len(pairs):
            raise ValueError("duplicate")
        return dict(pairs)

    def reject(token: str) -> Any:
        raise ValueError(token)

    def depth(value: Any) -> int:
        if isinstance(value, list):
            return 1 + max(map(depth, value), default=0)
        if isinstance(value, dict):
            return 1 + max(map(depth, value.values()), default=0)
        return 0

    text = data.decode("utf-8")
    if text.startswith("\ufeff"):
        raise ValueError("bom")
    value = json.loads(text, object_pairs_hook=no_dups, parse_float=reject, parse_constant=reject)
    if depth(value) > MAX_DEPTH:
        raise ValueError("deep")
    if rfc8785.dumps(value) != data:
        raise ValueError("not canonical")
    return value


def _reference_accepts(data: bytes) -> bool:
    try:
        _reference_parse_canonical(data)
    except (ValueError, RecursionError):
        return False
    return True


# --- golden vectors (shared with the browser JS) ---------------------------------------------


def _vectors(directory: Path) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(
        (directory / "canonical.json").read_text(encoding="utf-8")
    )
    return cases


def test_vectors_cover_both_outcomes(shared_vectors: Path) -> None:
    cases = _vectors(shared_vectors)
    assert sum("canonical_hex" in c for c in cases) >= 30
    assert sum(c.get("error") is True for c in cases) >= 30
    assert len({c["name"] for c in cases}) == len(cases)


def test_vectors(shared_vectors: Path) -> None:
    for case in _vectors(shared_vectors):
        data = case["input"].encode("utf-8")
        if case.get("error"):
            with pytest.raises(FormatError):
                parse(data)
            with pytest.raises(FormatError):
                parse_canonical(data)
            continue
        expected = bytes.fromhex(case["canonical_hex"])
        value = parse(data)
        assert canonicalize(value) == expected, case["name"]
        assert rfc8785.dumps(value) == expected, case["name"]
        assert parse_canonical(expected) == value, case["name"]
        if data == expected:
            assert parse_canonical(data) == value
        else:
            with pytest.raises(CanonicalError):
                parse_canonical(data)


# --- canonicalize ------------------------------------------------------------------------------


def test_canonicalize_sorts_keys_and_drops_whitespace() -> None:
    assert canonicalize({"b": [1, "x"], "a": {"d": None, "c": True}}) == (
        b'{"a":{"c":true,"d":null},"b":[1,"x"]}'
    )


def test_key_order_is_utf16_not_code_point() -> None:
    value: Any = {"\ue000": 1, "\U0001f600": 2}
    naive = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert naive.encode() == '{"\ue000":1,"\U0001f600":2}'.encode()  # what a naive sort gives
    assert canonicalize(value) == '{"\U0001f600":2,"\ue000":1}'.encode()
    assert parse_canonical('{"\U0001f600":2,"\ue000":1}'.encode()) == value
    with pytest.raises(CanonicalError):
        parse_canonical(naive.encode())


def test_tuples_encode_as_arrays() -> None:
    assert canonicalize({"a": (1, (2,))}) == b'{"a":[1,[2]]}'  # type: ignore[dict-item]


def _nest(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


INVALID_VALUES = [
    ("float", 1.5, "floats are not allowed"),
    ("integral float", {"a": 1.0}, "floats are not allowed"),
    ("nan", float("nan"), "floats are not allowed"),
    ("too big", 2**53, "beyond"),
    ("too small", [-(2**53)], "beyond"),
    ("int key", {1: 2}, "keys must be strings"),
    ("none key", {None: 2}, "keys must be strings"),
    ("bytes", b"x", "bytes values cannot be written"),
    ("set", {1}, "set values cannot be written"),
    ("object", object(), "object values cannot be written"),
    ("lone surrogate", "\ud800", "unpaired surrogate"),
    ("lone surrogate key", {"\udc00": 1}, "unpaired surrogate"),
    ("lone surrogate next to high key", {"\udc00": 1, "\ue000": 2}, "unpaired surrogate"),
    ("too deep", _nest(MAX_DEPTH + 1), "nested deeper"),
    ("too deep object", {"a": _nest(MAX_DEPTH)}, "nested deeper"),
]


@pytest.mark.parametrize(
    ("value", "message"),
    [(v, m) for _, v, m in INVALID_VALUES],
    ids=[name for name, _, _ in INVALID_VALUES],
)
def test_canonicalize_rejects(value: Any, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        canonicalize(value)


def test_canonicalize_rejects_cycles() -> None:
    cycle: list[Any] = []
    cycle.append(cycle)
    with pytest.raises(FormatError, match="nested deeper"):
        canonicalize(cycle)


def test_depth_limit_is_exact() -> None:
    assert canonicalize(_nest(MAX_DEPTH)) == b"[" * MAX_DEPTH + b"0" + b"]" * MAX_DEPTH
    ok = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert parse(ok) == parse_canonical(ok)
    deep = b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)
    for fn in (parse, parse_canonical):
        with pytest.raises(FormatError, match="nested deeper"):
            fn(deep)
    # Far beyond the interpreter's recursion limit: still a FormatError.
    very_deep = b"[" * 100_000 + b"]" * 100_000
    for fn in (parse, parse_canonical):
        with pytest.raises(FormatError, match="nested deeper"):
            fn(very_deep)


# --- parse and parse_canonical -----------------------------------------------------------------

MALFORMED = [
    ("not bytes", "{}", "must be bytes"),
    ("empty", b"", "invalid JSON"),
    ("bom", b"\xef\xbb\xbf{}", "byte order mark"),
    ("invalid utf-8", b'"\xff"', "not valid UTF-8"),
    ("overlong utf-8", b'"\xc0\xaf"', "not valid UTF-8"),
    ("utf-8 encoded surrogate", b'"\xed\xa0\x80"', "not valid UTF-8"),
    ("utf-16", '{"a":1}'.encode("utf-16"), "not valid UTF-8"),
    ("trailing data", b"{}x", "Extra data"),
    ("duplicate key", b'{"a":1,"a":1}', "key 'a' twice"),
    ("duplicate key nested", b'[{"b":{"a":1,"c":0,"a":2}}]', "key 'a' twice"),
    ("float", b"[1.5]", "floats are not allowed"),
    ("exponent", b"1e2", "floats are not allowed"),
    ("huge exponent", b"1e999", "floats are not allowed"),
    ("nan", b"NaN", "does not allow NaN"),
    ("infinity", b"[-Infinity]", "does not allow -Infinity"),
    ("too big", b"9007199254740992", "beyond"),
    ("too small", b"-9007199254740992", "beyond"),
    ("thousands of digits", b"9" * 5000, "beyond"),
    ("lone high surrogate", b'"\\ud800"', "unpaired surrogate"),
    ("lone low surrogate", b'"\\uDFFF"', "unpaired surrogate"),
    ("lone surrogate key", b'{"\\udc00":1}', "unpaired surrogate"),
    ("control character", b'"\x01"', "Invalid control character"),
]


@pytest.mark.parametrize(
    ("data", "message"), [(d, m) for _, d, m in MALFORMED], ids=[n for n, _, _ in MALFORMED]
)
def test_parse_rejects_malformed(data: Any, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        parse(data)
    with pytest.raises(FormatError):
        parse_canonical(data)


NON_CANONICAL = [
    ("leading space", b" {}"),
    ("trailing newline", b"{}\n"),
    ("space after colon", b'{"a": 1}'),
    ("unsorted keys", b'{"b":1,"a":2}'),
    ("minus zero", b"-0"),
    ("escaped letter", b'"\\u0061"'),
    ("escaped solidus", b'"\\/"'),
    ("uppercase hex escape", b'"\\u001F"'),
    ("long form of newline", b'"\\u000a"'),
    ("escaped DEL", b'"\\u007f"'),
    ("escaped non-ASCII", b'"\\u00e9"'),
    ("escaped surrogate pair", b'"\\ud83d\\ude00"'),
    ("code point key order", '{"\ue000":1,"\U0001f600":2}'.encode()),
]


@pytest.mark.parametrize("data", [d for _, d in NON_CANONICAL], ids=[n for n, _ in NON_CANONICAL])
def test_parse_canonical_rejects_non_canonical(data: bytes) -> None:
    value = parse(data)  # valid JSON...
    with pytest.raises(CanonicalError, match="not in canonical form"):
        parse_canonical(data)  # ...but not canonical
    assert parse_canonical(canonicalize(value)) == value


@pytest.mark.parametrize("data", [b'{"a":1,"a":1}', b'{"a":1,"a":2}', b'[{"x":0,"x":0}]'])
def test_duplicate_keys_are_rejected_by_both_parsers(data: bytes) -> None:
    with pytest.raises(FormatError, match="twice"):
        parse(data)
    with pytest.raises(FormatError):
        parse_canonical(data)


def test_parse_is_lenient_but_safe() -> None:
    assert parse(b' {"b" : [ -0, 1 ] ,"a":"\\u00e9\\/"}\n') == {"b": [0, 1], "a": "é/"}
    assert parse(bytearray(b"[true]")) == [True]  # type: ignore[arg-type]
    assert parse(b'"\\ud83d\\ude00"') == "\U0001f600"


def test_parse_canonical_accepts_non_ascii_fast_and_slow_paths() -> None:
    values: list[Any] = [
        {"名": "中文", "é": "ü"},
        {"k": "\U0001f600\ue000"},
        {"\U0001f600": {"\uffff": 0}},
    ]
    for value in values:
        assert parse_canonical(canonicalize(value)) == value


# --- properties --------------------------------------------------------------------------------


@FAST
@given(json_values)
@example({"\ue000": 1, "\U0001f600": 2})
@example({"\uffff": [1], "\U00010000": 0, "a": "\x7f\u2028"})
def test_canonicalize_equals_rfc8785(value: Any) -> None:
    assert canonicalize(value) == rfc8785.dumps(value)


@FAST
@given(json_values)
def test_fast_encoder_equals_rfc8785_where_used(value: Any) -> None:
    """The stdlib encoder is byte-identical to rfc8785 whenever canonicalize would use it."""
    if canonical._check(value):  # a key >= U+E000: canonicalize uses rfc8785 itself
        return
    assert canonical._encode(value).encode("utf-8") == rfc8785.dumps(value)


@FAST
@given(wild_values)
@example({"\ud800": None})
@example({"\udc00": 1, "\ue000": 2})  # the rfc8785 path (a key >= U+E000) with a bad key
@example(["\U0001f600\udfff", 2**53])
def test_canonicalize_and_rfc8785_refuse_the_same_values(value: Any) -> None:
    try:
        expected = rfc8785.dumps(value)
    except ValueError:  # CanonicalizationError, or UnicodeEncodeError from its key sort
        with pytest.raises(FormatError):
            canonicalize(value)
    else:
        assert canonicalize(value) == expected


@FAST
@given(json_values)
def test_parse_canonical_accepts_every_canonical_value(value: Any) -> None:
    data = canonicalize(value)
    assert parse_canonical(data) == value
    assert parse(data) == value
    assert canonicalize(parse(data)) == data  # idempotent


@FAST
@given(
    json_values,
    st.booleans(),
    st.booleans(),
    st.sampled_from([(",", ":"), (", ", ": "), (",", ": ")]),
    st.sampled_from([None, 0, 1]),
)
def test_parse_canonical_matches_reference_on_serializations(
    value: Any, sort_keys: bool, ensure_ascii: bool, separators: tuple[str, str], indent: int | None
) -> None:
    data = json.dumps(
        value, sort_keys=sort_keys, ensure_ascii=ensure_ascii, separators=separators, indent=indent
    ).encode("utf-8")
    assert parse(data) == value
    if data == rfc8785.dumps(value):
        assert parse_canonical(data) == value
    else:
        with pytest.raises(CanonicalError):
            parse_canonical(data)


@settings(max_examples=300, deadline=None)
@given(json_values, st.data())
def test_parse_canonical_matches_reference_on_mutations(value: Any, data: st.DataObject) -> None:
    raw = bytearray(canonicalize(value))
    position = data.draw(st.integers(0, len(raw)))
    interesting = b' "\\,:{}[]-0123456789.eEu\x7f\xc3\xa9\xed\xee\xf0'
    byte = data.draw(st.one_of(st.sampled_from(interesting), st.integers(0, 255)))
    action = data.draw(st.sampled_from(["insert", "replace", "delete"]))
    if action == "insert":
        raw.insert(position, byte)
    elif position < len(raw):
        if action == "replace":
            raw[position] = byte
        else:
            del raw[position]
    mutated = bytes(raw)
    if _reference_accepts(mutated):
        assert parse_canonical(mutated) == _reference_parse_canonical(mutated)
    else:
        with pytest.raises(FormatError):
            parse_canonical(mutated)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 300, 900])
def test_a_depth_left_unchecked_by_parse_is_checked_when_encoding(depth: int) -> None:
    data = b"[" * depth + b"0" + b"]" * depth
    value = parse(data, check_depth=False)  # the caller re-encodes every part it keeps
    with pytest.raises(FormatError, match="nested deeper"):
        canonicalize_parsed(value)
    with pytest.raises(FormatError, match="nested deeper"):
        canonicalize_parsed({"wrapped": value})
    ok = parse(b"[" * MAX_DEPTH + b"0" + b"]" * MAX_DEPTH, check_depth=False)
    assert canonicalize_parsed(ok) == canonicalize(ok)  # type: ignore[arg-type]
