"""Ed25519 cosignatures (cosignature/v1, type 0x04), checked against an independent build."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.checkpoint import Checkpoint, log_signer, log_verifier, open_checkpoint, sign_checkpoint
from ledger.cosignature import (
    MAX_TIMESTAMP,
    CosignatureSigner,
    CosignerKey,
    cosign,
    cosignature_timestamp,
    cosigned_message,
    verify_cosignature,
)
from ledger.errors import FormatError, LedgerError, VerificationError
from ledger.keys import SigningKey
from ledger.note import KEY_TYPE_COSIGNATURE, Note, NoteSignature, NoteSigner, NoteVerifier
from ledger.types import Hash

# The example in c2sp.org/tlog-cosignature.
SPEC_TEXT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SPEC_LINE = (
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJs"
    "X3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)
SEED = bytes(range(100, 132))
KEY = SigningKey.from_seed(SEED)
NAME = "witness.example/w1"
TIME = 1_679_315_147


def independent_line(text: str, name: str, seed: bytes, timestamp: int) -> str:
    """The cosignature line built from the spec with hashlib and cryptography only."""
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = private.public_key().public_bytes_raw()
    kid = hashlib.sha256(name.encode() + b"\n\x04" + public).digest()[:4]
    message = b"cosignature/v1\ntime " + str(timestamp).encode() + b"\n" + text.encode()
    raw = kid + timestamp.to_bytes(8, "big") + private.sign(message)
    return "\u2014 " + name + " " + base64.b64encode(raw).decode() + "\n"


def test_spec_message() -> None:
    assert cosigned_message(SPEC_TEXT, TIME) == (
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )


def test_spec_line_carries_its_timestamp() -> None:
    sig = NoteSignature.from_line(SPEC_LINE)
    assert sig.name == "witness.example.com/w1"
    assert cosignature_timestamp(sig) == TIME
    assert sig.to_line() == SPEC_LINE


def test_cosign_matches_an_independent_implementation() -> None:
    sig = cosign(SPEC_TEXT, name=NAME, key=KEY, timestamp=TIME)
    assert sig.to_line() == independent_line(SPEC_TEXT, NAME, SEED, TIME)
    verify_cosignature(SPEC_TEXT, key=CosignerKey(NAME, KEY.public), signature=sig)


def test_cosigner_vkey() -> None:
    key = CosignerKey(NAME, KEY.public)
    vkey = key.to_vkey()
    name, kid_hex, b64 = vkey.split("+", 2)
    assert name == NAME
    assert base64.b64decode(b64) == bytes([KEY_TYPE_COSIGNATURE]) + KEY.public.to_bytes()
    kid = hashlib.sha256(NAME.encode() + b"\n\x04" + KEY.public.to_bytes()).digest()[:4]
    assert kid_hex == kid.hex()
    assert CosignerKey.from_vkey(vkey) == key
    assert key.key_type == KEY_TYPE_COSIGNATURE
    assert CosignatureSigner(NAME, KEY, 0).cosigner_key == key


def test_log_and_cosigner_vkeys_do_not_mix() -> None:
    cosigner = CosignerKey(NAME, KEY.public).to_vkey()
    log = NoteVerifier(NAME, KEY.public).to_vkey()
    assert cosigner != log
    with pytest.raises(FormatError):
        NoteVerifier.from_vkey(cosigner)
    with pytest.raises(FormatError):
        CosignerKey.from_vkey(log)


@pytest.mark.parametrize("timestamp", [0, 1, TIME, MAX_TIMESTAMP])
def test_timestamps_in_range(timestamp: int) -> None:
    sig = cosign(SPEC_TEXT, name=NAME, key=KEY, timestamp=timestamp)
    assert cosignature_timestamp(sig) == timestamp
    verify_cosignature(SPEC_TEXT, key=CosignerKey(NAME, KEY.public), signature=sig)


@pytest.mark.parametrize("timestamp", [-1, MAX_TIMESTAMP + 1, 2**64, True])
def test_timestamps_out_of_range(timestamp: int) -> None:
    with pytest.raises(FormatError):
        cosign(SPEC_TEXT, name=NAME, key=KEY, timestamp=timestamp)
    with pytest.raises(FormatError):
        cosigned_message(SPEC_TEXT, timestamp)


@pytest.mark.parametrize(
    "text",
    ["hello\n", SPEC_TEXT[:-1], SPEC_TEXT.replace("20852163", "020852163"), SPEC_TEXT + "\n", ""],
    ids=["not a checkpoint", "no final newline", "leading zero", "empty extension", "empty"],
)
def test_a_witness_only_signs_checkpoints(text: str) -> None:
    with pytest.raises(FormatError):
        cosign(text, name=NAME, key=KEY, timestamp=TIME)
    with pytest.raises(FormatError):
        CosignatureSigner(NAME, KEY, TIME).sign(text.encode())


# --- negative corpus: cosignature lines on a checkpoint --------------------------------------

LOG_KEY = SigningKey.from_seed(bytes(32))
CP = Checkpoint(origin=f"rdh/{LOG_KEY.public.party_id}", size=3, root=Hash(bytes(range(32))))
TEXT = CP.to_text()
LOG_NOTE = sign_checkpoint(CP, log_signer(LOG_KEY))
GOOD = cosign(TEXT, name=NAME, key=KEY, timestamp=TIME)
WITNESS = CosignerKey(NAME, KEY.public)


def _with(sig: NoteSignature) -> bytes:
    return Note.from_bytes(LOG_NOTE).add_signatures([sig]).to_bytes()


def _raw(signature: bytes) -> NoteSignature:
    return NoteSignature(GOOD.name, GOOD.key_id, signature)


def _other_text_sig() -> NoteSignature:
    other = Checkpoint(origin=CP.origin, size=4, root=CP.root).to_text()
    return cosign(other, name=NAME, key=KEY, timestamp=TIME)


def _plain_ed25519_sig() -> NoteSignature:
    """A type-0x01 style signature of the bare text, under the cosigner's name and id."""
    return _raw(TIME.to_bytes(8, "big") + KEY.sign(TEXT.encode()))


