"""ledger.keys: Ed25519 keys, party ids, strict base64; and the error contract of helper A's API.

`test_bad_input_raises_only_ledger_errors` feeds junk to every public function of
ledger.canonical, ledger.keys, ledger.statement and ledger.entry: a caller must never see a
raw ValueError, TypeError, InvalidSignature, binascii.Error or UnicodeDecodeError.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import canonical, entry, keys, statement
from ledger.errors import FormatError, LedgerError, VerificationError
from ledger.keys import (
    SigningKey,
    VerifyingKey,
    check_party_id,
    decode_base64,
    encode_base64,
    party_id,
)
from ledger.types import EntryId

# RFC 8032 §7.1, test 1.
RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC8032_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)

KEY = SigningKey.from_seed(RFC8032_SEED)
OTHER = SigningKey.from_seed(bytes(range(32)))


def test_rfc8032_vector() -> None:
    assert KEY.public.raw == RFC8032_PUBLIC
    assert KEY.seed() == RFC8032_SEED
    assert KEY.sign(b"") == RFC8032_SIGNATURE
    KEY.public.verify(signature=RFC8032_SIGNATURE, data=b"")


def test_party_id_is_hex_sha256_of_raw_key() -> None:
    expected = hashlib.sha256(RFC8032_PUBLIC).hexdigest()
    assert party_id(RFC8032_PUBLIC) == expected
    assert KEY.public.party_id == expected
    assert KEY.party_id == expected
    assert check_party_id(expected) == expected


@pytest.mark.parametrize("value", [b"\x00" * 31, b"\x00" * 33, "00" * 32, None, bytearray(32)])
def test_party_id_needs_32_raw_bytes(value: Any) -> None:
    with pytest.raises(FormatError, match="32 raw bytes"):
        party_id(value)


@pytest.mark.parametrize("value", ["A" * 64, "a" * 63, "a" * 65, "g" * 64, "a" * 64 + "\n", 1])
def test_check_party_id_rejects(value: Any) -> None:
    with pytest.raises(FormatError, match="64 lowercase hex"):
        check_party_id(value, what="log")


def test_verifying_key_conversions() -> None:
    vk = KEY.public
    assert VerifyingKey.from_bytes(vk.to_bytes()) == vk
    assert vk.to_b64() == base64.b64encode(RFC8032_PUBLIC).decode()
    assert VerifyingKey.from_b64(vk.to_b64()) == vk
    assert hash(VerifyingKey(RFC8032_PUBLIC)) == hash(vk)


BAD_B64_KEYS = [
    ("not base64", "not base64!", "not valid base64"),
    ("missing padding", base64.b64encode(RFC8032_PUBLIC).decode().rstrip("="), "not valid base64"),
    ("urlsafe alphabet", base64.urlsafe_b64encode(b"\xfb" * 32).decode(), "not valid base64"),
    ("whitespace", " " + base64.b64encode(RFC8032_PUBLIC).decode(), "not valid base64"),
    ("non-ascii", "é" * 44, "not valid base64"),
    # 32 bytes leave 2 unused bits in the last character: setting one is another spelling.
    ("non-canonical bits", base64.b64encode(bytes(32)).decode()[:42] + "B=", "not canonical"),
    ("wrong length", base64.b64encode(bytes(31)).decode(), "32 raw bytes"),
    ("not a string", RFC8032_PUBLIC, "must be a base64 string"),
]


@pytest.mark.parametrize(
    ("text", "message"), [(t, m) for _, t, m in BAD_B64_KEYS], ids=[n for n, _, _ in BAD_B64_KEYS]
)
def test_verifying_key_from_b64_rejects(text: Any, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        VerifyingKey.from_b64(text)


def test_base64_round_trip_and_canonical_spelling() -> None:
    for n in range(6):
        data = bytes(range(250, 250 + n % 6))
        assert decode_base64(encode_base64(data)) == data
    assert decode_base64("AAE=") == b"\x00\x01"
    with pytest.raises(FormatError, match="not canonical"):
        decode_base64("AAF=")


def test_verify_rejects_tampering() -> None:
    data = b"rdh test message"
    signature = KEY.sign(data)
    KEY.public.verify(signature=signature, data=data)
    with pytest.raises(VerificationError, match="does not verify"):
        KEY.public.verify(signature=signature, data=data + b".")
    with pytest.raises(VerificationError, match="does not verify"):
        OTHER.public.verify(signature=signature, data=data)
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    with pytest.raises(VerificationError, match="does not verify"):
        KEY.public.verify(signature=flipped, data=data)
    with pytest.raises(VerificationError, match="64 bytes"):
        KEY.public.verify(signature=signature[:-1], data=data)


def test_verify_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        KEY.public.verify(KEY.sign(b"x"), b"x")  # type: ignore[call-arg]


@pytest.mark.parametrize("seed", [bytes(31), bytes(33), "00" * 32, None])
def test_from_seed_needs_32_bytes(seed: Any) -> None:
    with pytest.raises(FormatError, match="seed is 32 bytes"):
        SigningKey.from_seed(seed)


def test_repr_hides_the_private_key() -> None:
    text = repr(KEY)
    assert KEY.party_id in text
    for secret in (RFC8032_SEED.hex(), base64.b64encode(RFC8032_SEED).decode(), "9d61b19d"):
        assert secret not in text


def test_pem_round_trip_plain_and_encrypted() -> None:
    plain = KEY.to_pem()
    assert plain.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert SigningKey.from_pem(plain).seed() == RFC8032_SEED
    encrypted = KEY.to_pem(passphrase=b"correct horse")
    assert encrypted.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert RFC8032_SEED not in encrypted
    assert SigningKey.from_pem(encrypted, passphrase=b"correct horse").seed() == RFC8032_SEED


def test_pem_errors() -> None:
    encrypted = KEY.to_pem(passphrase=b"correct horse")
    with pytest.raises(VerificationError, match="passphrase is wrong"):
        SigningKey.from_pem(encrypted, passphrase=b"wrong")
    with pytest.raises(FormatError, match="passphrase is needed"):
        SigningKey.from_pem(encrypted)
    with pytest.raises(FormatError, match="no passphrase is needed"):
        SigningKey.from_pem(KEY.to_pem(), passphrase=b"x")
    with pytest.raises(FormatError, match="not a readable PEM"):
        SigningKey.from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(FormatError, match="non-empty bytes"):
        KEY.to_pem(passphrase=b"")
    with pytest.raises(FormatError, match="non-empty bytes"):
        SigningKey.from_pem(encrypted, passphrase="correct horse")  # type: ignore[arg-type]


def test_pem_of_another_algorithm_is_refused() -> None:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(FormatError, match="not hold an Ed25519"):
        SigningKey.from_pem(pem)


# --- the error contract of canonical, keys, statement and entry ---------------------------------

SIGNER = SigningKey.from_seed(bytes([7]) * 32)
LOG = SigningKey.from_seed(bytes([8]) * 32).party_id
STATEMENT = statement.Statement(
    type="contract.sign",
    log=LOG,
    signer=SIGNER.public,
    time="2026-11-25T15:04:05Z",
    nonce=base64.urlsafe_b64encode(bytes(range(16))).decode().rstrip("="),
    body={"contract": "c" * 64},
)
SIGNED = statement.sign_statement(STATEMENT, key=SIGNER)
ENTRY = entry.Entry(
    log=LOG,
    seq=3,
    time="2026-11-25T15:04:06Z",
    type="contract.sign",
    refs=(EntryId("a" * 64),),
    body={"amount": "1.00", "n": [1, 2, {"x": None}]},
    signed=(SIGNED,),
)
ENTRY_BYTES = ENTRY.to_bytes()
PEM = KEY.to_pem()
ENCRYPTED_PEM = KEY.to_pem(passphrase=b"pw")

junk = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(max_size=70),
        st.binary(max_size=70),
        st.sampled_from(
            [
                "a" * 64,
                "2026-13-01T00:00:00Z",
                "2026-11-25T15:04:05Z",
                "task.publish",
                "AAAA",
                "\ud800",
                2**53,
                -1,
                b"\xff",
                ENTRY_BYTES[:-1],
                PEM[:50],
                STATEMENT.to_dict(),
                ENTRY.to_dict(),
                SIGNED.to_dict(),
            ]
        ),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.text(max_size=6), st.integers()), inner, max_size=3),
        st.tuples(inner),
    ),
    max_leaves=8,
)


def _pick(fields: dict[str, Any], seed: object) -> str:
    """A field name chosen (deterministically) by `seed`: usually a known one, else a new one."""
    names = [*sorted(fields), "extra"]
    return names[len(repr(seed)) % len(names)]


PUBLIC_CALLS: dict[str, Callable[[Any, Any], object]] = {
    "canonicalize": lambda a, b: canonical.canonicalize(a),
    "parse": lambda a, b: canonical.parse(a),
    "parse_canonical": lambda a, b: canonical.parse_canonical(a),
    "party_id": lambda a, b: keys.party_id(a),
    "check_party_id": lambda a, b: keys.check_party_id(a),
    "encode_base64": lambda a, b: keys.encode_base64(a),
    "decode_base64": lambda a, b: keys.decode_base64(a),
    "VerifyingKey": lambda a, b: keys.VerifyingKey(a),
    "VerifyingKey.from_bytes": lambda a, b: keys.VerifyingKey.from_bytes(a),
    "VerifyingKey.from_b64": lambda a, b: keys.VerifyingKey.from_b64(a),
    "VerifyingKey.verify": lambda a, b: KEY.public.verify(signature=a, data=b),
    "VerifyingKey.verify data": lambda a, b: KEY.public.verify(signature=KEY.sign(b""), data=a),
    "SigningKey": lambda a, b: keys.SigningKey(a),
    "SigningKey.from_seed": lambda a, b: keys.SigningKey.from_seed(a),
    "SigningKey.from_pem": lambda a, b: keys.SigningKey.from_pem(a, passphrase=b),
    "SigningKey.from_pem plain": lambda a, b: keys.SigningKey.from_pem(PEM, passphrase=a),
    "SigningKey.from_pem encrypted": lambda a, b: keys.SigningKey.from_pem(
        ENCRYPTED_PEM, passphrase=a
    ),
    "SigningKey.sign": lambda a, b: KEY.sign(a),
    "SigningKey.to_pem": lambda a, b: KEY.to_pem(passphrase=a),
    "parse_time": lambda a, b: statement.parse_time(a),
    "check_time": lambda a, b: statement.check_time(a),
    "format_time": lambda a, b: statement.format_time(a),
    "check_type_name": lambda a, b: statement.check_type_name(a),
    "check_object": lambda a, b: statement.check_object(
        a, what="x", required=frozenset({"a"}), optional=frozenset({"b"})
    ),
    "Statement": lambda a, b: statement.Statement(
        v=a, type=b, log=a, signer=b, time=a, nonce=b, body=a
    ),
    "Statement field": lambda a, b: statement.Statement.from_dict(
        {**STATEMENT.to_dict(), _pick(STATEMENT.to_dict(), b): a}
    ),
    "Statement.from_dict": lambda a, b: statement.Statement.from_dict(a),
    "SignedStatement": lambda a, b: statement.SignedStatement(a, b),
    "SignedStatement.from_dict": lambda a, b: statement.SignedStatement.from_dict(a),
    "sign_statement": lambda a, b: statement.sign_statement(a, key=b),
    "Entry": lambda a, b: entry.Entry(v=a, log=b, seq=a, time=b, type=a, refs=b, body=a, signed=b),
    "Entry field": lambda a, b: entry.Entry.from_dict(
        {**ENTRY.to_dict(), _pick(ENTRY.to_dict(), b): a}
    ),
    "SignedStatement field": lambda a, b: statement.SignedStatement.from_dict(
        {**SIGNED.to_dict(), _pick(SIGNED.to_dict(), b): a}
    ),
    "Entry.from_dict": lambda a, b: entry.Entry.from_dict(a),
    "Entry.from_bytes": lambda a, b: entry.Entry.from_bytes(a),
    "Entry.from_bytes json": lambda a, b: entry.Entry.from_bytes(canonical.canonicalize(a)),
    "entry_id": lambda a, b: entry.entry_id(a),
    "verify_statements": lambda a, b: entry.verify_statements(a),
}


def _only_ledger_errors(call: Callable[[], object]) -> None:
    with contextlib.suppress(LedgerError):  # anything else propagates and fails the test
        call()


@pytest.mark.parametrize("name", sorted(PUBLIC_CALLS))
@settings(max_examples=60, deadline=None)
@given(a=junk, b=junk)
def test_bad_input_raises_only_ledger_errors(name: str, a: Any, b: Any) -> None:
    call = PUBLIC_CALLS[name]
    _only_ledger_errors(lambda: call(a, b))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_corrupted_bytes_raise_only_ledger_errors(data: st.DataObject) -> None:
    for original, parse in [
        (ENTRY_BYTES, entry.Entry.from_bytes),
        (ENTRY_BYTES, canonical.parse),
        (PEM, keys.SigningKey.from_pem),
        (ENCRYPTED_PEM, lambda d: keys.SigningKey.from_pem(d, passphrase=b"pw")),
        (KEY.public.to_b64().encode(), lambda d: keys.VerifyingKey.from_b64(d.decode("latin-1"))),
    ]:
        raw = bytearray(original)
        for _ in range(data.draw(st.integers(1, 3))):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
        _only_ledger_errors(lambda parse=parse, raw=raw: parse(bytes(raw)))  # type: ignore[misc]


def test_junk_actually_reaches_the_error_paths() -> None:
    """Guard against a vacuous contract test: these junk inputs fail with LedgerError."""
    for name, a, b in [
        ("parse", b"\xff", None),
        ("VerifyingKey.verify", b"x" * 64, b"y"),
        ("SigningKey.from_pem encrypted", b"wrong", None),
        ("Entry.from_bytes", ENTRY_BYTES[:-1], None),
        ("format_time", datetime(2026, 1, 1), None),  # naive on purpose
    ]:
        with pytest.raises(LedgerError):
            PUBLIC_CALLS[name](a, b)
