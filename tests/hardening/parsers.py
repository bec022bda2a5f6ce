"""Every parser of untrusted bytes in `ledger`, as fuzz targets with genuine seed inputs.

A target takes bytes and either returns or raises a `LedgerError` (the error contract: a
caller of `ledger` catches nothing else). Some also check a property of what they accept
(canonical JSON round-trips, an accepted entry re-serialises to the same bytes). The table
is shared by the test suite (`tests/hardening/test_fuzz_parsers.py`, bounded examples), the
big Hypothesis runs and the atheris runs of `benchmarks/hardening_report.py`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from ledger import bundle
from ledger.audit import audit
from ledger.bundle import Manifest, MemoryBundle
from ledger.canonical import canonicalize, parse, parse_canonical
from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.cosignature import CosignerKey, verify_cosignature
from ledger.entry import Entry, verify_statements
from ledger.errors import LedgerError
from ledger.evidence import Equivocation, check_equivocation
from ledger.keys import SigningKey, VerifyingKey
from ledger.memlog import MemoryLog, Witness, export_bundle
from ledger.note import Note, NoteSignature, NoteVerifier, parse_vkey, verify_note
from ledger.policy import Policy
from ledger.receipt import verify_receipt
from ledger.statement import SignedStatement
from ledger.tiles import TileRef, decode_entry_bundle, parse_tile_path, tile_hash_at
from tests.builders import TIMESTAMP, key, policy_text, statement

__all__ = ["CLEAN_BUNDLE", "TARGETS", "Target", "run_target"]


@dataclass(frozen=True)
class Target:
    """One parser: `call(data)` returns or raises `LedgerError`; `seeds` are accepted inputs."""

    name: str
    call: Callable[[bytes], object]
    seeds: tuple[bytes, ...]


def run_target(target: Target, data: bytes) -> bool:
    """Feed `data` to `target`; True if it was accepted, False if refused with LedgerError.
    Any other exception propagates: that is a bug."""
    try:
        target.call(data)
    except LedgerError:
        return False
    return True


def _text(data: bytes) -> str:
    """Bytes as text for the parsers that take `str` (undecodable input is a refusal)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise LedgerError("not UTF-8") from e


# --- genuine material -------------------------------------------------------------------

_WORKER = key("hardening/worker")
_WITNESSES = [Witness("w.example/0", key("hardening/w0")), Witness("w.example/1", key("hw1"))]


def _log() -> MemoryLog:
    log = MemoryLog(key("hardening/log"))
    for n in range(6):
        signed = [statement(_WORKER, log.log_id, label=f"h{n}")] if n % 2 else []
        log.append(type="task.publish", time="2026-11-25T10:00:00Z", body={"n": n}, signed=signed)
    return log


LOG = _log()
VERIFIER = NoteVerifier.from_vkey(LOG.vkey)
POLICY = Policy.from_text(policy_text([LOG], _WITNESSES))
CHECKPOINT = LOG.checkpoint(witnesses=_WITNESSES, timestamp=TIMESTAMP)
SMALL_CHECKPOINT = LOG.checkpoint(size=2)
RECEIPT = LOG.receipt(3, CHECKPOINT)
ENTRIES = tuple(LOG.entries)
STATEMENT = statement(_WORKER, LOG.log_id, label="seed")
COSIGNER = _WITNESSES[0].cosigner
CHECKPOINT_TEXT = Checkpoint.from_note(CHECKPOINT).to_text()
EVIDENCE = Equivocation(LOG.vkey, SMALL_CHECKPOINT, CHECKPOINT).to_bytes()


def _clean_bundle() -> dict[str, bytes]:
    sink = MemoryBundle()
    export_bundle(
        sink,
        [LOG],
        policy=POLICY.to_bytes(),
        evidence=[EVIDENCE],
        witnesses=_WITNESSES,
        timestamp=TIMESTAMP,
    )
    return dict(sink.files)


CLEAN_BUNDLE = _clean_bundle()
_TILES = {n: d for n, d in CLEAN_BUNDLE.items() if "/tile/" in n and "/entries/" not in n}
_BUNDLES = {n: d for n, d in CLEAN_BUNDLE.items() if "/tile/entries/" in n}


# --- the targets ------------------------------------------------------------------------


def _canonical(data: bytes) -> None:
    value = parse_canonical(data)
    assert canonicalize(value) == data, "parse_canonical accepted a non-canonical text"


def _lenient(data: bytes) -> None:
    value = parse(data)
    once = canonicalize(value)
    assert parse_canonical(once) == value, "canonical form does not read back"
    assert canonicalize(parse(once)) == once, "canonicalisation is not idempotent"


def _entry(data: bytes) -> None:
    entry = Entry.from_bytes(data)
    assert entry.to_bytes() == data, "an accepted entry does not re-serialise to its bytes"
    verify_statements(entry)


