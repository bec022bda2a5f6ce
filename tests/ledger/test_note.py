"""Signed notes: the Go sumdb/note vectors, Go's Open/Sign cases, and a negative corpus."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import FormatError, LedgerError, VerificationError
from ledger.keys import SigningKey
from ledger.note import (
    KEY_TYPE_COSIGNATURE,
    KEY_TYPE_ED25519,
    MAX_SIGNATURES,
    Note,
    NoteSignature,
    NoteSigner,
    NoteVerifier,
    check_key_name,
    key_id,
    parse_vkey,
    sign_note,
    verify_note,
)
from tests.conftest import load_vector

VECTORS: dict[str, Any] = load_vector("signed-note.json")
PETER = VECTORS["vectors"][0]
EXAMPLE = VECTORS["vectors"][1]

# From golang.org/x/mod/sumdb/note's note_test.go.
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngo"
    "tpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_KEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox"
    "33WWd1RvMc+QQ=\n"
)
ENOCH_ABCD = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]


def peter() -> NoteVerifier:
    return NoteVerifier.from_vkey(PETER["verifier_key"])


def enoch() -> NoteVerifier:
    return NoteVerifier.from_vkey(ENOCH_KEY)


def msg(*sigs: str, text: str = TEXT) -> bytes:
    return (text + "\n" + "".join(sigs)).encode()


# --- vectors --------------------------------------------------------------------------------


def test_vector_note_is_text_plus_signature() -> None:
    assert PETER["note"] == TEXT + "\n" + PETER_SIG


def test_signing_reproduces_the_go_signature_line() -> None:
    signer = NoteSigner.from_skey(PETER["signer_key"])
    assert sign_note(TEXT, [signer]) == PETER["note"].encode()
    from_seed = NoteSigner(
        "PeterNeumann", SigningKey.from_seed(bytes.fromhex(PETER["ed25519_seed_hex"]))
    )
    assert sign_note(TEXT, [from_seed]) == PETER["note"].encode()


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=["PeterNeumann", "example.com/foo"])
def test_vector_notes_verify(vector: dict[str, str]) -> None:
    verifier = NoteVerifier.from_vkey(vector["verifier_key"])
    assert verifier.public_key.to_bytes().hex() == vector["public_key_hex"]
    assert verifier.to_vkey() == vector["verifier_key"]
    note = verify_note(vector["note"].encode(), [verifier])
    assert note.text + "\n" + note.signatures[0].to_line() == vector["note"]
    assert note.unverified == ()


def test_vector_key_id() -> None:
    pub = bytes.fromhex(PETER["public_key_hex"])
    assert key_id("PeterNeumann", KEY_TYPE_ED25519, pub) == int(PETER["key_id_hex"], 16)
    expected = hashlib.sha256(b"PeterNeumann\n\x01" + pub).digest()[:4]
    assert peter().key_id.to_bytes(4, "big") == expected
    assert peter().key_type == KEY_TYPE_ED25519


def test_signer_key_round_trips() -> None:
    signer = NoteSigner.from_skey(PETER["signer_key"])
    assert signer.to_skey() == PETER["signer_key"]
    assert signer.vkey == PETER["verifier_key"]
    assert signer.verifier == peter()
    assert "AYEK" not in repr(signer)
    assert PETER["ed25519_seed_hex"] not in repr(signer)


@pytest.mark.parametrize("vkey", VECTORS["must_reject_verifier_keys"])
def test_vector_bad_verifier_keys_rejected(vkey: str) -> None:
    with pytest.raises(FormatError):
        NoteVerifier.from_vkey(vkey)


def _manglings(key: str) -> list[str]:
    """Every proper substring and every one-character increment, as in Go's tests."""
    b = key.encode()
    out = {
        b[i:j].decode("utf-8", "replace") for i in range(len(b)) for j in range(i + 1, len(b) + 1)
    }
    out.discard(key)
    for i in range(len(b)):
        changed = bytearray(b)
        changed[i] = (changed[i] + 1) % 256
        out.add(bytes(changed).decode("utf-8", "replace"))
    return sorted(out)


def test_every_mangled_verifier_key_is_rejected() -> None:
    for bad in _manglings(PETER["verifier_key"]):
        with pytest.raises(FormatError):
            NoteVerifier.from_vkey(bad)


def test_every_mangled_signer_key_is_rejected() -> None:
    for bad in _manglings(PETER["signer_key"]):
        with pytest.raises(FormatError):
            NoteSigner.from_skey(bad)


