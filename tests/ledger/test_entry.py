"""ledger.entry: entry format, canonical bytes, size limit, ids and embedded statements."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.canonical import MAX_SAFE_INTEGER, canonicalize, parse
from ledger.entry import MAX_ENTRY_BYTES, Entry, entry_id, verify_statements
from ledger.errors import CanonicalError, FormatError, VerificationError
from ledger.keys import SigningKey
from ledger.statement import Statement, format_time, sign_statement

NODE = SigningKey.from_seed(bytes([3]) * 32)
WORKER = SigningKey.from_seed(bytes([4]) * 32)
LOG = NODE.party_id
REF_A = hashlib.sha256(b"a").hexdigest()
REF_B = hashlib.sha256(b"b").hexdigest()


def _statement(log: str = LOG, **body: Any) -> Statement:
    return Statement(
        type="contract.sign",
        log=log,  # type: ignore[arg-type]
        signer=WORKER.public,
        time="2026-11-25T15:04:05Z",
        nonce=base64.urlsafe_b64encode(bytes(range(20))).decode().rstrip("="),
        body={"contract": REF_A, **body},
    )


SIGNED = sign_statement(_statement(), key=WORKER)


def _fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "v": 1,
        "log": LOG,
        "seq": 17,
        "time": "2026-11-25T15:04:06Z",
        "type": "contract.sign",
        "refs": [REF_A, REF_B],
        "body": {"contract": REF_A, "reward": {"amount": "120.00", "currency": "EUR"}},
        "signed": [SIGNED.to_dict()],
    }
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not _DROP}


_DROP = object()
ENTRY = Entry.from_dict(_fields())


def test_entry_bytes_are_canonical_json_of_to_dict() -> None:
    data = ENTRY.to_bytes()
    assert data == canonicalize(ENTRY.to_dict()) == rfc8785.dumps(_fields())
    assert ENTRY.to_dict() == _fields()
    assert ENTRY.refs == (REF_A, REF_B)
    assert ENTRY.signed == (SIGNED,)


def test_from_bytes_round_trips() -> None:
    data = ENTRY.to_bytes()
    parsed = Entry.from_bytes(data)
    assert parsed == ENTRY
    assert parsed.to_bytes() == data
    assert canonicalize(parsed.to_dict()) == data  # structurally, not just the kept bytes
    assert hash(parsed) == hash(ENTRY)


def test_constructor() -> None:
    built = Entry(
        log=LOG,
        seq=17,
        time="2026-11-25T15:04:06Z",
        type="contract.sign",
        refs=(REF_A, REF_B),  # type: ignore[arg-type]
        body={"contract": REF_A, "reward": {"amount": "120.00", "currency": "EUR"}},
        signed=(SIGNED,),
    )
    assert built == ENTRY
    assert built.to_bytes() == ENTRY.to_bytes()


def test_signed_is_omitted_when_empty() -> None:
    entry = Entry(log=LOG, seq=0, time="2026-11-25T15:04:06Z", type="log.genesis", body={})
    assert entry.to_dict() == {
        "v": 1,
        "log": LOG,
        "seq": 0,
        "time": "2026-11-25T15:04:06Z",
        "type": "log.genesis",
        "refs": [],
        "body": {},
    }
    assert b'"signed"' not in entry.to_bytes()
    assert Entry.from_bytes(entry.to_bytes()) == entry
    with pytest.raises(FormatError, match="non-empty JSON array"):
        Entry.from_dict(_fields(signed=[]))
    with pytest.raises(FormatError, match="non-empty JSON array"):
        Entry.from_bytes(canonicalize(_fields(signed=[])))


def test_id_is_hex_leaf_hash() -> None:
    data = ENTRY.to_bytes()
    expected = hashlib.sha256(b"\x00" + data).hexdigest()
    assert entry_id(data) == expected
    assert ENTRY.id == expected
    assert Entry.from_bytes(data).id == expected


def _sized(size: int) -> bytes:
    base = canonicalize(_fields(body={"pad": ""}))
    return canonicalize(_fields(body={"pad": "x" * (size - len(base))}))


def test_size_limit() -> None:
    largest = _sized(MAX_ENTRY_BYTES)
    assert len(largest) == MAX_ENTRY_BYTES
    assert Entry.from_bytes(largest).to_bytes() == largest
    too_big = _sized(MAX_ENTRY_BYTES + 1)
    assert len(too_big) == MAX_ENTRY_BYTES + 1
    with pytest.raises(FormatError, match="more than 65535"):
        Entry.from_bytes(too_big)
    with pytest.raises(FormatError, match="more than 65535"):
        Entry.from_dict(_fields(body={"pad": "x" * MAX_ENTRY_BYTES}))


NON_CANONICAL = [
    ("trailing newline", lambda b: b + b"\n"),
    ("space after colon", lambda b: b.replace(b'"seq":', b'"seq": ', 1)),
    ("escaped letter", lambda b: b.replace(b'"v":1', b'"\\u0076":1', 1)),
    ("unsorted keys", lambda b: b'{"v":1,' + b[1:].removesuffix(b',"v":1}') + b"}"),
]


@pytest.mark.parametrize("change", [c for _, c in NON_CANONICAL], ids=[n for n, _ in NON_CANONICAL])
def test_from_bytes_rejects_non_canonical(change: Any) -> None:
    data = change(ENTRY.to_bytes())
    assert data != ENTRY.to_bytes()
    with pytest.raises(CanonicalError):
        Entry.from_bytes(data)


def test_from_bytes_rejects_malformed() -> None:
    for data, message in [
        (b"[]", "entry must be a JSON object"),
        (b"{}", "lacks the field"),
        (b'{"v":1.0}', "floats are not allowed"),
        (ENTRY.to_bytes()[:-1], "invalid JSON"),
        (bytearray(ENTRY.to_bytes()), "must be bytes"),
    ]:
        with pytest.raises(FormatError, match=message):
            Entry.from_bytes(data)  # type: ignore[arg-type]


INVALID = [
    ("version 2", {"v": 2}, "version must be 1"),
    ("version true", {"v": True}, "version must be 1"),
    ("log uppercase", {"log": LOG.upper()}, "64 lowercase hex"),
    ("log short", {"log": LOG[:-1]}, "64 lowercase hex"),
    ("seq negative", {"seq": -1}, "seq must be an integer"),
    ("seq true", {"seq": True}, "seq must be an integer"),
    ("seq string", {"seq": "17"}, "seq must be an integer"),
    ("seq too big", {"seq": MAX_SAFE_INTEGER + 1}, "seq must be an integer"),
    ("time offset", {"time": "2026-11-25T15:04:06+00:00"}, "UTC time like"),
    ("time not a date", {"time": "2026-04-31T15:04:06Z"}, "not a real date"),
    ("type one part", {"type": "genesis"}, "dotted lowercase"),
    ("type uppercase", {"type": "Task.publish"}, "dotted lowercase"),
    ("refs object", {"refs": {}}, "JSON array of entry ids"),
    ("refs string", {"refs": REF_A}, "JSON array of entry ids"),
    ("ref uppercase", {"refs": [REF_A.upper()]}, "64 lowercase hex"),
    ("ref short", {"refs": [REF_A[:-2]]}, "64 lowercase hex"),
    ("ref number", {"refs": [1]}, "64 lowercase hex"),
    ("ref repeated", {"refs": [REF_A, REF_B, REF_A]}, "must not repeat"),
    ("body array", {"body": [1]}, "body must be a JSON object"),
    ("body null", {"body": None}, "body must be a JSON object"),
    ("signed object", {"signed": {}}, "non-empty JSON array"),
    ("signed item not object", {"signed": [1]}, "must be a JSON object"),
    ("signed statement bad", {"signed": [{"statement": {}, "sig": "AA=="}]}, "lacks the field"),
    ("unknown field", {"extra": 0}, "unknown field 'extra'"),
    ("missing body", {"body": _DROP}, "lacks the field 'body'"),
    ("missing refs", {"refs": _DROP}, "lacks the field 'refs'"),
]


@pytest.mark.parametrize(
    ("changes", "message"), [(c, m) for _, c, m in INVALID], ids=[n for n, _, _ in INVALID]
)
def test_invalid_fields_are_rejected(changes: dict[str, Any], message: str) -> None:
    fields = _fields(**changes)
    with pytest.raises(FormatError, match=message):
        Entry.from_dict(fields)
    try:
        data = canonicalize(fields)
    except FormatError:
        return  # not even JSON (e.g. seq beyond 2**53): from_bytes can never see it
    with pytest.raises(FormatError, match=message):
        Entry.from_bytes(data)


def test_constructor_checks_types() -> None:
    with pytest.raises(FormatError, match="refs must be a tuple"):
        Entry(log=LOG, seq=0, time="2026-11-25T15:04:06Z", type="a.b", refs=[REF_A], body={})  # type: ignore[arg-type]
    with pytest.raises(FormatError, match="tuple of signed statements"):
        Entry(log=LOG, seq=0, time="2026-11-25T15:04:06Z", type="a.b", body={}, signed=(1,))  # type: ignore[arg-type]
    with pytest.raises(FormatError, match="floats are not allowed"):
        Entry(log=LOG, seq=0, time="2026-11-25T15:04:06Z", type="a.b", body={"x": 1.5})  # type: ignore[dict-item]


def test_verify_statements() -> None:
    verify_statements(ENTRY)
    verify_statements(Entry.from_bytes(ENTRY.to_bytes()))
    elsewhere = sign_statement(_statement(log=REF_B), key=WORKER)
    with pytest.raises(VerificationError, match="addressed to log"):
        verify_statements(Entry.from_dict(_fields(signed=[elsewhere.to_dict()])))
    forged: dict[str, Any] = SIGNED.to_dict()
    forged["statement"]["body"] = {"contract": REF_B}
    with pytest.raises(VerificationError, match="does not verify"):
        verify_statements(Entry.from_dict(_fields(signed=[SIGNED.to_dict(), forged])))


texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=10)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER), texts),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=15,
)
hex_ids = st.binary(min_size=32, max_size=32).map(bytes.hex)
type_names = st.from_regex(r"[a-z][a-z0-9_-]{0,5}(\.[a-z][a-z0-9_-]{0,5}){1,3}", fullmatch=True)
times = st.datetimes().map(lambda d: format_time(d.replace(tzinfo=UTC)))


@settings(max_examples=150, deadline=None)
@given(
    log=hex_ids,
    seq=st.integers(0, MAX_SAFE_INTEGER),
    time=times,
    type_name=type_names,
    refs=st.lists(hex_ids, max_size=4, unique=True),
    body=st.dictionaries(texts, json_values, max_size=5),
    with_statement=st.booleans(),
)
def test_round_trip_property(
    log: str,
    seq: int,
    time: str,
    type_name: str,
    refs: list[str],
    body: dict[str, Any],
    with_statement: bool,
) -> None:
    fields: dict[str, Any] = {
        "v": 1, "log": log, "seq": seq, "time": time, "type": type_name, "refs": refs,
        "body": body,
    }  # fmt: skip
    if with_statement:
        fields["signed"] = [SIGNED.to_dict()]
    entry = Entry.from_dict(fields)
    data = entry.to_bytes()
    assert data == rfc8785.dumps(fields)
    parsed = Entry.from_bytes(data)
    assert parsed == entry
    assert parsed.to_bytes() == data
    assert canonicalize(parsed.to_dict()) == data
    assert parsed.id == hashlib.sha256(b"\x00" + data).hexdigest()
    # The audit's second pass rebuilds checked bytes without checks: the same entry.
    rebuilt = Entry.from_verified_bytes(data)
    assert rebuilt == parsed
    assert rebuilt.to_bytes() == data
    for a, b in zip(rebuilt.signed, parsed.signed, strict=True):
        assert a == b
        assert a.statement.signed_message() == b.statement.signed_message()


@settings(max_examples=150, deadline=None)
@given(
    seq=st.integers(0, MAX_SAFE_INTEGER),
    time=times,
    refs=st.lists(hex_ids, max_size=4, unique=True),
    body=st.dictionaries(texts, json_values, max_size=5),
)
def test_from_parsed_parts_equals_the_constructor(
    seq: int, time: str, refs: list[str], body: dict[str, Any]
) -> None:
    parsed_body = parse(canonicalize(body))  # what a request's parser hands over
    assert isinstance(parsed_body, dict)
    parts: dict[str, Any] = {
        "log": LOG, "seq": seq, "time": time, "type": "task.publish", "refs": tuple(refs),
        "signed": (SIGNED,),
    }  # fmt: skip
    built = Entry.from_parsed_parts(body=parsed_body, **parts)
    assert built == Entry(body=body, **parts)
    assert built.to_bytes() == Entry(body=body, **parts).to_bytes()


def test_from_parsed_parts_checks_every_field() -> None:
    with pytest.raises(FormatError, match="seq"):
        Entry.from_parsed_parts(
            log=LOG, seq=-1, time="2026-11-25T15:04:06Z", type="task.publish", refs=(),
            body={}, signed=(),
        )  # fmt: skip
    with pytest.raises(FormatError, match="entry ref"):
        Entry.from_parsed_parts(
            log=LOG, seq=1, time="2026-11-25T15:04:06Z", type="task.publish",
            refs=("nope",), body={}, signed=(),  # type: ignore[arg-type]
        )  # fmt: skip
