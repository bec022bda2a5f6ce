"""Receipts (tlog-proof@v1 with the entry in `extra`): format, verification, negative corpus."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.checkpoint import Checkpoint, log_signer, log_verifier, sign_checkpoint
from ledger.cosignature import CosignatureSigner, CosignerKey
from ledger.entry import Entry
from ledger.errors import FormatError, LedgerError, VerificationError
from ledger.keys import SigningKey
from ledger.merkle import MemoryTree, leaf_hash
from ledger.note import NoteSigner, NoteVerifier, sign_note
from ledger.policy import Policy
from ledger.receipt import HEADER, MAX_PROOF_HASHES, Receipt, verify_receipt
from ledger.statement import SignedStatement, Statement, sign_statement
from ledger.types import Hash, LogId


def _key(n: int) -> SigningKey:
    return SigningKey.from_seed(hashlib.sha256(b"receipt test key %d" % n).digest())


LOG = _key(0)
OTHER = _key(1)
WORKER = _key(2)
WITNESS = _key(3)
LOG_ID = LOG.public.party_id
VERIFIER = log_verifier(LOG.public)
TIME = "2026-11-25T15:04:05Z"


def make_entry(
    seq: int,
    *,
    log: LogId = LOG_ID,
    signer: SigningKey | None = None,
    statement_log: LogId | None = None,
) -> bytes:
    signed: tuple[SignedStatement, ...] = ()
    if signer is not None:
        statement = Statement(
            type="contract.sign",
            log=log if statement_log is None else statement_log,
            signer=signer.public,
            time=TIME,
            nonce=base64.urlsafe_b64encode(bytes([seq]) * 16).decode().rstrip("="),
            body={"seq": seq},
        )
        signed = (sign_statement(statement, key=signer),)
    entry = Entry(log=log, seq=seq, time=TIME, type="task.publish", body={"n": seq}, signed=signed)
    return entry.to_bytes()


class Log:
    """A tiny log for tests: entries, tree, checkpoints and receipts."""

    def __init__(self, entries: list[bytes], key: SigningKey = LOG) -> None:
        self.key = key
        self.entries = entries
        self.tree = MemoryTree([leaf_hash(e) for e in entries])

    def checkpoint(self, size: int | None = None, witnesses: tuple[str, ...] = ()) -> bytes:
        size = len(self.entries) if size is None else size
        origin = f"rdh/{self.key.public.party_id}"
        cp = Checkpoint(origin=origin, size=size, root=self.tree.root(size))
        cosigners = [CosignatureSigner(w, WITNESS, 1_700_000_000) for w in witnesses]
        return sign_checkpoint(cp, log_signer(self.key), cosigners)

    def receipt(self, index: int, size: int | None = None, *, embed: bool = True) -> Receipt:
        size = len(self.entries) if size is None else size
        return Receipt(
            entry=self.entries[index] if embed else None,
            index=index,
            proof=tuple(self.tree.inclusion_proof(index, size)),
            checkpoint=self.checkpoint(size),
        )


ENTRIES = [make_entry(i, signer=WORKER if i % 3 == 0 else None) for i in range(11)]
LOG11 = Log(ENTRIES)
RECEIPT = LOG11.receipt(6)
DATA = RECEIPT.to_bytes()


def test_format_is_tlog_proof() -> None:
    text = DATA.decode()
    lines = text.split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1" == HEADER
    assert lines[1] == "extra " + base64.b64encode(ENTRIES[6]).decode()
    assert lines[2] == "index 6"
    proof = LOG11.tree.inclusion_proof(6, 11)
    assert lines[3 : 3 + len(proof)] == [base64.b64encode(h).decode() for h in proof]
    assert lines[3 + len(proof)] == ""
    assert text.endswith(LOG11.checkpoint().decode())
    assert DATA.endswith(b"\n\n" + LOG11.checkpoint())


def test_round_trip() -> None:
    assert Receipt.from_bytes(DATA) == RECEIPT
    bare = replace(RECEIPT, entry=None)
    assert Receipt.from_bytes(bare.to_bytes()) == bare
    assert b"extra" not in bare.to_bytes()


def test_every_receipt_verifies() -> None:
    for index in range(len(ENTRIES)):
        verified = verify_receipt(LOG11.receipt(index).to_bytes(), key=VERIFIER)
        assert verified.index == index
        assert verified.entry.seq == index
        assert verified.entry_bytes == ENTRIES[index]
        assert verified.entry_id == leaf_hash(ENTRIES[index]).hex()
        assert verified.checkpoint.size == 11


def test_receipt_against_an_older_checkpoint() -> None:
    assert verify_receipt(LOG11.receipt(2, size=3).to_bytes(), key=VERIFIER).index == 2


def test_single_entry_log_has_an_empty_proof() -> None:
    receipt = Log(ENTRIES[:1]).receipt(0)
    assert receipt.proof == ()
    assert verify_receipt(receipt.to_bytes(), key=VERIFIER).index == 0


def test_entry_supplied_separately() -> None:
    bare = LOG11.receipt(6, embed=False).to_bytes()
    assert verify_receipt(bare, key=VERIFIER, entry=ENTRIES[6]).entry_bytes == ENTRIES[6]
    assert verify_receipt(DATA, key=VERIFIER, entry=ENTRIES[6]).index == 6
    with pytest.raises(FormatError, match="no entry"):
        verify_receipt(bare, key=VERIFIER)
    with pytest.raises(VerificationError, match="differ"):
        verify_receipt(DATA, key=VERIFIER, entry=ENTRIES[5])
    with pytest.raises(VerificationError):
        verify_receipt(bare, key=VERIFIER, entry=ENTRIES[5])


def test_verify_with_policy() -> None:
    witness = CosignerKey("w.example", WITNESS.public)
    policy = Policy.from_text(
        f"log {VERIFIER.to_vkey()}\nwitness W {witness.to_vkey()}\nquorum W\n"
    )
    cosigned = replace(RECEIPT, checkpoint=LOG11.checkpoint(witnesses=("w.example",)))
    verified = verify_receipt(cosigned.to_bytes(), policy=policy)
    assert verified.cosigned_by == ("w.example",)
    assert verified.signed.cosignatures[0].name == "w.example"
    assert verify_receipt(cosigned.to_bytes(), policy=policy, key=VERIFIER).index == 6
    with pytest.raises(VerificationError, match="quorum"):
        verify_receipt(DATA, policy=policy)
    with pytest.raises(VerificationError):
        verify_receipt(cosigned.to_bytes(), policy=policy, key=log_verifier(OTHER.public))


def test_needs_a_key_or_a_policy() -> None:
    with pytest.raises(VerificationError, match="log key or a policy"):
        verify_receipt(DATA)


# --- negative corpus --------------------------------------------------------------------------

CP = LOG11.checkpoint()
HASHES = [base64.b64encode(h).decode() for h in RECEIPT.proof]
EXTRA = "extra " + base64.b64encode(ENTRIES[6]).decode()


def lines(*items: str, checkpoint: bytes = CP) -> bytes:
    return ("\n".join(items) + "\n\n").encode() + checkpoint


def _noncanonical(b64: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    i = b64.index("=") - 1
    return b64[:i] + alphabet[alphabet.index(b64[i]) | 1] + b64[i + 1 :]


def _tampered_log(index: int, data: bytes) -> bytes:
    """A log whose leaf `index` is `data`, signed by the real log key: a receipt for it."""
    entries = list(ENTRIES)
    entries[index] = data
    return Log(entries).receipt(index).to_bytes()


def _foreign_origin() -> bytes:
    cp = Checkpoint(origin="example.com/log", size=11, root=LOG11.tree.root())
    note = sign_note(cp.to_text(), [NoteSigner("example.com/log", LOG)])
    return replace(RECEIPT, checkpoint=note).to_bytes()


def _extension_lines() -> bytes:
    cp = Checkpoint(origin=f"rdh/{LOG_ID}", size=11, root=LOG11.tree.root(), extensions=("x",))
    return replace(RECEIPT, checkpoint=sign_checkpoint(cp, log_signer(LOG))).to_bytes()


_bad_statement_entry = Entry.from_bytes(make_entry(6, signer=WORKER))
_wrong_sig = replace(_bad_statement_entry.signed[0], sig=bytes(64))

RECEIPT_CORPUS: list[tuple[str, bytes, type[LedgerError]]] = [
    ("empty", b"", FormatError),
    ("header only", b"c2sp.org/tlog-proof@v1\n", FormatError),
    ("truncated", DATA[:-30], FormatError),
    ("missing final newline", DATA[:-1], FormatError),
    ("trailing garbage", DATA + b"garbage", FormatError),
    ("trailing garbage line", DATA + b"garbage\n", FormatError),
    ("CRLF", DATA.replace(b"\n", b"\r\n"), FormatError),
    ("CRLF header", DATA.replace(b"\n", b"\r\n", 1), FormatError),
    ("wrong header", lines("c2sp.org/tlog-proof@v2", EXTRA, "index 6", *HASHES), FormatError),
    ("header with space", lines(HEADER + " ", EXTRA, "index 6", *HASHES), FormatError),
    ("missing index", lines(HEADER, EXTRA, *HASHES), FormatError),
    ("index before extra", lines(HEADER, "index 6", EXTRA, *HASHES), FormatError),
    ("extra twice", lines(HEADER, EXTRA, EXTRA, "index 6", *HASHES), FormatError),
    ("index leading zero", lines(HEADER, EXTRA, "index 06", *HASHES), FormatError),
    ("index negative", lines(HEADER, EXTRA, "index -6", *HASHES), FormatError),
    ("index plus", lines(HEADER, EXTRA, "index +6", *HASHES), FormatError),
    ("index two spaces", lines(HEADER, EXTRA, "index  6", *HASHES), FormatError),
    ("index tab", lines(HEADER, EXTRA, "index\t6", *HASHES), FormatError),
    ("index 2**63", lines(HEADER, EXTRA, f"index {2**63}", *HASHES), FormatError),
    ("index empty", lines(HEADER, EXTRA, "index ", *HASHES), FormatError),
    ("index uppercase", lines(HEADER, EXTRA, "INDEX 6", *HASHES), FormatError),
    ("extra bad base64", lines(HEADER, "extra !!!!", "index 6", *HASHES), FormatError),
    ("extra unpadded", lines(HEADER, EXTRA.rstrip("="), "index 6", *HASHES), FormatError),
    (
        "extra non-canonical bits",
        lines(HEADER, _noncanonical(EXTRA), "index 6", *HASHES),
        FormatError,
    ),
    ("extra without space", lines(HEADER, "extra", "index 6", *HASHES), FormatError),
    ("non-ASCII in proof lines", lines(HEADER, EXTRA, "index 6", "\u00e9", *HASHES), FormatError),
    ("proof hash bad base64", lines(HEADER, EXTRA, "index 6", "!" * 44, *HASHES[1:]), FormatError),
    (
        "proof hash 31 bytes",
        lines(HEADER, EXTRA, "index 6", base64.b64encode(bytes(31)).decode()),
        FormatError,
    ),
    ("proof hash hex", lines(HEADER, EXTRA, "index 6", bytes(32).hex()), FormatError),
    (
        "proof hash non-canonical",
        lines(HEADER, EXTRA, "index 6", _noncanonical(HASHES[0]), *HASHES[1:]),
        FormatError,
    ),
    (
        "proof hash trailing space",
        lines(HEADER, EXTRA, "index 6", HASHES[0] + " ", *HASHES[1:]),
        FormatError,
    ),
    (
        "too-long proof",
        lines(HEADER, EXTRA, "index 6", *[HASHES[0]] * (MAX_PROOF_HASHES + 1)),
        FormatError,
    ),
    ("two blank lines", lines(HEADER, EXTRA, "index 6", *HASHES, ""), FormatError),
    (
        "no blank line",
        ("\n".join([HEADER, EXTRA, "index 6", *HASHES]) + "\n").encode() + CP,
        FormatError,
    ),
    (
        "checkpoint not a note",
        lines(HEADER, EXTRA, "index 6", *HASHES, checkpoint=b"hello\n"),
        FormatError,
    ),
    (
        "checkpoint text only",
        lines(HEADER, EXTRA, "index 6", *HASHES, checkpoint=CP[: CP.index(b"\n\n") + 1]),
        FormatError,
    ),
    (
        "proof hashes reordered",
        lines(HEADER, EXTRA, "index 6", *reversed(HASHES)),
        VerificationError,
    ),
    (
        "proof hash flipped",
        lines(HEADER, EXTRA, "index 6", base64.b64encode(bytes(32)).decode(), *HASHES[1:]),
        VerificationError,
    ),
    ("proof too short", lines(HEADER, EXTRA, "index 6", *HASHES[:-1]), VerificationError),
    (
        "proof too long by one",
        lines(HEADER, EXTRA, "index 6", *HASHES, HASHES[0]),
        VerificationError,
    ),
    ("wrong index", lines(HEADER, EXTRA, "index 7", *HASHES), VerificationError),
    ("index equals size", lines(HEADER, EXTRA, "index 11", *HASHES), VerificationError),
    ("index beyond size", lines(HEADER, EXTRA, "index 99", *HASHES), VerificationError),
    (
        "other entry",
        lines(HEADER, "extra " + base64.b64encode(ENTRIES[5]).decode(), "index 6", *HASHES),
        VerificationError,
    ),
    ("changed checkpoint size", DATA.replace(b"\n11\n", b"\n12\n"), VerificationError),
    (
        "checkpoint by another key",
        replace(RECEIPT, checkpoint=Log(ENTRIES, OTHER).checkpoint()).to_bytes(),
        VerificationError,
    ),
    (
        "checkpoint of another log",
        Log([make_entry(i, log=OTHER.public.party_id) for i in range(11)], OTHER)
        .receipt(6)
        .to_bytes(),
        VerificationError,
    ),
    ("origin is not rdh", _foreign_origin(), VerificationError),
    ("checkpoint extension lines", _extension_lines(), FormatError),
    ("entry seq is not its index", _tampered_log(6, make_entry(5)), VerificationError),
    (
        "entry of another log",
        _tampered_log(6, make_entry(6, log=OTHER.public.party_id)),
        VerificationError,
    ),
    ("entry not canonical", _tampered_log(6, ENTRIES[6].replace(b"{", b"{ ", 1)), FormatError),
    ("entry not JSON", _tampered_log(6, b"not json"), FormatError),
    ("entry empty", _tampered_log(6, b""), FormatError),
    (
        "statement signature wrong",
        _tampered_log(6, replace(_bad_statement_entry, signed=(_wrong_sig,)).to_bytes()),
        VerificationError,
    ),
    (
        "statement for another log",
        _tampered_log(6, make_entry(6, signer=WORKER, statement_log=OTHER.public.party_id)),
        VerificationError,
    ),
]


@pytest.mark.parametrize(
    ("data", "error"), [c[1:] for c in RECEIPT_CORPUS], ids=[c[0] for c in RECEIPT_CORPUS]
)
def test_receipt_corpus(data: bytes, error: type[LedgerError]) -> None:
    with pytest.raises(error):
        verify_receipt(data, key=VERIFIER)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"index": -1},
        {"index": 2**63},
        {"index": True},
        {"proof": [bytes(32)]},
        {"proof": (bytes(31),)},
        {"proof": (bytes(32),) * 64},
        {"checkpoint": b"not a note"},
        {"checkpoint": "text"},
        {"entry": "text"},
        {"entry": bytes(65536)},
    ],
    ids=repr,
)
def test_invalid_receipt_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(FormatError):
        replace(RECEIPT, **kwargs)  # type: ignore[arg-type]


def test_oversized_extra_is_refused_before_decoding() -> None:
    huge = lines(HEADER, "extra " + "A" * 90000, "index 6", *HASHES)
    with pytest.raises(FormatError, match="larger"):
        Receipt.from_bytes(huge)


# --- properties -------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(size=st.integers(min_value=1, max_value=40), data=st.data())
def test_receipts_verify_at_every_size(size: int, data: st.DataObject) -> None:
    log = Log([make_entry(i) for i in range(size)])
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    at = data.draw(st.integers(min_value=index + 1, max_value=size))
    receipt = log.receipt(index, at).to_bytes()
    assert verify_receipt(receipt, key=VERIFIER).index == index


@settings(max_examples=300, deadline=None)
@given(position=st.integers(min_value=0), delta=st.integers(min_value=1, max_value=255))
def test_any_changed_byte_is_rejected(position: int, delta: int) -> None:
    data = bytearray(DATA)
    data[position % len(data)] ^= delta
    with pytest.raises((FormatError, VerificationError)):
        verify_receipt(bytes(data), key=VERIFIER)


@settings(max_examples=200, deadline=None)
@given(tail=st.binary(max_size=200))
def test_garbage_only_raises_ledger_errors(tail: bytes) -> None:
    with pytest.raises((FormatError, VerificationError)):
        verify_receipt(HEADER.encode() + b"\n" + tail, key=VERIFIER)
    with pytest.raises((FormatError, VerificationError)):
        verify_receipt(tail, key=VERIFIER)


def test_hash_type_is_kept() -> None:
    assert all(isinstance(h, bytes) and len(h) == 32 for h in RECEIPT.proof)
    assert RECEIPT.proof == tuple(Hash(h) for h in LOG11.tree.inclusion_proof(6, 11))


def test_the_origin_must_be_an_rdh_log() -> None:
    foreign = NoteVerifier("example.com/log", LOG.public)
    with pytest.raises(FormatError, match="rdh/"):
        verify_receipt(_foreign_origin(), key=foreign)


def test_the_log_key_must_hash_to_the_log_id() -> None:
    impostor = NoteSigner(f"rdh/{LOG_ID}", OTHER)  # claims LOG's name with another key
    cp = Checkpoint(origin=f"rdh/{LOG_ID}", size=11, root=LOG11.tree.root())
    data = replace(RECEIPT, checkpoint=sign_checkpoint(cp, impostor)).to_bytes()
    with pytest.raises(VerificationError, match="does not belong"):
        verify_receipt(data, key=impostor.verifier)