def _statement(data: bytes) -> None:
    signed = SignedStatement.from_dict(parse(data))
    signed.verify()


def _note(data: bytes) -> None:
    Note.from_bytes(data)
    verify_note(data, [VERIFIER, COSIGNER])


def _checkpoint(data: bytes) -> None:
    open_checkpoint(data, verifier=VERIFIER, witnesses=[COSIGNER])
    with contextlib.suppress(LedgerError):
        Checkpoint.from_text(_text(data))


def _cosignature(data: bytes) -> None:
    line = _text(data)
    signature = NoteSignature.from_line(line)
    verify_cosignature(CHECKPOINT_TEXT, key=COSIGNER, signature=signature)


def _vkey(data: bytes) -> None:
    text = _text(data)
    parse_vkey(text)
    try:
        NoteVerifier.from_vkey(text)
    except LedgerError:
        CosignerKey.from_vkey(text)


def _tile_path(data: bytes) -> None:
    ref = parse_tile_path(_text(data))
    assert ref.path == _text(data), "a non-canonical tile path was accepted"


def _entry_bundle(data: bytes) -> None:
    for item in decode_entry_bundle(data):
        with contextlib.suppress(LedgerError):
            Entry.from_bytes(item)


def _hash_tile(data: bytes) -> None:
    """A tree of 2 leaves whose level-0 tile is `data` (any length): proofs must not crash."""

    def read(ref: TileRef) -> bytes:
        return data

    hash_at = tile_hash_at(read, 2)
    hash_at(1, 0)


def _receipt(data: bytes) -> None:
    with contextlib.suppress(LedgerError):
        verify_receipt(data, key=VERIFIER)
    verify_receipt(data, key=VERIFIER, policy=POLICY)


def _manifest(data: bytes) -> None:
    Manifest.from_bytes(data)


def _bundle_audit(data: bytes) -> None:
    """One bundle file replaced by `data` (chosen by its first byte): the audit reports, it
    never raises unless the manifest itself is unreadable."""
    names = sorted(CLEAN_BUNDLE)
    name = names[data[0] % len(names)] if data else bundle.MANIFEST
    files = {**CLEAN_BUNDLE, name: data[1:]}
    try:
        report = audit(MemoryBundle(files))
    except LedgerError:
        if name != bundle.MANIFEST:
            raise AssertionError(f"audit raised for a bad {name}") from None
        raise
    assert all(f.message for f in report.findings)


def _policy(data: bytes) -> None:
    Policy.from_bytes(data)


def _evidence(data: bytes) -> None:
    check_equivocation(Equivocation.from_bytes(data))


def _key(data: bytes) -> None:
    with contextlib.suppress(LedgerError):
        VerifyingKey.from_b64(_text(data))
    try:
        SigningKey.from_pem(data)
    except LedgerError:
        SigningKey.from_pem(data, passphrase=b"pw")


def _bundle_seed(name: str, data: bytes) -> bytes:
    return bytes([sorted(CLEAN_BUNDLE).index(name)]) + data


TARGETS: tuple[Target, ...] = (
    Target("canonical.parse_canonical", _canonical, (ENTRIES[1], b'{"a":[1,"\\u001f",null]}')),
    Target("canonical.parse", _lenient, (b'{ "b": -0, "a": ["\\u0041", true] }', ENTRIES[0])),
    Target("entry", _entry, ENTRIES[:2]),
    Target("statement", _statement, (canonicalize(STATEMENT.to_dict()),)),
    Target("note", _note, (CHECKPOINT,)),
    Target("checkpoint", _checkpoint, (CHECKPOINT, SMALL_CHECKPOINT)),
    Target(
        "cosignature",
        _cosignature,
        tuple(line.encode() for line in CHECKPOINT.decode().splitlines() if "w.example/0" in line),
    ),
    Target("vkey", _vkey, (LOG.vkey.encode(), COSIGNER.to_vkey().encode())),
    Target("tile.path", _tile_path, (b"tile/0/x001/x234/067.p/5", b"tile/entries/000")),
    Target("tile.entry-bundle", _entry_bundle, tuple(_BUNDLES.values())),
    Target("tile.hashes", _hash_tile, tuple(d[:64] for d in _TILES.values())),
    Target("receipt", _receipt, (RECEIPT,)),
    Target("bundle.manifest", _manifest, (CLEAN_BUNDLE[bundle.MANIFEST],)),
    Target(
        "bundle.audit",
        _bundle_audit,
        tuple(_bundle_seed(n, d) for n, d in sorted(CLEAN_BUNDLE.items())),
    ),
    Target("policy", _policy, (POLICY.to_bytes(),)),
    Target("evidence", _evidence, (EVIDENCE,)),
    Target("key", _key, (key("hardening/pem").to_pem(), key("x").to_pem(passphrase=b"pw"))),
)
