"""The offline audit: a genuine bundle audits clean; every tampered bundle is rejected.

The negative corpus is one named table: each case tampers with a copy of a clean bundle (or
rebuilds one log with a bad entry and has the log sign it, so that only the entry rule can
catch it) and names the rule, log and seq the audit must report. `audit()` never raises for
any of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest

from ledger import bundle, tiles
from ledger.audit import AuditReport, Finding, audit
from ledger.bundle import LogInfo, Manifest, MemoryBundle
from ledger.checkpoint import Checkpoint
from ledger.entry import entry_id
from ledger.errors import BundleError, FormatError
from ledger.evidence import Equivocation
from ledger.memlog import MemoryLog, Witness
from ledger.note import NoteSignature, NoteSigner
from ledger.policy import Policy
from ledger.statement import SignedStatement
from tests.builders import (
    BIG,
    Ecosystem,
    entry,
    flip,
    key,
    note_bytes,
    note_lines,
    other_root,
    resign,
    statement,
)

A, B, C = 0, 1, 2


def prefix(eco: Ecosystem, log: int) -> str:
    return bundle.log_prefix(eco.log_id(log))


def errors_at(report: AuditReport, rule: str) -> list[Finding]:
    return [f for f in report.errors if f.rule == rule]


# --- the clean bundle -----------------------------------------------------------------


def test_clean_bundle_audits_clean(eco: Ecosystem, clean_files: dict[str, bytes]) -> None:
    report = audit(MemoryBundle(dict(clean_files)))

    assert report.ok, [f.to_text() for f in report.errors]
    assert report.entries_checked == eco.size == BIG + 12 + 6
    assert report.statements_checked == eco.statements == 109
    assert report.policy_checked  # the bundle carries its policy
    assert report.evidence_checked == 0
    log, seq, referrer, outside = eco.outside_ref
    assert [(f.severity, f.rule, f.log, f.seq, f.entry_id) for f in report.findings] == [
        ("notice", "ref.outside", eco.log_id(log), seq, referrer)
    ]
    assert outside in report.findings[0].message


def test_clean_bundle_summaries(eco: Ecosystem, clean_files: dict[str, bytes]) -> None:
    report = audit(MemoryBundle(dict(clean_files)), policy=eco.policy)

    assert report.ok
    witnesses = tuple(sorted(w.name for w in eco.witnesses))
    for n, summary in enumerate(report.logs):
        log = eco.memlog(n)
        assert summary.log == log.log_id
        assert summary.name == eco.names[n]
        assert summary.size == summary.entries_checked == log.size
        assert summary.root == log.tree.root().hex()
        assert summary.cosigned_by == witnesses
        assert summary.errors == 0
    assert [s.statements_checked for s in report.logs] == [99, 7, 3]


def test_refs_within_and_across_logs_resolve(eco: Ecosystem) -> None:
    """Only the one reference to an entry outside the bundle is reported (as a notice)."""
    without_policy = audit(eco.bundle(with_policy=False))
    assert without_policy.ok
    assert not without_policy.policy_checked
    assert [f.rule for f in without_policy.findings] == ["ref.outside"]
    assert all(s.cosigned_by == () for s in without_policy.logs)


def test_progress_reports_every_entry(eco: Ecosystem, clean_files: dict[str, bytes]) -> None:
    seen: list[tuple[int, int]] = []
    audit(MemoryBundle(dict(clean_files)), progress=lambda done, total: seen.append((done, total)))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert seen[-1] == (eco.size, eco.size)
    assert len(seen) == len(tiles.entry_bundles_for_size(BIG)) + 2


def test_a_log_with_no_entries_audits_clean(eco: Ecosystem) -> None:
    report = audit(eco.bundle(replace={C: ()}))
    assert report.ok
    assert report.logs[C].size == 0
    assert report.logs[C].root == Checkpoint.from_note(eco.checkpoint(C, entries=())).root.hex()


# --- the negative corpus --------------------------------------------------------------

Tamper = Callable[[Ecosystem, dict[str, bytes]], "MemoryBundle | None"]


@dataclass(frozen=True)
class Case:
    """A tampering of a clean bundle and the error it must produce."""

    id: str
    tamper: Tamper
    rule: str
    log: int | None
    seq: int | None = None
    with_entry_id: bool = False
    trusted_policy: bool = False


def _edit(name: Callable[[Ecosystem], str], change: Callable[[bytes], bytes | None]) -> Tamper:
    """Replace (or delete, when `change` gives None) one file of the clean bundle."""

    def tamper(eco: Ecosystem, files: dict[str, bytes]) -> None:
        path = name(eco)
        new = change(files[path])
        if new is None:
            del files[path]
        else:
            files[path] = new

    return tamper


def _file(log: int, rest: str) -> Callable[[Ecosystem], str]:
    return lambda eco: prefix(eco, log) + rest


def _entries(log: int, change: Callable[[Ecosystem, list[bytes]], None]) -> Tamper:
    """Rebuild one log with changed entries, genuinely signed and cosigned by its key."""

    def tamper(eco: Ecosystem, files: dict[str, bytes]) -> MemoryBundle:
        entries = list(eco.entries[log])
        change(eco, entries)
        return eco.bundle(replace={log: entries})

    return tamper


def _checkpoint(log: int, make: Callable[[Ecosystem, bytes], bytes]) -> Tamper:
    def tamper(eco: Ecosystem, files: dict[str, bytes]) -> None:
        path = bundle.checkpoint_path(eco.log_id(log))
        files[path] = make(eco, files[path])

    return tamper


def _manifest(change: Callable[[Ecosystem, LogInfo], LogInfo], log: int) -> Tamper:
    def tamper(eco: Ecosystem, files: dict[str, bytes]) -> None:
        manifest = Manifest.from_bytes(files[bundle.MANIFEST])
        logs = tuple(
            change(eco, info) if n == log else info for n, info in enumerate(manifest.logs)
        )
        files[bundle.MANIFEST] = replace(manifest, logs=logs).to_bytes()

    return tamper


def _evidence(make: Callable[[Ecosystem, dict[str, bytes]], bytes]) -> Tamper:
    def tamper(eco: Ecosystem, files: dict[str, bytes]) -> None:
        files[bundle.EVIDENCE_PREFIX + "0.txt"] = make(eco, files)

    return tamper


def _entry_offset(data: bytes, index: int) -> int:
    """Offset of the middle of entry `index` inside an entry bundle."""
    pos = 0
    for _ in range(index):
        pos += 2 + int.from_bytes(data[pos : pos + 2], "big")
    length = int.from_bytes(data[pos : pos + 2], "big")
    return pos + 2 + length // 2


def _swap(data: bytes) -> bytes:
    entries = tiles.decode_entry_bundle(data)
    entries[3], entries[4] = entries[4], entries[3]
    return tiles.encode_entry_bundle(entries)


def _set(index: int, make: Callable[[Ecosystem, list[bytes]], bytes]) -> Callable:
    def change(eco: Ecosystem, entries: list[bytes]) -> None:
        entries[index] = make(eco, entries)

    return change


def _noncanonical(eco: Ecosystem, entries: list[bytes]) -> bytes:
    data = entries[4].replace(b'","', b'", "', 1)  # valid JSON, one space too many
    assert data != entries[4]
    return data


def _fork(eco: Ecosystem, log: int, at: int) -> list[bytes]:
    """The log's entries with entry `at` replaced: another history under the same key."""
    entries = list(eco.entries[log])
    entries[at] = entry(eco.log_id(log), at, body={"forked": True})
    return entries