def test_uppercase_hex_key_id_is_accepted_like_go() -> None:
    name, rest = PETER["verifier_key"].split("+", 1)
    upper = name + "+" + rest[:8].upper() + rest[8:]
    assert NoteVerifier.from_vkey(upper) == peter()


def test_parse_vkey_returns_its_parts() -> None:
    name, kid, key_type, material = parse_vkey(PETER["verifier_key"])
    assert (name, kid, key_type) == ("PeterNeumann", 0xC74F20A3, KEY_TYPE_ED25519)
    assert material.hex() == PETER["public_key_hex"]


def test_verifier_rejects_a_cosignature_vkey() -> None:
    pub = bytes.fromhex(PETER["public_key_hex"])
    kid = key_id("w", KEY_TYPE_COSIGNATURE, pub)
    vkey = f"w+{kid:08x}+" + base64.b64encode(bytes([KEY_TYPE_COSIGNATURE]) + pub).decode()
    assert parse_vkey(vkey)[2] == KEY_TYPE_COSIGNATURE
    with pytest.raises(FormatError, match="type"):
        NoteVerifier.from_vkey(vkey)


# --- Go's Open cases -------------------------------------------------------------------------


def test_one_signature_verified_one_unknown() -> None:
    note = verify_note(msg(PETER_SIG, ENOCH_SIG), [peter()])
    assert note.text == TEXT
    assert [s.to_line() for s in note.signatures] == [PETER_SIG]
    assert [s.to_line() for s in note.unverified] == [ENOCH_SIG]


def test_both_signatures_verified() -> None:
    note = verify_note(msg(PETER_SIG, ENOCH_SIG), [peter(), enoch()])
    assert [s.name for s in note.signatures] == ["PeterNeumann", "EnochRoot"]
    assert note.unverified == ()


def test_no_known_signature_is_rejected() -> None:
    with pytest.raises(VerificationError, match="not signed by any known key"):
        verify_note(msg(PETER_SIG, ENOCH_SIG), [])


def test_ambiguous_verifiers_are_rejected_when_used() -> None:
    impostor = NoteVerifier("EnochRoot", peter().public_key)  # same name, another key id

    class Stub:
        """Collides with Enoch's key on both name and key id."""

        name = "EnochRoot"
        key_id = 0xAF0CFE78

        def verify(self, *, text: bytes, signature: bytes) -> None:
            raise AssertionError("must not be called")

    with pytest.raises(VerificationError, match="two different known keys"):
        verify_note(msg(ENOCH_SIG), [enoch(), peter(), Stub()])
    # An unused ambiguity is harmless; identical verifiers listed twice are one.
    assert verify_note(msg(PETER_SIG), [enoch(), peter(), Stub()]).signatures
    assert verify_note(msg(PETER_SIG), [peter(), peter(), impostor]).signatures


def test_duplicate_unknown_lines_are_kept_once() -> None:
    note = verify_note(msg(PETER_SIG, ENOCH_SIG, ENOCH_SIG, ENOCH_ABCD), [peter()])
    assert [s.to_line() for s in note.unverified] == [ENOCH_SIG, ENOCH_ABCD]


def test_exactly_max_signatures_are_accepted() -> None:
    filler = [ENOCH_SIG] * (MAX_SIGNATURES - 1)
    assert verify_note(msg(PETER_SIG, *filler), [peter()]).signatures


def test_note_round_trips_through_parse() -> None:
    data = msg(PETER_SIG, ENOCH_SIG, ENOCH_ABCD)
    assert Note.from_bytes(data).to_bytes() == data


def test_text_may_contain_blank_lines() -> None:
    signer = NoteSigner.from_skey(PETER["signer_key"])
    text = "a\n\nb\n\n\nc\n"
    note = verify_note(sign_note(text, [signer]), [peter()])
    assert note.text == text


def test_minimal_text_is_a_single_newline() -> None:
    signer = NoteSigner.from_skey(PETER["signer_key"])
    assert verify_note(sign_note("\n", [signer]), [peter()]).text == "\n"


def test_add_signatures_replaces_the_same_key() -> None:
    signer = NoteSigner.from_skey(PETER["signer_key"])
    stale = NoteSignature("PeterNeumann", 0xC74F20A3, b"BAD SIGNATURE")
    note = Note(TEXT, (stale, NoteSignature.from_line(ENOCH_SIG)))
    fresh = Note.from_bytes(PETER["note"].encode()).signatures[0]
    updated = note.add_signatures([fresh])
    assert updated.to_bytes() == msg(ENOCH_SIG, PETER_SIG)
    assert verify_note(updated.to_bytes(), [signer.verifier]).signatures == (fresh,)


