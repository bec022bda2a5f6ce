"""Checkpoints: the tlog-checkpoint text, our rdh/<log id> naming, signing and opening."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.checkpoint import (
    MAX_TREE_SIZE,
    Checkpoint,
    check_log_key,
    log_id_from_origin,
    log_origin,
    log_signer,
    log_verifier,
    open_checkpoint,
    parse_decimal,
    sign_checkpoint,
)
from ledger.cosignature import CosignatureSigner, cosign
from ledger.errors import FormatError, LedgerError, VerificationError
from ledger.keys import SigningKey
from ledger.note import Note, NoteSigner, NoteVerifier, sign_note
from ledger.types import Hash

# The example in c2sp.org/tlog-checkpoint.
SPEC_TEXT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
ROOT = Hash(hashlib.sha256(b"root").digest())
ROOT_B64 = base64.b64encode(ROOT).decode()
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# Same bytes as ROOT_B64 for a lenient decoder, but with a non-zero unused bit.
NONCANONICAL_ROOT = ROOT_B64[:-2] + _ALPHABET[_ALPHABET.index(ROOT_B64[-2]) | 1] + "="
LOG_KEY = SigningKey.from_seed(bytes(range(32)))
OTHER_KEY = SigningKey.from_seed(bytes(range(1, 33)))
WITNESS_KEY = SigningKey.from_seed(bytes(range(2, 34)))
LOG_ID = LOG_KEY.public.party_id
ORIGIN = f"rdh/{LOG_ID}"


def checkpoint(size: int = 5) -> Checkpoint:
    return Checkpoint(origin=ORIGIN, size=size, root=ROOT)


def test_spec_example_round_trips() -> None:
    cp = Checkpoint.from_text(SPEC_TEXT)
    assert cp.origin == "example.com/behind-the-sofa"
    assert cp.size == 20852163
    assert cp.root == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert cp.extensions == ()
    assert cp.to_text() == SPEC_TEXT


def test_extension_lines_round_trip() -> None:
    text = SPEC_TEXT + "ext one\nsecond\n"
    cp = Checkpoint.from_text(text)
    assert cp.extensions == ("ext one", "second")
    assert cp.to_text() == text


def test_our_text_has_exactly_three_lines() -> None:
    assert checkpoint(0).to_text() == f"{ORIGIN}\n0\n{ROOT_B64}\n"


@pytest.mark.parametrize(
    ("size", "text"), [(0, "0"), (1, "1"), (10, "10"), (MAX_TREE_SIZE, str(MAX_TREE_SIZE))]
)
def test_sizes(size: int, text: str) -> None:
    assert parse_decimal(text, what="size") == size
    assert Checkpoint.from_text(f"o\n{text}\n{ROOT_B64}\n").size == size


CHECKPOINT_CORPUS: list[tuple[str, str]] = [
    ("empty", ""),
    ("only origin", "o\n"),
    ("truncated", f"o\n5\n{ROOT_B64}"),
    ("missing root", "o\n5\n"),
    ("missing final newline", f"o\n5\n{ROOT_B64}"),
    ("CRLF", f"o\r\n5\r\n{ROOT_B64}\r\n"),
    ("CR in origin", f"o\r\n5\n{ROOT_B64}\n"),
    ("control char in origin", f"o\x01\n5\n{ROOT_B64}\n"),
    ("empty origin", f"\n5\n{ROOT_B64}\n"),
    ("reordered lines", f"5\no\n{ROOT_B64}\n"),
    ("root before size", f"o\n{ROOT_B64}\n5\n"),
    ("leading zero", f"o\n05\n{ROOT_B64}\n"),
    ("double zero", f"o\n00\n{ROOT_B64}\n"),
    ("plus sign", f"o\n+5\n{ROOT_B64}\n"),
    ("minus sign", f"o\n-5\n{ROOT_B64}\n"),
    ("negative zero", f"o\n-0\n{ROOT_B64}\n"),
    ("space before size", f"o\n 5\n{ROOT_B64}\n"),
    ("space after size", f"o\n5 \n{ROOT_B64}\n"),
    ("hex size", f"o\n0x5\n{ROOT_B64}\n"),
    ("underscore size", f"o\n1_000\n{ROOT_B64}\n"),
    ("arabic-indic digits", f"o\n\u0665\n{ROOT_B64}\n"),
    ("fullwidth digit", f"o\n\uff15\n{ROOT_B64}\n"),
    ("size 2**63", f"o\n{2**63}\n{ROOT_B64}\n"),
    ("huge size", f"o\n{'9' * 400}\n{ROOT_B64}\n"),
    ("empty size", f"o\n\n{ROOT_B64}\n"),
    ("root 31 bytes", f"o\n5\n{base64.b64encode(ROOT[:31]).decode()}\n"),
    ("root 33 bytes", f"o\n5\n{base64.b64encode(ROOT + b'x').decode()}\n"),
    ("root unpadded", f"o\n5\n{ROOT_B64.rstrip('=')}\n"),
    ("root bad base64", f"o\n5\n{'!' * 44}\n"),
    ("root urlsafe", "o\n5\n" + base64.urlsafe_b64encode(b"\xff" * 32).decode() + "\n"),
    ("root non-canonical bits", f"o\n5\n{NONCANONICAL_ROOT}\n"),
    ("root hex", f"o\n5\n{ROOT.hex()}\n"),
    ("root trailing space", f"o\n5\n{ROOT_B64} \n"),
    ("empty extension line", f"o\n5\n{ROOT_B64}\n\n"),
    ("empty extension between", f"o\n5\n{ROOT_B64}\na\n\nb\n"),
    ("trailing garbage", f"o\n5\n{ROOT_B64}\nx"),
]


@pytest.mark.parametrize(
    "text", [c[1] for c in CHECKPOINT_CORPUS], ids=[c[0] for c in CHECKPOINT_CORPUS]
)
def test_checkpoint_text_corpus(text: str) -> None:
    with pytest.raises(FormatError):
        Checkpoint.from_text(text)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"origin": "", "size": 1, "root": ROOT},
        {"origin": "a\nb", "size": 1, "root": ROOT},
        {"origin": "o", "size": -1, "root": ROOT},
        {"origin": "o", "size": 2**63, "root": ROOT},
        {"origin": "o", "size": True, "root": ROOT},
        {"origin": "o", "size": 1, "root": ROOT[:31]},
        {"origin": "o", "size": 1, "root": ROOT, "extensions": ("",)},
        {"origin": "o", "size": 1, "root": ROOT, "extensions": ("a\nb",)},
        {"origin": "o", "size": 1, "root": ROOT, "extensions": ["list"]},
    ],
    ids=[
        "empty origin",
        "newline origin",
        "negative",
        "too big",
        "bool size",
        "short root",
        "empty extension",
        "newline extension",
        "extensions list",
    ],
)
def test_invalid_checkpoint_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(FormatError):
        Checkpoint(**kwargs)  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(
    origin=st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=30),
    size=st.integers(min_value=0, max_value=MAX_TREE_SIZE),
    root=st.binary(min_size=32, max_size=32),
)
def test_text_round_trip(origin: str, size: int, root: bytes) -> None:
    cp = Checkpoint(origin=origin, size=size, root=Hash(root))
    assert Checkpoint.from_text(cp.to_text()) == cp


# --- our logs --------------------------------------------------------------------------------


def test_log_naming() -> None:
    assert log_origin(LOG_ID) == ORIGIN
    assert log_id_from_origin(ORIGIN) == LOG_ID
    assert log_verifier(LOG_KEY.public).name == ORIGIN
    assert log_signer(LOG_KEY).vkey == log_verifier(LOG_KEY.public).to_vkey()
    check_log_key(LOG_ID, LOG_KEY.public)
    with pytest.raises(VerificationError):
        check_log_key(LOG_ID, OTHER_KEY.public)


@pytest.mark.parametrize(
    "origin",
    ["rdh/" + "A" * 64, "rdh/" + "a" * 63, "rdh/" + "a" * 65, "RDH/" + "a" * 64, "a" * 64, "rdh/"],
)
def test_foreign_origins(origin: str) -> None:
    with pytest.raises(FormatError):
        log_id_from_origin(origin)


@pytest.mark.parametrize("log_id", ["A" * 64, "a" * 63, "a" * 65, "g" * 64, "", "rdh/" + "a" * 64])
def test_invalid_log_ids(log_id: str) -> None:
    with pytest.raises(FormatError):
        log_origin(log_id)


def test_sign_and_open() -> None:
    note = sign_checkpoint(checkpoint(), log_signer(LOG_KEY))
    signed = open_checkpoint(note, verifier=log_verifier(LOG_KEY.public))
    assert signed.checkpoint == checkpoint()
    assert signed.note == note
    assert signed.log == log_verifier(LOG_KEY.public)
    assert signed.cosigned_by == ()
    assert Checkpoint.from_note(note) == checkpoint()
    assert note.decode().startswith(checkpoint().to_text() + "\n\u2014 " + ORIGIN + " ")


def test_open_with_witnesses() -> None:
    witness = CosignatureSigner("witness.example/w1", WITNESS_KEY, 1_700_000_000)
    note = sign_checkpoint(checkpoint(), log_signer(LOG_KEY), [witness])
    log = log_verifier(LOG_KEY.public)
    assert open_checkpoint(note, verifier=log).cosigned_by == ()  # unknown: ignored
    signed = open_checkpoint(note, verifier=log, witnesses=[witness.cosigner_key])
    assert signed.cosigned_by == ("witness.example/w1",)
    pairs = sign_checkpoint(
        checkpoint(),
        log_signer(LOG_KEY),
        [("witness.example/w1", WITNESS_KEY)],
        timestamp=1_700_000_000,
    )
    assert pairs == note


def test_cosigning_with_pairs_needs_a_timestamp() -> None:
    with pytest.raises(FormatError, match="timestamp"):
        sign_checkpoint(checkpoint(), log_signer(LOG_KEY), [("w", WITNESS_KEY)])


def test_the_log_key_must_be_named_after_the_origin() -> None:
    with pytest.raises(FormatError, match="origin"):
        sign_checkpoint(checkpoint(), NoteSigner("example.com/log", LOG_KEY))


def test_a_witness_signature_alone_does_not_open() -> None:
    witness = CosignatureSigner("w", WITNESS_KEY, 1)
    log = log_signer(LOG_KEY)
    only = Note(
        checkpoint().to_text(),
        (cosign(checkpoint().to_text(), name="w", key=WITNESS_KEY, timestamp=1),),
    )
    with pytest.raises(VerificationError, match="not signed by the log"):
        open_checkpoint(only.to_bytes(), verifier=log.verifier, witnesses=[witness.cosigner_key])


def _note(text: str, *signers: NoteSigner) -> bytes:
    return sign_note(text, list(signers))


ORIGIN_SIGNER = log_signer(LOG_KEY)
OTHER_SIGNER = log_signer(OTHER_KEY)
GOOD = sign_checkpoint(checkpoint(), ORIGIN_SIGNER)
OTHER_ORIGIN_TEXT = Checkpoint(
    origin=f"rdh/{OTHER_KEY.public.party_id}", size=5, root=ROOT
).to_text()

SIGNED_CORPUS: list[tuple[str, bytes, type[LedgerError]]] = [
    ("truncated", GOOD[:-20], FormatError),
    ("missing final newline", GOOD[:-1], FormatError),
    ("trailing garbage", GOOD + b"x", FormatError),
    ("CRLF", GOOD.replace(b"\n", b"\r\n"), FormatError),
    (
        "wrong key",
        sign_checkpoint(
            Checkpoint(origin=ORIGIN, size=5, root=ROOT), NoteSigner(ORIGIN, OTHER_KEY)
        ),
        VerificationError,
    ),
    (
        "another log's checkpoint",
        sign_checkpoint(Checkpoint.from_text(OTHER_ORIGIN_TEXT), OTHER_SIGNER),
        VerificationError,
    ),
    ("origin is not the key name", _note(OTHER_ORIGIN_TEXT, ORIGIN_SIGNER), VerificationError),
    ("leading zero size", _note(f"{ORIGIN}\n05\n{ROOT_B64}\n", ORIGIN_SIGNER), FormatError),
    ("two-line text", _note(f"{ORIGIN}\n5\n", ORIGIN_SIGNER), FormatError),
    ("empty extension", _note(f"{ORIGIN}\n5\n{ROOT_B64}\n\n", ORIGIN_SIGNER), FormatError),
    ("changed size", GOOD.replace(b"\n5\n", b"\n6\n", 1), VerificationError),
    ("duplicate log signature", GOOD + GOOD[GOOD.index("\u2014".encode()) :], FormatError),
    ("not a checkpoint", _note("hello\n", NoteSigner(ORIGIN, LOG_KEY)), FormatError),
]


@pytest.mark.parametrize(
    ("data", "error"), [c[1:] for c in SIGNED_CORPUS], ids=[c[0] for c in SIGNED_CORPUS]
)
def test_signed_checkpoint_corpus(data: bytes, error: type[LedgerError]) -> None:
    with pytest.raises(error):
        open_checkpoint(data, verifier=log_verifier(LOG_KEY.public))


def test_one_of_several_logs() -> None:
    verifiers = [log_verifier(OTHER_KEY.public), log_verifier(LOG_KEY.public)]
    assert open_checkpoint(GOOD, verifier=verifiers).log == verifiers[1]
    with pytest.raises(VerificationError):
        open_checkpoint(GOOD, verifier=[log_verifier(OTHER_KEY.public)])
    with pytest.raises(VerificationError):
        open_checkpoint(GOOD, verifier=[])


def test_a_checkpoint_signed_by_a_known_key_with_another_name_fails() -> None:
    renamed = NoteVerifier("example.com/log", LOG_KEY.public)
    note = _note(checkpoint().to_text(), NoteSigner("example.com/log", LOG_KEY))
    with pytest.raises(VerificationError, match="origin"):
        open_checkpoint(note, verifier=renamed)