def _cosigned_by_one(eco: Ecosystem, note: bytes) -> bytes:
    text, sigs = note_lines(note)
    return note_bytes(text, sigs[:2])  # the log's signature and one witness of the 2 needed


def _duplicate_last(eco: Ecosystem, note: bytes) -> bytes:
    text, sigs = note_lines(note)
    return note_bytes(text, [*sigs, sigs[-1]])


def _duplicate_first(eco: Ecosystem, note: bytes) -> bytes:
    text, sigs = note_lines(note)
    return note_bytes(text, [sigs[0], *sigs])


def _bad_log_signature(eco: Ecosystem, note: bytes) -> bytes:
    text, sigs = note_lines(note)
    first = sigs[0]
    sigs[0] = NoteSignature(first.name, first.key_id, flip(first.signature, 7))
    return note_bytes(text, sigs)


def _evidence_same_size(eco: Ecosystem, files: dict[str, bytes]) -> bytes:
    real = files[bundle.checkpoint_path(eco.log_id(A))]
    forked = eco.checkpoint(A, entries=_fork(eco, A, 100))
    return Equivocation(eco.memlog(A).vkey, real, forked).to_bytes()


def _evidence_disagrees_with_tree(eco: Ecosystem, files: dict[str, bytes]) -> bytes:
    consistent = eco.checkpoint(A, size=BIG - 1)
    forked = eco.checkpoint(A, entries=_fork(eco, A, 100), size=250)
    return Equivocation(eco.memlog(A).vkey, consistent, forked).to_bytes()