# --- negative corpus -------------------------------------------------------------------------

OTHER = NoteSigner("PeterNeumann", SigningKey.from_seed(bytes(32)))
NOTE = PETER["note"].encode()
SIG_B64 = PETER_SIG.split(" ")[2].rstrip("\n")
SIG_RAW = base64.b64decode(SIG_B64)


def _sig(raw: bytes, name: str = "PeterNeumann") -> str:
    return f"— {name} {base64.b64encode(raw).decode()}\n"


NOTE_CORPUS: list[tuple[str, bytes, type[LedgerError]]] = [
    ("empty", b"", FormatError),
    ("text only", TEXT.encode(), FormatError),
    ("no signatures", msg(), FormatError),
    ("no blank line", (TEXT + PETER_SIG).encode(), FormatError),
    ("truncated", NOTE[:-10], FormatError),
    ("missing final newline", NOTE[:-1], FormatError),
    ("trailing garbage", NOTE + b"garbage", FormatError),
    ("trailing garbage line", NOTE + b"Unexpected line.\n", FormatError),
    ("trailing blank line", NOTE + b"\n", FormatError),
    ("CRLF", NOTE.replace(b"\n", b"\r\n"), FormatError),
    ("CR in text", msg(PETER_SIG, text="a\rb\n"), FormatError),
    ("tab in text", msg(PETER_SIG, text="a\tb\n"), FormatError),
    ("control char", b"\x01" + NOTE, FormatError),
    ("NUL", NOTE.replace(b"problem", b"prob\x00em", 1), FormatError),
    ("invalid UTF-8", b"\xff" + NOTE, FormatError),
    ("UTF-8 surrogate", b"\xed\xa0\x80" + NOTE, FormatError),
    ("overlong UTF-8", b"\xc0\xaf" + NOTE, FormatError),
    ("name with space", msg("— Bad Name " + SIG_B64 + "\n"), FormatError),
    ("name with plus", msg("— Peter+Neumann " + SIG_B64 + "\n"), FormatError),
    ("name with NBSP", msg("— Peter\u00a0Neumann " + SIG_B64 + "\n"), FormatError),
    ("name with ideographic space", msg("— Peter\u3000 " + SIG_B64 + "\n"), FormatError),
    ("empty name", msg("—  " + SIG_B64 + "\n"), FormatError),
    ("two spaces", msg("— PeterNeumann  " + SIG_B64 + "\n"), FormatError),
    ("trailing space", msg("— PeterNeumann " + SIG_B64 + " \n"), FormatError),
    ("no signature", msg("— PeterNeumann\n"), FormatError),
    ("empty signature", msg("— PeterNeumann \n"), FormatError),
    ("hyphen instead of em dash", msg("- PeterNeumann " + SIG_B64 + "\n"), FormatError),
    ("en dash", msg("\u2013 PeterNeumann " + SIG_B64 + "\n"), FormatError),
    ("em dash without space", msg("—PeterNeumann " + SIG_B64 + "\n"), FormatError),
    ("bad base64", msg("— PeterNeumann !!!!\n"), FormatError),
    ("unpadded base64", msg("— PeterNeumann " + SIG_B64.rstrip("=") + "\n"), FormatError),
    ("extra padding", msg("— PeterNeumann " + SIG_B64 + "==\n"), FormatError),
    ("urlsafe base64", msg(_sig(b"\xff\xff\xfb" + SIG_RAW).replace("/", "_")), FormatError),
    ("non-canonical trailing bits", msg("— PeterNeumann " + SIG_B64[:-2] + "N=\n"), FormatError),
    ("signature of 4 bytes", msg(_sig(SIG_RAW[:4])), FormatError),
    ("101 signatures", msg(PETER_SIG, *[ENOCH_SIG] * 100), FormatError),
    ("duplicate signature", msg(PETER_SIG, PETER_SIG), FormatError),
    ("duplicate, second bad", msg(PETER_SIG, _sig(SIG_RAW[:-1] + b"\0")), FormatError),
    ("wrong key", sign_note(TEXT, [OTHER]), VerificationError),
    ("wrong key id", msg(_sig(b"\0\0\0\0" + SIG_RAW[4:])), VerificationError),
    ("wrong name", msg(_sig(SIG_RAW, "PaulNeumann")), VerificationError),
    ("only unknown signatures", msg(ENOCH_SIG), VerificationError),
    ("bad signature", msg(_sig(SIG_RAW[:-1] + bytes([SIG_RAW[-1] ^ 1]))), VerificationError),
    (
        "bad signature after unknown",
        msg(ENOCH_SIG, _sig(SIG_RAW[:10] + bytes(58))),
        VerificationError,
    ),
    ("short known signature", msg(_sig(SIG_RAW[:-1])), VerificationError),
    ("long known signature", msg(_sig(SIG_RAW + b"\0")), VerificationError),
    (
        "reordered lines",
        msg(PETER_SIG, text="".join(reversed(TEXT.splitlines(True)))),
        VerificationError,
    ),
    ("changed text", msg(PETER_SIG, text=TEXT.upper()), VerificationError),
    ("blank line between signatures", msg(PETER_SIG, "\n", ENOCH_SIG), VerificationError),
]