COSIGNATURE_CORPUS: list[tuple[str, NoteSignature, type[LedgerError] | None]] = [
    (
        "changed timestamp",
        _raw((TIME + 1).to_bytes(8, "big") + GOOD.signature[8:]),
        VerificationError,
    ),
    ("timestamp high bit", _raw(b"\x80" + GOOD.signature[1:]), VerificationError),
    (
        "flipped signature bit",
        _raw(GOOD.signature[:-1] + bytes([GOOD.signature[-1] ^ 1])),
        VerificationError,
    ),
    ("signature without timestamp", _raw(GOOD.signature[8:]), VerificationError),
    ("truncated", _raw(GOOD.signature[:-1]), VerificationError),
    ("trailing byte", _raw(GOOD.signature + b"\0"), VerificationError),
    ("other checkpoint", _other_text_sig(), VerificationError),
    ("plain Ed25519 over the text", _plain_ed25519_sig(), VerificationError),
    ("wrong key", cosign(TEXT, name=NAME, key=LOG_KEY, timestamp=TIME), None),
]


@pytest.mark.parametrize(
    ("sig", "error"), [c[1:] for c in COSIGNATURE_CORPUS], ids=[c[0] for c in COSIGNATURE_CORPUS]
)
def test_cosignature_corpus(sig: NoteSignature, error: type[LedgerError] | None) -> None:
    data = _with(sig)
    log = log_verifier(LOG_KEY.public)
    if error is None:  # another key: unknown id, so ignored, and not counted
        assert open_checkpoint(data, verifier=log, witnesses=[WITNESS]).cosigned_by == ()
        with pytest.raises(VerificationError):
            verify_cosignature(TEXT, key=WITNESS, signature=sig)
        return
    with pytest.raises(error):
        open_checkpoint(data, verifier=log, witnesses=[WITNESS])
    with pytest.raises(error):
        verify_cosignature(TEXT, key=WITNESS, signature=sig)


def test_good_cosignature_opens() -> None:
    signed = open_checkpoint(
        _with(GOOD), verifier=log_verifier(LOG_KEY.public), witnesses=[WITNESS]
    )
    assert signed.cosigned_by == (NAME,)
    assert [cosignature_timestamp(s) for s in signed.cosignatures] == [TIME]


def test_repeated_cosignature_by_one_witness_is_malformed() -> None:
    later = cosign(TEXT, name=NAME, key=KEY, timestamp=TIME + 60)
    data = LOG_NOTE + GOOD.to_line().encode() + later.to_line().encode()
    with pytest.raises(FormatError, match="twice"):
        open_checkpoint(data, verifier=log_verifier(LOG_KEY.public), witnesses=[WITNESS])
    # Adding a newer cosignature replaces the older one.
    replaced = Note.from_bytes(_with(GOOD)).add_signatures([later]).to_bytes()
    signed = open_checkpoint(replaced, verifier=log_verifier(LOG_KEY.public), witnesses=[WITNESS])
    assert [cosignature_timestamp(s) for s in signed.cosignatures] == [TIME + 60]


def test_verify_cosignature_checks_the_key() -> None:
    with pytest.raises(VerificationError, match="not by cosigner"):
        verify_cosignature(TEXT, key=CosignerKey("other", KEY.public), signature=GOOD)


def test_a_log_signature_is_not_a_cosignature() -> None:
    log_sig = Note.from_bytes(LOG_NOTE).signatures[0]
    with pytest.raises(FormatError):
        cosignature_timestamp(log_sig)
    signer = NoteSigner(NAME, KEY)  # same name and key, type 0x01: a different key id
    assert signer.key_id != WITNESS.key_id


def test_cosigner_repr_hides_the_key() -> None:
    assert SEED.hex() not in repr(CosignatureSigner(NAME, KEY, 0))


@settings(max_examples=40, deadline=None)
@given(
    timestamp=st.integers(min_value=0, max_value=MAX_TIMESTAMP),
    size=st.integers(min_value=0, max_value=2**63 - 1),
    seed=st.binary(min_size=32, max_size=32),
)
def test_cosign_property(timestamp: int, size: int, seed: bytes) -> None:
    text = Checkpoint(origin="example.com/log", size=size, root=Hash(seed)).to_text()
    key = SigningKey.from_seed(seed)
    sig = cosign(text, name=NAME, key=key, timestamp=timestamp)
    assert sig.to_line() == independent_line(text, NAME, seed, timestamp)
    verify_cosignature(text, key=CosignerKey(NAME, key.public), signature=sig)
