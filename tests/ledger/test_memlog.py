"""The in-memory log writer: real entries, checkpoints, receipts and bundles."""

from __future__ import annotations

import pytest

from ledger import bundle, tiles
from ledger.audit import audit
from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.entry import Entry
from ledger.errors import VerificationError
from ledger.memlog import MemoryLog, Witness, export_bundle
from ledger.merkle import leaf_hash, root
from ledger.note import NoteVerifier
from ledger.policy import Policy
from ledger.receipt import verify_receipt
from tests.builders import TIMESTAMP, key, policy_text, statement

TIME = "2026-11-25T10:00:00Z"


def make_log(count: int, label: str = "memlog") -> MemoryLog:
    log = MemoryLog(key(label))
    for n in range(count):
        signed = [statement(key("worker"), log.log_id, label=f"{label}/{n}")] if n % 2 else []
        log.append(type="task.publish", time=TIME, body={"n": n}, signed=signed)
    return log


def test_append_numbers_entries_and_keeps_their_bytes() -> None:
    log = make_log(5)
    assert log.size == 5
    assert log.origin == f"rdh/{log.log_id}"
    assert log.log_id == key("memlog").public.party_id
    for seq, data in enumerate(log.entries):
        entry = Entry.from_bytes(data)
        assert (entry.seq, entry.log) == (seq, log.log_id)
    assert log.tree.root() == root([leaf_hash(d) for d in log.entries])
    assert NoteVerifier.from_vkey(log.vkey).name == log.origin


def test_append_returns_the_entry_stored() -> None:
    log = make_log(2)
    entry = log.append(
        type="task.close", time=TIME, body={}, refs=[Entry.from_bytes(log.entries[0]).id]
    )
    assert entry.seq == 2
    assert log.entries[2] == entry.to_bytes()


def test_append_bytes_stores_anything() -> None:
    log = MemoryLog(key("raw"))
    log.append_bytes(b"not an entry")
    assert log.size == 1
    assert log.tree.root() == leaf_hash(b"not an entry")


def test_checkpoint_verifies_and_covers_the_tree() -> None:
    log = make_log(7)
    verifier = NoteVerifier.from_vkey(log.vkey)
    now = open_checkpoint(log.checkpoint(), verifier=verifier).checkpoint
    assert (now.origin, now.size, now.root) == (log.origin, 7, log.tree.root())
    older = open_checkpoint(log.checkpoint(size=3), verifier=verifier).checkpoint
    assert (older.size, older.root) == (3, log.tree.root(3))


def test_cosigned_checkpoint_meets_a_policy() -> None:
    log = make_log(3)
    witnesses = [Witness(f"w.example/{n}", key(f"w{n}")) for n in range(3)]
    policy = Policy.from_text(policy_text([log], witnesses))
    note = log.checkpoint(witnesses=witnesses[:2], timestamp=TIMESTAMP)
    signed = policy.verify_checkpoint(note)
    assert signed.cosigned_by == ("w.example/0", "w.example/1")
    with pytest.raises(VerificationError, match="quorum"):
        policy.verify_checkpoint(log.checkpoint(witnesses=witnesses[:1], timestamp=TIMESTAMP))


@pytest.mark.parametrize("size", [1, 2, 5, 8])
def test_receipts_verify_for_every_entry(size: int) -> None:
    log = make_log(size)
    verifier = NoteVerifier.from_vkey(log.vkey)
    for seq in range(size):
        verified = verify_receipt(log.receipt(seq), key=verifier)
        assert verified.index == seq
        assert verified.entry_bytes == log.entries[seq]


def test_receipt_against_an_older_checkpoint() -> None:
    log = make_log(6)
    old = log.checkpoint(size=4)
    verified = verify_receipt(log.receipt(2, old), key=NoteVerifier.from_vkey(log.vkey))
    assert verified.checkpoint.size == 4


@pytest.mark.parametrize("size", [0, 1, 255, 256, 257, 513])
def test_export_writes_the_tlog_tiles_layout(size: int) -> None:
    log = MemoryLog(key("layout"))
    for n in range(size):
        log.append_bytes(b"%d" % n)
    sink = bundle.MemoryBundle()
    info = log.export(sink)
    prefix = bundle.log_prefix(log.log_id)
    expected = {prefix + "checkpoint"}
    expected |= {prefix + ref.path for ref in tiles.tiles_for_size(size)}
    expected |= {prefix + ref.path for ref in tiles.entry_bundles_for_size(size)}
    assert set(sink.files) == expected
    assert info == bundle.LogInfo(id=log.log_id, origin=log.origin, vkey=log.vkey, size=size)
    stored = [
        data
        for _, _, raw in bundle.entry_bundles(sink, info)
        for data in tiles.decode_entry_bundle(raw)
    ]
    assert stored == log.entries


def test_export_of_an_older_checkpoint_holds_only_its_entries() -> None:
    log = make_log(10)
    sink = bundle.MemoryBundle()
    info = log.export(sink, log.checkpoint(size=6))
    sink.write(bundle.MANIFEST, bundle.Manifest(exporter="t", logs=(info,)).to_bytes())
    assert info.size == 6
    report = audit(sink)
    assert report.ok
    assert report.entries_checked == 6
    assert Checkpoint.from_note(sink.files[bundle.checkpoint_path(log.log_id)]).size == 6


def test_export_bundle_writes_manifest_policy_and_evidence() -> None:
    logs = [make_log(3, "one"), make_log(4, "two")]
    witnesses = [Witness("w.example/a", key("wa")), Witness("w.example/b", key("wb"))]
    policy = policy_text(logs, witnesses).encode()
    sink = bundle.MemoryBundle()
    manifest = export_bundle(
        sink,
        logs,
        exporter="tests",
        exported_at=TIME,
        policy=policy,
        evidence=[b"first", b"second"],
        witnesses=witnesses,
        timestamp=TIMESTAMP,
    )
    assert bundle.read_manifest(sink) == manifest
    assert [(i.id, i.size) for i in manifest.logs] == [(logs[0].log_id, 3), (logs[1].log_id, 4)]
    assert manifest.exported_at == TIME
    assert sink.files[bundle.POLICY] == policy
    assert sink.names(bundle.EVIDENCE_PREFIX) == ["evidence/0.txt", "evidence/1.txt"]
    report = audit(sink)
    # The evidence files are junk (notices); everything else verifies against the policy.
    assert report.ok
    assert report.policy_checked
    assert all(s.cosigned_by == ("w.example/a", "w.example/b") for s in report.logs)
    assert [f.rule for f in report.findings] == ["evidence.invalid", "evidence.invalid"]