def _statement_bad_signature(eco: Ecosystem, entries: list[bytes]) -> bytes:
    good = statement(eco.workers[0], eco.log_id(B), label="tampered")
    bad = SignedStatement(good.statement, flip(good.sig, 0))
    return entry(eco.log_id(B), 4, signed=[bad])


def _nonce_within_entry(eco: Ecosystem, entries: list[bytes]) -> bytes:
    signed = [
        statement(eco.workers[0], eco.log_id(B), label="x", nonce_label="same"),
        statement(eco.workers[1], eco.log_id(B), label="y", nonce_label="same"),
    ]
    return entry(eco.log_id(B), 4, signed=signed)


CASES = [
    # entry bundles
    Case(
        "entry-bundle-flipped-byte",
        _edit(_file(A, "tile/entries/000"), lambda d: flip(d, _entry_offset(d, 100))),
        "tile.mismatch",
        A,
        seq=0,
    ),
    Case(
        "entry-bundle-flipped-byte-root",
        _edit(_file(A, "tile/entries/000"), lambda d: flip(d, _entry_offset(d, 100))),
        "tree.root",
        A,
    ),
    Case(
        "entry-bundle-truncated",
        _edit(_file(A, "tile/entries/001.p/44"), lambda d: d[:-10]),
        "bundle.unreadable",
        A,
        seq=256,
    ),
    Case(
        "entry-bundle-truncated-tree",
        _edit(_file(A, "tile/entries/001.p/44"), lambda d: d[:-10]),
        "tree.incomplete",
        A,
    ),
    Case(
        "entry-bundle-trailing-garbage",
        _edit(_file(B, "tile/entries/000.p/12"), lambda d: d + b"\x00\x02{}"),
        "bundle.unreadable",
        B,
        seq=0,
    ),
    Case(
        "entry-bundle-missing",
        _edit(_file(A, "tile/entries/000"), lambda d: None),
        "bundle.missing",
        A,
        seq=0,
    ),
    Case(
        "entries-reordered",
        _edit(_file(B, "tile/entries/000.p/12"), _swap),
        "entry.seq",
        B,
        seq=3,
        with_entry_id=True,
    ),
    Case(
        "entries-reordered-root",
        _edit(_file(B, "tile/entries/000.p/12"), _swap),
        "tree.root",
        B,
    ),
    # hash tiles
    Case(
        "level-0-tile-flipped",
        _edit(_file(A, "tile/0/000"), lambda d: flip(d, 100)),
        "tile.mismatch",
        A,
        seq=0,
    ),
    Case(
        "level-1-tile-flipped",
        _edit(_file(A, "tile/1/000.p/1"), lambda d: flip(d, 0)),
        "tile.mismatch",
        A,
    ),
    Case(
        "level-0-tile-missing",
        _edit(_file(B, "tile/0/000.p/12"), lambda d: None),
        "tile.missing",
        B,
    ),
    Case(
        "level-1-tile-missing",
        _edit(_file(A, "tile/1/000.p/1"), lambda d: None),
        "tile.missing",
        A,
    ),
    Case(
        "tile-extra-long",
        _edit(_file(B, "tile/0/000.p/12"), lambda d: d + d[:32]),
        "tile.mismatch",
        B,
        seq=0,
    ),
    Case(
        "level-1-tile-extra-long",
        _edit(_file(A, "tile/1/000.p/1"), lambda d: d + d),
        "tile.mismatch",
        A,
    ),
    Case(
        "tile-beyond-size-limit",
        _edit(_file(B, "tile/0/000.p/12"), lambda d: d * 1000),
        "tile.missing",
        B,
    ),
    # checkpoints
    Case(
        "checkpoint-signed-by-another-key",
        _checkpoint(
            B, lambda eco, cp: resign(eco, B, Checkpoint.from_note(cp), signer=key("attacker"))
        ),
        "checkpoint.signature",
        B,
    ),
    Case(
        "checkpoint-bad-signature",
        _checkpoint(B, _bad_log_signature),
        "checkpoint.signature",
        B,
    ),
    Case(
        "checkpoint-log-signature-duplicated",
        _checkpoint(B, _duplicate_first),
        "checkpoint.signature",
        B,
    ),
    Case(
        "checkpoint-root-of-another-tree",
        _checkpoint(B, lambda eco, cp: eco.checkpoint(B, entries=_fork(eco, B, 5))),
        "tree.root",
        B,
    ),
    Case(
        "checkpoint-root-resigned",
        _checkpoint(
            A,
            lambda eco, cp: resign(eco, A, replace(Checkpoint.from_note(cp), root=other_root())),
        ),
        "tree.root",
        A,
    ),
    Case(
        "checkpoint-size-disagrees",
        _checkpoint(B, lambda eco, cp: eco.checkpoint(B, size=11)),
        "checkpoint.size",
        B,
    ),
    Case(
        "checkpoint-extension-lines",
        _checkpoint(
            B,
            lambda eco, cp: resign(
                eco, B, replace(Checkpoint.from_note(cp), extensions=("hello",))
            ),
        ),
        "checkpoint.extensions",
        B,
    ),
    Case(
        "checkpoint-missing",
        _edit(_file(C, "checkpoint"), lambda d: None),
        "checkpoint.signature",
        C,
    ),
    # the manifest
    Case(
        "manifest-vkey-of-attacker",
        _manifest(
            lambda eco, info: replace(
                info, vkey=NoteSigner(name=info.origin, key=key("attacker")).vkey
            ),
            B,
        ),
        "checkpoint.signature",
        B,
    ),
    Case(
        "manifest-vkey-of-another-log",
        _manifest(lambda eco, info: replace(info, vkey=eco.memlog(A).vkey), B),
        "checkpoint.signature",
        B,
    ),
    Case(
        "manifest-size-too-big",
        _manifest(lambda eco, info: replace(info, size=info.size + 1), B),
        "checkpoint.size",
        B,
    ),
    Case(
        "manifest-size-too-small",
        _manifest(lambda eco, info: replace(info, size=info.size - 1), B),
        "bundle.missing",
        B,
        seq=0,
    ),
    Case(
        "manifest-size-huge",
        _manifest(lambda eco, info: replace(info, size=2**53 - 1), A),
        "checkpoint.size",
        A,
    ),
    # entries, re-signed by the log: only the entry rules can catch them
    Case(
        "entry-not-canonical",
        _entries(B, _set(4, _noncanonical)),
        "entry.format",
        B,
        seq=4,
        with_entry_id=True,
    ),
    Case(
        "entry-not-json",
        _entries(B, _set(4, lambda eco, entries: b"\xff not json")),
        "entry.format",
        B,
        seq=4,
        with_entry_id=True,
    ),
    Case(
        "entry-wrong-seq",
        _entries(B, _set(4, lambda eco, entries: entry(eco.log_id(B), 7))),
        "entry.seq",
        B,
        seq=4,
        with_entry_id=True,
    ),
    Case(
        "entries-reordered-and-signed",
        _entries(B, lambda eco, e: e.insert(3, e.pop(4))),
        "entry.seq",
        B,
        seq=4,
        with_entry_id=True,
    ),
    Case(
        "entry-of-another-log",
        _entries(B, _set(4, lambda eco, entries: entry(eco.log_id(C), 4))),
        "entry.log",
        B,
        seq=4,
        with_entry_id=True,
    ),
    Case(
        "statement-bad-signature",
        _entries(B, _set(4, _statement_bad_signature)),
        "statement.signature",
        B,
        seq=4,
        with_entry_id=True,
    ),
    Case(
        "statement-for-another-log",
        _entries(
            B,
            _set(
                4,
                lambda eco, entries: entry(
                    eco.log_id(B), 4, signed=[statement(eco.workers[0], eco.log_id(C), label="z")]
                ),
            ),
        ),
        "statement.log",
        B,
        seq=4,
        with_entry_id=True,
    ),
    Case(
        "statement-nonce-reused",
        _entries(
            B,
            _set(
                4,
                lambda eco, entries: entry(
                    eco.log_id(B),
                    4,
                    signed=[
                        statement(eco.workers[0], eco.log_id(B), label="again", nonce_label="b/3")
                    ],
                ),
            ),
        ),
        "statement.nonce-reused",
        B,
        seq=4,
        with_entry_id=True,
    ),
    Case(
        "statement-nonce-reused-in-one-entry",
        _entries(B, _set(4, _nonce_within_entry)),
        "statement.nonce-reused",
        B,
        seq=4,
        with_entry_id=True,
    ),
    Case(
        "statement-nonce-reused-across-bundles",
        _entries(
            A,
            _set(
                BIG - 1,
                lambda eco, entries: entry(
                    eco.log_id(A),
                    BIG - 1,
                    signed=[statement(eco.workers[0], eco.log_id(A), label="r", nonce_label="a/3")],
                ),
            ),
        ),
        "statement.nonce-reused",
        A,
        seq=BIG - 1,
        with_entry_id=True,
    ),
    # witnesses and policies
    Case(
        "quorum-not-met-no-cosignatures",
        _checkpoint(B, lambda eco, cp: eco.checkpoint(B, cosigned=False)),
        "policy.quorum",
        B,
        trusted_policy=True,
    ),
    Case(
        "quorum-not-met-one-cosignature",
        _checkpoint(B, _cosigned_by_one),
        "policy.quorum",
        B,
        trusted_policy=True,
    ),
    Case(
        "bundled-quorum-not-met",
        _checkpoint(B, _cosigned_by_one),
        "bundled-policy.quorum",
        B,
    ),
    Case(
        "cosignature-duplicated",
        _checkpoint(A, _duplicate_last),
        "bundled-policy.quorum",
        A,
    ),
    Case(
        "cosignature-duplicated-trusted-policy",
        _checkpoint(A, _duplicate_last),
        "policy.quorum",
        A,
        trusted_policy=True,
    ),
    Case(
        "bundled-policy-malformed",
        _edit(lambda eco: bundle.POLICY, lambda d: b"quorum nobody\n"),
        "bundled-policy.format",
        None,
    ),
    Case(
        "bundled-policy-not-text",
        _edit(lambda eco: bundle.POLICY, lambda d: b"\x00\xff" * 10),
        "bundled-policy.format",
        None,
    ),
    # equivocation evidence
    Case("equivocation-same-size", _evidence(_evidence_same_size), "equivocation", A),
    Case(
        "equivocation-disagrees-with-bundled-tree",
        _evidence(_evidence_disagrees_with_tree),
        "equivocation",
        A,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_tampered_bundle_is_rejected(
    case: Case, eco: Ecosystem, clean_files: dict[str, bytes]
) -> None:
    files = dict(clean_files)
    source = case.tamper(eco, files) or MemoryBundle(files)

    report = audit(source, policy=eco.policy if case.trusted_policy else None)

    assert not report.ok
    log_id = None if case.log is None else eco.log_id(case.log)
    matching = [
        f
        for f in errors_at(report, case.rule)
        if f.log == log_id and (case.seq is None or f.seq == case.seq)
    ]
    assert matching, [f.to_text() for f in report.findings]
    for finding in matching:
        assert finding.message
        if case.with_entry_id:
            assert finding.entry_id is not None
            assert len(finding.entry_id) == 64
    # Located precisely: no other log is blamed.
    assert {f.log for f in report.errors} <= {log_id, None}
    if case.log is not None:
        assert report.logs[case.log].errors == len([f for f in report.errors if f.log == log_id])
        assert report.logs[case.log].errors > 0


def test_entry_finding_names_the_exact_entry(eco: Ecosystem) -> None:
    entries = list(eco.entries[B])
    entries[4] = entry(eco.log_id(B), 7)
    report = audit(eco.bundle(replace={B: entries}))
    [finding] = report.errors
    assert (finding.rule, finding.log, finding.seq) == ("entry.seq", eco.log_id(B), 4)
    assert finding.entry_id == entry_id(entries[4])
    assert "seq 7" in finding.message


def test_non_canonical_entry_is_caught_only_by_the_canonical_rule(eco: Ecosystem) -> None:
    entries = list(eco.entries[B])
    entries[4] = _noncanonical(eco, entries)
    report = audit(eco.bundle(replace={B: entries}))
    assert [(f.rule, f.seq) for f in report.errors] == [("entry.format", 4)]
    assert "canonical" in report.errors[0].message


def test_missing_bundle_stops_that_log_only(eco: Ecosystem, clean_files: dict[str, bytes]) -> None:
    files = dict(clean_files)
    del files[prefix(eco, A) + "tile/entries/000"]
    report = audit(MemoryBundle(files))
    assert [f.rule for f in report.errors] == ["bundle.missing", "tree.incomplete"]
    assert report.logs[A].entries_checked == 0
    assert report.logs[B].entries_checked == 12  # the other logs are still checked in full
    assert report.logs[C].entries_checked == 6


def test_huge_manifest_size_is_rejected_quickly(eco: Ecosystem, clean_files: dict) -> None:
    """A manifest may claim any size: the audit must not try to read 2**45 bundles."""
    files = dict(clean_files)
    _manifest(lambda eco, info: replace(info, size=2**53 - 1), A)(eco, files)
    report = audit(MemoryBundle(files))
    rules = {f.rule for f in report.errors}
    assert {"checkpoint.size", "bundle.missing", "tree.incomplete"} <= rules
    assert len(report.findings) < 10


# --- evidence that proves nothing is a notice -----------------------------------------


def _outsider_evidence(eco: Ecosystem, files: dict[str, bytes]) -> bytes:
    other = MemoryLog(key("log/outsider"))
    for n in range(5):
        other.append(type="task.publish", time="2026-11-25T10:00:00Z", body={"n": n})
    first = other.checkpoint(size=3)
    return Equivocation(other.vkey, first, other.checkpoint()).to_bytes()


def _evidence_bad_signature(eco: Ecosystem, files: dict[str, bytes]) -> bytes:
    real = files[bundle.checkpoint_path(eco.log_id(A))]
    forked = _bad_log_signature(eco, eco.checkpoint(A, entries=_fork(eco, A, 100)))
    return Equivocation(eco.memlog(A).vkey, real, forked).to_bytes()


def _evidence_identical(eco: Ecosystem, files: dict[str, bytes]) -> bytes:
    real = files[bundle.checkpoint_path(eco.log_id(A))]
    return Equivocation(eco.memlog(A).vkey, real, eco.checkpoint(A, cosigned=False)).to_bytes()


def _evidence_consistent(eco: Ecosystem, files: dict[str, bytes]) -> bytes:
    return Equivocation(
        eco.memlog(A).vkey, eco.checkpoint(A, size=100), eco.checkpoint(A, size=257)
    ).to_bytes()


def _evidence_beyond_bundle(eco: Ecosystem, files: dict[str, bytes]) -> bytes:
    longer = [*eco.entries[A], entry(eco.log_id(A), BIG)]
    return Equivocation(
        eco.memlog(A).vkey, eco.checkpoint(A, size=200), eco.checkpoint(A, entries=longer)
    ).to_bytes()


def _evidence_tiles_missing(eco: Ecosystem, files: dict[str, bytes]) -> bytes:
    del files[prefix(eco, B) + "tile/0/000.p/12"]
    return _evidence_consistent(eco, files)


NOTICES = [
    ("log-not-in-bundle", _outsider_evidence, "equivocation.unproven", "outsider"),
    ("different-sizes-beyond-bundle", _evidence_beyond_bundle, "equivocation.unproven", A),
    ("bad-signature", _evidence_bad_signature, "evidence.invalid", A),
    ("identical-heads", _evidence_identical, "evidence.invalid", A),
    ("consistent-with-bundled-tree", _evidence_consistent, "evidence.invalid", A),
    ("garbage", lambda eco, files: b"rdh/equivocation/v1\nnonsense\n", "evidence.invalid", None),
    ("not-utf8", lambda eco, files: b"\xff\xfe", "evidence.invalid", None),
]


@pytest.mark.parametrize(
    ("make", "rule", "log"), [n[1:] for n in NOTICES], ids=[n[0] for n in NOTICES]
)
def test_evidence_that_proves_nothing_is_a_notice(
    make: Callable[[Ecosystem, dict[str, bytes]], bytes],
    rule: str,
    log: int | str | None,
    eco: Ecosystem,
    clean_files: dict[str, bytes],
) -> None:
    files = dict(clean_files)
    files[bundle.EVIDENCE_PREFIX + "7.txt"] = make(eco, files)

    report = audit(MemoryBundle(files))

    assert report.ok, [f.to_text() for f in report.errors]
    assert report.evidence_checked == 1
    [finding] = [f for f in report.findings if f.rule == rule]
    assert finding.severity == "notice"
    assert "evidence/7.txt" in finding.message
    if log == "outsider":
        assert finding.log == key("log/outsider").public.party_id
    elif log is not None:
        assert finding.log == eco.log_id(log)


def test_evidence_about_a_log_with_missing_tiles_is_not_an_equivocation(
    eco: Ecosystem, clean_files: dict[str, bytes]
) -> None:
    files = dict(clean_files)
    files[bundle.EVIDENCE_PREFIX + "0.txt"] = Equivocation(
        eco.memlog(B).vkey, eco.checkpoint(B, size=3), eco.checkpoint(B, size=5)
    ).to_bytes()
    del files[prefix(eco, B) + "tile/0/000.p/12"]
    report = audit(MemoryBundle(files))
    assert "equivocation" not in {f.rule for f in report.findings}
    assert "tile.missing" in {f.rule for f in report.errors}


def test_several_evidence_files_are_all_checked(
    eco: Ecosystem, clean_files: dict[str, bytes]
) -> None:
    files = dict(clean_files)
    files["evidence/0.txt"] = _evidence_same_size(eco, files)
    files["evidence/1.txt"] = _evidence_consistent(eco, files)
    report = audit(MemoryBundle(files))
    assert report.evidence_checked == 2
    assert [f.rule for f in report.errors] == ["equivocation"]
    assert [f.rule for f in report.notices] == ["ref.outside", "evidence.invalid"]


# --- an unreadable manifest is the only exception --------------------------------------

MANIFESTS = [
    ("missing", None, BundleError),
    ("not-json", b"{", FormatError),
    ("not-an-object", b"[]", FormatError),
    ("unknown-field", b'{"exporter":"x","format":"rdh-bundle/v1","logs":[],"x":1}', FormatError),
    ("other-format", b'{"exporter":"x","format":"rdh-bundle/v9","logs":[]}', FormatError),
    ("too-large", b" " * (bundle.LIMITS["manifest"] + 1), BundleError),
]


@pytest.mark.parametrize(
    ("data", "error"), [m[1:] for m in MANIFESTS], ids=[m[0] for m in MANIFESTS]
)
def test_unreadable_manifest_raises(
    data: bytes | None, error: type[Exception], clean_files: dict[str, bytes]
) -> None:
    files = dict(clean_files)
    if data is None:
        del files[bundle.MANIFEST]
    else:
        files[bundle.MANIFEST] = data
    with pytest.raises(error):
        audit(MemoryBundle(files))


def test_trusted_policy_without_the_log_rejects_it(eco: Ecosystem) -> None:
    """A policy the auditor gives names the logs it trusts; other logs fail its check."""
    text = eco.policy.to_text()
    only_a = "\n".join(
        line
        for line in text.splitlines()
        if not line.startswith("log ") or line == f"log {eco.memlog(A).vkey}"
    )
    report = audit(eco.bundle(), policy=Policy.from_text(only_a + "\n"))
    assert {f.log for f in errors_at(report, "policy.quorum")} == {eco.log_id(B), eco.log_id(C)}


def test_cosignature_by_an_unknown_witness_is_ignored(eco: Ecosystem) -> None:
    """C2SP signed-note: signatures by unknown keys are ignored, so a checkpoint may carry
    cosignatures of witnesses the policy does not name."""
    stranger = Witness("stranger.example/w", key("witness/stranger"))
    report = audit(eco.bundle(witnesses=[*eco.witnesses, stranger]), policy=eco.policy)
    assert report.ok
    assert all(stranger.name not in s.cosigned_by for s in report.logs)
    assert all(len(s.cosigned_by) == 3 for s in report.logs)


def test_finding_text_and_dict() -> None:
    finding = Finding("entry.seq", "the entry is wrong", "a" * 64, 4, "b" * 64)
    assert finding.to_text() == (
        "ERROR [entry.seq] log aaaaaaaaaaaaaaaa, seq 4, entry bbbbbbbbbbbbbbbb: the entry is wrong"
    )
    assert finding.to_dict() == {
        "severity": "error",
        "rule": "entry.seq",
        "log": "a" * 64,
        "seq": 4,
        "entry_id": "b" * 64,
        "message": "the entry is wrong",
    }
    notice = Finding("policy.format", "bad policy", severity="notice")
    assert notice.to_text() == "NOTICE [policy.format] bundle: bad policy"
    report = AuditReport(findings=[finding, notice])
    assert (report.ok, report.errors, report.notices) == (False, [finding], [notice])
    assert AuditReport(findings=[notice]).ok


def test_evidence_is_not_judged_against_a_tree_that_failed_to_verify() -> None:
    """Two honest, consistent checkpoints are not equivocation, even when the bundled log is
    broken: its tree is then no witness against them."""
    from ledger.evidence import Equivocation
    from ledger.memlog import MemoryLog, export_bundle
    from tests.builders import key

    log = MemoryLog(key("audit/evidence-broken-tree"))
    for n in range(10):
        log.append(type="task.publish", time="2026-11-25T10:00:00Z", body={"n": n})
    early, late = log.checkpoint(size=4), log.checkpoint()
    sink = bundle.MemoryBundle()
    export_bundle(sink, [log], evidence=[Equivocation(log.vkey, early, late).to_bytes()])
    name = bundle.checkpoint_path(log.log_id)
    sink.files[name] = sink.files[name].replace(b"\n10\n", b"\n11\n")  # now unverifiable
    report = audit(sink)
    rules = {f.rule for f in report.findings}
    assert "checkpoint.signature" in rules
    assert "equivocation" not in rules
    assert "equivocation.unproven" in rules


def test_trusted_policy_without_log_lines_uses_the_self_certifying_log_key() -> None:
    from ledger.memlog import MemoryLog, Witness, export_bundle
    from ledger.policy import Policy
    from tests.builders import key

    log = MemoryLog(key("audit/policy-no-logs"))
    log.append(type="task.publish", time="2026-11-25T10:00:00Z", body={"n": 1})
    witness = Witness(name="witness.example/solo", key=key("audit/policy-no-logs/w"))
    sink = bundle.MemoryBundle()
    export_bundle(sink, [log], witnesses=[witness], timestamp=1_764_000_000)
    policy = Policy.from_text(f"witness w {witness.cosigner.to_vkey()}\nquorum w\n")
    report = audit(sink, policy=policy)
    assert report.ok, [f.to_text() for f in report.findings]
    assert report.trusted_policy
    unwitnessed = bundle.MemoryBundle()
    export_bundle(unwitnessed, [log])
    failed = audit(unwitnessed, policy=policy)
    assert [f.rule for f in failed.errors] == ["policy.quorum"]


def test_corrupt_bundle_does_not_stop_the_checks_of_later_entries(
    eco: Ecosystem, clean_files: dict[str, bytes]
) -> None:
    files = dict(clean_files)
    name = prefix(eco, A) + "tile/entries/000"
    files[name] = files[name][:-7]  # truncated: present but unusable
    report = audit(MemoryBundle(files))
    assert [f.rule for f in report.errors] == ["bundle.unreadable", "tree.incomplete"]
    assert report.logs[A].entries_checked == len(eco.entries[A]) - 256  # bundle 001 still read


def _two_logs() -> tuple[MemoryBundle, list[MemoryLog]]:
    from ledger.memlog import MemoryLog, export_bundle
    from tests.builders import key

    logs = [MemoryLog(key(f"audit/hidden/{n}")) for n in range(2)]
    for log in logs:
        log.append(type="test.note", time="2026-11-25T10:00:00Z", body={"n": 1})
    sink = MemoryBundle()
    export_bundle(sink, logs)
    return sink, logs


def test_a_log_removed_from_the_manifest_is_an_error() -> None:
    sink, logs = _two_logs()
    manifest = Manifest.from_bytes(sink.files[bundle.MANIFEST])
    hidden = replace(manifest, logs=manifest.logs[:1])
    sink.files[bundle.MANIFEST] = hidden.to_bytes()
    report = audit(sink)
    assert [(f.rule, f.log) for f in report.errors] == [("bundle.unlisted", logs[1].log_id)]


def test_a_manifest_without_logs_is_an_error() -> None:
    sink = MemoryBundle()
    sink.write(bundle.MANIFEST, Manifest(exporter="test", logs=()).to_bytes())
    assert [f.rule for f in audit(sink).errors] == ["bundle.empty"]


def test_a_log_of_the_trusted_policy_missing_from_the_bundle_is_an_error() -> None:
    from ledger.policy import Policy

    sink, logs = _two_logs()
    manifest = Manifest.from_bytes(sink.files[bundle.MANIFEST])
    sink.files[bundle.MANIFEST] = replace(manifest, logs=manifest.logs[:1]).to_bytes()
    for name in list(sink.files):
        if name.startswith(bundle.log_prefix(logs[1].log_id)):
            del sink.files[name]  # the whole log is gone, files and all
    policy = Policy.from_text("".join(f"log {log.vkey}\n" for log in logs) + "quorum none\n")
    assert audit(sink).ok  # without the auditor's policy nothing says a log is missing
    report = audit(sink, policy=policy)
    assert [(f.rule, f.log) for f in report.errors] == [("policy.log-missing", logs[1].log_id)]


def test_witnesses_shown_are_those_of_the_trusted_policy() -> None:
    """A witness named only by the bundle's own policy is not reported as cosigning."""
    from ledger.memlog import MemoryLog, Witness, export_bundle
    from ledger.policy import Policy
    from tests.builders import key

    log = MemoryLog(key("audit/witness-attribution"))
    log.append(type="test.note", time="2026-11-25T10:00:00Z", body={"n": 1})
    mine, theirs = (Witness(f"w.example/{n}", key(f"audit/witness/{n}")) for n in ("a", "b"))
    bundled = Policy.from_text(f"witness b {theirs.cosigner.to_vkey()}\nquorum b\n").to_bytes()
    sink = MemoryBundle()
    export_bundle(sink, [log], witnesses=[theirs], policy=bundled, timestamp=1_764_000_000)
    assert audit(sink).logs[0].cosigned_by == ("w.example/b",)
    trusted = Policy.from_text(f"witness a {mine.cosigner.to_vkey()}\nquorum a\n")
    report = audit(sink, policy=trusted)
    assert [f.rule for f in report.errors] == ["policy.quorum"]
    assert report.logs[0].cosigned_by == ()
