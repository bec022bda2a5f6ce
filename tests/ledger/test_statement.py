"""ledger.statement: statement format, signing over the prefixed canonical bytes, field checks."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from ledger.canonical import canonicalize, parse_canonical
from ledger.errors import FormatError, VerificationError
from ledger.keys import SigningKey, VerifyingKey
from ledger.statement import (
    STATEMENT_PREFIX,
    SignedStatement,
    Statement,
    check_object,
    check_time,
    check_type_name,
    format_time,
    parse_time,
    sign_statement,
)

WORKER = SigningKey.from_seed(bytes([1]) * 32)
NODE = SigningKey.from_seed(bytes([2]) * 32)
NONCE = base64.urlsafe_b64encode(bytes(range(100, 116))).decode().rstrip("=")


def _fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "v": 1,
        "type": "contract.sign",
        "log": NODE.party_id,
        "signer": WORKER.public.to_b64(),
        "time": "2026-11-25T15:04:05Z",
        "nonce": NONCE,
        "body": {"contract": "c" * 64, "note": "ok"},
    }
    fields.update(changes)
    return fields


STATEMENT = Statement.from_dict(_fields())


def test_statement_round_trip_and_bytes() -> None:
    assert STATEMENT.signer == WORKER.public
    assert STATEMENT.to_dict() == _fields()
    assert Statement.from_dict(STATEMENT.to_dict()) == STATEMENT
    assert STATEMENT.to_bytes() == rfc8785.dumps(_fields())
    assert parse_canonical(STATEMENT.to_bytes()) == _fields()
    assert STATEMENT.signed_message() == b"rdh/statement/v1\n" + STATEMENT.to_bytes()
    assert STATEMENT_PREFIX == b"rdh/statement/v1\n"
    assert hash(Statement.from_dict(_fields())) == hash(STATEMENT)


def test_constructor_matches_from_dict() -> None:
    built = Statement(
        type="contract.sign",
        log=NODE.party_id,
        signer=WORKER.public,
        time="2026-11-25T15:04:05Z",
        nonce=NONCE,
        body={"contract": "c" * 64, "note": "ok"},
    )
    assert built == STATEMENT
    assert built.v == 1


def test_signature_is_ed25519_over_prefixed_canonical_bytes() -> None:
    signed = sign_statement(STATEMENT, key=WORKER)
    message = b"rdh/statement/v1\n" + rfc8785.dumps(_fields())
    Ed25519PublicKey.from_public_bytes(WORKER.public.raw).verify(signed.sig, message)
    signed.verify()
    assert signed.to_dict() == {
        "statement": _fields(),
        "sig": base64.b64encode(signed.sig).decode(),
    }
    assert SignedStatement.from_dict(signed.to_dict()) == signed


def test_sign_statement_needs_the_signers_key() -> None:
    with pytest.raises(FormatError, match="not the statement's signer"):
        sign_statement(STATEMENT, key=NODE)


def test_verify_rejects_changed_statement_or_signature() -> None:
    signed = sign_statement(STATEMENT, key=WORKER)
    changed = Statement.from_dict(_fields(body={"contract": "d" * 64, "note": "ok"}))
    with pytest.raises(VerificationError):
        SignedStatement(changed, signed.sig).verify()
    other_signer = Statement.from_dict(_fields(signer=NODE.public.to_b64()))
    with pytest.raises(VerificationError):
        SignedStatement(other_signer, signed.sig).verify()
    with pytest.raises(VerificationError):
        SignedStatement(STATEMENT, bytes([signed.sig[0] ^ 0x80]) + signed.sig[1:]).verify()
    # The same signature over the statement without the prefix does not verify either.
    unprefixed = WORKER.sign(STATEMENT.to_bytes())
    with pytest.raises(VerificationError):
        SignedStatement(STATEMENT, unprefixed).verify()


def _nonce(n: int) -> str:
    return base64.urlsafe_b64encode(bytes([0xFB]) * n).decode().rstrip("=")


INVALID = [
    ("version 2", {"v": 2}, "version must be 1"),
    ("version true", {"v": True}, "version must be 1"),
    ("version string", {"v": "1"}, "version must be 1"),
    ("type uppercase", {"type": "Contract.sign"}, "dotted lowercase"),
    ("type without dot", {"type": "contract"}, "dotted lowercase"),
    ("type trailing dot", {"type": "contract."}, "dotted lowercase"),
    ("type empty part", {"type": "contract..sign"}, "dotted lowercase"),
    ("type digit first", {"type": "1contract.sign"}, "dotted lowercase"),
    ("type newline", {"type": "contract.sign\n"}, "dotted lowercase"),
    ("type number", {"type": 7}, "dotted lowercase"),
    ("log uppercase", {"log": "A" * 64}, "64 lowercase hex"),
    ("log short", {"log": "a" * 63}, "64 lowercase hex"),
    ("log newline", {"log": "a" * 64 + "\n"}, "64 lowercase hex"),
    ("signer not base64", {"signer": "%%%"}, "not valid base64"),
    ("signer short", {"signer": base64.b64encode(bytes(31)).decode()}, "32 raw bytes"),
    ("signer number", {"signer": 5}, "base64 public key"),
    ("time offset", {"time": "2026-11-25T15:04:05+00:00"}, "UTC time like"),
    ("time lowercase z", {"time": "2026-11-25T15:04:05z"}, "UTC time like"),
    ("time space", {"time": "2026-11-25 15:04:05Z"}, "UTC time like"),
    ("time fraction", {"time": "2026-11-25T15:04:05.5Z"}, "UTC time like"),
    ("time no seconds", {"time": "2026-11-25T15:04Z"}, "UTC time like"),
    ("time hour 24", {"time": "2026-11-25T24:00:00Z"}, "UTC time like"),
    ("time leap second", {"time": "2026-12-31T23:59:60Z"}, "UTC time like"),
    (
        "time full-width digits",
        {"time": "\uff12\uff10\uff12\uff16-11-25T15:04:05Z"},
        "UTC time like",
    ),
    ("time newline", {"time": "2026-11-25T15:04:05Z\n"}, "UTC time like"),
    ("time 30 February", {"time": "2026-02-30T00:00:00Z"}, "not a real date"),
    ("time 29 February 2100", {"time": "2100-02-29T00:00:00Z"}, "not a real date"),
    ("time month 13", {"time": "2026-13-01T00:00:00Z"}, "not a real date"),
    ("time year 0", {"time": "0000-01-01T00:00:00Z"}, "not a real date"),
    ("time number", {"time": 1764083045}, "UTC time like"),
    ("nonce 15 bytes", {"nonce": _nonce(15)}, "16 to 64 bytes"),
    ("nonce 65 bytes", {"nonce": _nonce(65)}, "16 to 64 bytes"),
    ("nonce padded", {"nonce": NONCE + "=="}, "base64url without padding"),
    ("nonce standard alphabet", {"nonce": NONCE[:-2] + "+/"}, "base64url without padding"),
    ("nonce bad length", {"nonce": NONCE + "AAA"}, "not valid base64url"),
    ("nonce unused bits", {"nonce": _nonce(16)[:-1] + "x"}, "not canonical base64url"),
    ("nonce empty", {"nonce": ""}, "base64url without padding"),
    ("nonce bytes", {"nonce": NONCE.encode()}, "base64url without padding"),
    ("body array", {"body": []}, "body must be a JSON object"),
    ("body string", {"body": "x"}, "body must be a JSON object"),
    ("body float", {"body": {"x": 0.5}}, "floats are not allowed"),
    ("body big int", {"body": {"x": 2**60}}, "beyond"),
    ("unknown field", {"extra": 1}, "unknown field 'extra'"),
]


@pytest.mark.parametrize(
    ("changes", "message"), [(c, m) for _, c, m in INVALID], ids=[n for n, _, _ in INVALID]
)
def test_from_dict_rejects(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(FormatError, match=message):
        Statement.from_dict(_fields(**changes))


@pytest.mark.parametrize("missing", sorted(_fields()))
def test_from_dict_rejects_missing_field(missing: str) -> None:
    fields = _fields()
    del fields[missing]
    with pytest.raises(FormatError, match=f"lacks the field '{missing}'"):
        Statement.from_dict(fields)


def test_nonce_bounds_are_inclusive() -> None:
    for n in (16, 17, 63, 64):
        assert Statement.from_dict(_fields(nonce=_nonce(n))).nonce == _nonce(n)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be a JSON object"),
        ({"statement": _fields()}, "lacks the field 'sig'"),
        ({"statement": _fields(), "sig": "AA==", "x": 1}, "unknown field 'x'"),
        ({"statement": _fields(), "sig": base64.b64encode(bytes(63)).decode()}, "64 bytes"),
        ({"statement": _fields(), "sig": base64.b64encode(bytes(64)).decode()[:-1]}, "base64"),
        ({"statement": _fields(), "sig": 12}, "base64 string"),
        ({"statement": [], "sig": base64.b64encode(bytes(64)).decode()}, "JSON object"),
    ],
)
def test_signed_statement_from_dict_rejects(data: Any, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        SignedStatement.from_dict(data)


def test_constructors_check_types() -> None:
    with pytest.raises(FormatError, match="signer must be a VerifyingKey"):
        Statement(
            type="a.b", log=NODE.party_id, signer=WORKER.public.raw,  # type: ignore[arg-type]
            time="2026-11-25T15:04:05Z", nonce=NONCE, body={},
        )  # fmt: skip
    with pytest.raises(FormatError, match="needs a Statement"):
        SignedStatement(_fields(), bytes(64))  # type: ignore[arg-type]
    with pytest.raises(FormatError, match="64 bytes"):
        SignedStatement(STATEMENT, bytes(65))


def test_times() -> None:
    assert parse_time("2024-02-29T23:59:59Z") == datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)
    assert check_time("2000-02-29T00:00:00Z") == "2000-02-29T00:00:00Z"
    moment = datetime(2026, 11, 25, 16, 4, 5, 999_999, tzinfo=timezone(timedelta(hours=1)))
    assert format_time(moment) == "2026-11-25T15:04:05Z"
    assert parse_time(format_time(moment)) == moment.replace(microsecond=0)
    assert format_time(datetime(9, 1, 2, tzinfo=UTC)) == "0009-01-02T00:00:00Z"
    with pytest.raises(FormatError, match="timezone-aware"):
        format_time(datetime(2026, 1, 1))  # naive on purpose


def test_type_names_and_objects() -> None:
    for name in ("log.genesis", "share.activate", "a.b.c", "x-y.z_1"):
        assert check_type_name(name) == name
    obj = {"a": 1, "b": 2}
    assert check_object(obj, what="x", required=frozenset({"a"}), optional=frozenset({"b"})) is obj
    with pytest.raises(FormatError, match="x has the unknown field 'b'"):
        check_object(obj, what="x", required=frozenset({"a"}))


def test_statement_bytes_are_canonical_for_unicode_bodies() -> None:
    st = Statement.from_dict(_fields(body={"\ue000": 1, "\U0001f600": "名"}))
    assert st.to_bytes() == canonicalize(st.to_dict()) == rfc8785.dumps(st.to_dict())
    signed = sign_statement(st, key=WORKER)
    signed.verify()
    as_dict: dict[str, Any] = signed.to_dict()
    assert VerifyingKey.from_b64(as_dict["statement"]["signer"]) == WORKER.public


def _nonce_by_decoding(value: str) -> bool:
    """The definition the fast nonce check must match: decode, re-encode, count bytes."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", value):
        return False
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        return False
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != value:
        return False
    return 16 <= len(raw) <= 64


@given(
    st.one_of(
        st.binary(min_size=8, max_size=72).map(
            lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
        ),
        st.text(
            alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ ",
            min_size=0,
            max_size=100,
        ),
    )
)
def test_fast_nonce_check_equals_decoding(value: str) -> None:
    from ledger.statement import _check_nonce

    try:
        _check_nonce(value)
        accepted = True
    except FormatError:
        accepted = False
    assert accepted == _nonce_by_decoding(value)