@pytest.mark.parametrize(
    ("data", "error"), [c[1:] for c in NOTE_CORPUS], ids=[c[0] for c in NOTE_CORPUS]
)
def test_negative_corpus(data: bytes, error: type[LedgerError]) -> None:
    with pytest.raises(error):
        verify_note(data, [peter()])


@pytest.mark.parametrize(
    "name", ["", "a b", "a+b", "a\tb", "a\u2028b", "a\u0085b", "a\u00a0b", "\ud800"]
)
def test_invalid_key_names(name: str) -> None:
    with pytest.raises(FormatError):
        check_key_name(name)
    with pytest.raises(FormatError):
        NoteVerifier(name, peter().public_key)


@pytest.mark.parametrize("text", ["", "no newline", "bell\x07\n", "cr\r\n", "\ud800\n"], ids=repr)
def test_sign_refuses_text_that_would_not_open(text: str) -> None:
    signer = NoteSigner.from_skey(PETER["signer_key"])
    with pytest.raises(FormatError):
        sign_note(text, [signer])


def test_sign_refuses_no_signer_and_duplicate_signers() -> None:
    signer = NoteSigner.from_skey(PETER["signer_key"])
    with pytest.raises(FormatError):
        sign_note(TEXT, [])
    with pytest.raises(FormatError, match="twice"):
        sign_note(TEXT, [signer, signer])


@pytest.mark.parametrize(
    ("name", "kid", "sig"),
    [("", 0, b"x"), ("a", -1, b"x"), ("a", 2**32, b"x"), ("a", 0, b"")],
)
def test_invalid_signature_values(name: str, kid: int, sig: bytes) -> None:
    with pytest.raises(FormatError):
        NoteSignature(name, kid, sig)


# --- properties ------------------------------------------------------------------------------

_text_line = st.text(st.characters(exclude_categories=["Cs"], min_codepoint=0x20), max_size=40)
_name = st.text(
    st.characters(exclude_categories=["Cs", "Zs", "Zl", "Zp", "Cc"], exclude_characters="+"),
    min_size=1,
    max_size=20,
)


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(_text_line, min_size=1, max_size=5),
    name=_name,
    seed=st.binary(min_size=32, max_size=32),
)
def test_sign_then_verify(lines: list[str], name: str, seed: bytes) -> None:
    signer = NoteSigner(name, SigningKey.from_seed(seed))
    text = "\n".join(lines) + "\n"
    note = verify_note(sign_note(text, [signer]), [signer.verifier])
    assert note.text == text
    assert NoteVerifier.from_vkey(signer.vkey) == signer.verifier
    assert NoteSigner.from_skey(signer.to_skey()).vkey == signer.vkey


@settings(max_examples=200, deadline=None)
@given(position=st.integers(min_value=0), delta=st.integers(min_value=1, max_value=255))
def test_any_changed_byte_is_rejected(position: int, delta: int) -> None:
    data = bytearray(NOTE)
    data[position % len(data)] ^= delta
    with pytest.raises((FormatError, VerificationError)):
        verify_note(bytes(data), [peter()])


@settings(max_examples=300, deadline=None)
@given(
    data=st.binary(max_size=300) | st.text(max_size=200).map(lambda s: s.encode("utf-8", "replace"))
)
def test_garbage_only_raises_ledger_errors(data: bytes) -> None:
    with pytest.raises((FormatError, VerificationError)):
        verify_note(data, [peter()])
