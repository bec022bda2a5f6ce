"""Checking one entry bundle: the unit of parallel work in an audit.

`check_bundle` takes the raw bytes of one tlog-tiles entry bundle and returns the leaf
hashes (for the tree check done by the caller), what the cross-entry rules need (statement
nonces, references) and the findings about each entry: canonical form, fields, own seq and
log, and every embedded statement's signature. It is a pure, picklable function so the
caller may run it in other processes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ledger.audit.report import Finding
from ledger.entry import Entry
from ledger.errors import LedgerError
from ledger.tiles import decode_entry_bundle

__all__ = ["BundleResult", "BundleTask", "check_bundle"]


@dataclass(frozen=True, slots=True)
class BundleTask:
    """One entry bundle of one log, starting at leaf index `start` and holding `count` entries."""

    log: str
    start: int
    count: int
    data: bytes
    missing: str | None = None


@dataclass(frozen=True, slots=True)
class BundleResult:
    """What `check_bundle` learned. `leaf_hashes` is `count` 32-byte hashes, concatenated."""

    log: str
    start: int
    count: int
    leaf_hashes: bytes
    findings: tuple[Finding, ...]
    statements: int
    nonces: tuple[tuple[int, str], ...]
    refs: tuple[tuple[int, str, str], ...]
    genesis_name: str | None = None


def check_bundle(task: BundleTask) -> BundleResult:
    """Check every entry of one bundle; never raises for bad data (it becomes a finding)."""
    findings: list[Finding] = []
    if task.missing is not None:
        findings.append(Finding("bundle.missing", task.missing, task.log, task.start))
        return BundleResult(task.log, task.start, task.count, b"", tuple(findings), 0, (), ())
    try:
        entries = decode_entry_bundle(task.data, task.count)
    except LedgerError as e:
        findings.append(
            Finding(
                rule="bundle.format",
                log=task.log,
                seq=task.start,
                message=f"the entry bundle starting at seq {task.start} cannot be read: {e}",
            )
        )
        return BundleResult(task.log, task.start, task.count, b"", tuple(findings), 0, (), ())

    hashes = bytearray()
    nonces: list[tuple[int, str]] = []
    refs: list[tuple[int, str, str]] = []
    statements = 0
    genesis_name: str | None = None
    sha256 = hashlib.sha256
    for offset, data in enumerate(entries):
        seq = task.start + offset
        digest = sha256(b"\x00" + data).digest()
        hashes += digest
        entry_id = digest.hex()
        try:
            entry = Entry.from_bytes(data)
        except LedgerError as e:
            findings.append(Finding("entry.format", str(e), task.log, seq, entry_id))
            continue
        if entry.seq != seq:
            findings.append(
                Finding(
                    "entry.seq",
                    f"the entry says seq {entry.seq} but is leaf {seq}",
                    task.log,
                    seq,
                    entry_id,
                )
            )
        if entry.log != task.log:
            findings.append(
                Finding(
                    "entry.log",
                    f"the entry claims log {entry.log}, not the log holding it",
                    task.log,
                    seq,
                    entry_id,
                )
            )
        if seq == 0:
            genesis_name = _genesis_name(entry)
        refs.extend((seq, entry_id, ref) for ref in entry.refs)
        for signed in entry.signed:
            statements += 1
            nonces.append((seq, signed.statement.nonce))
            try:
                signed.verify()
            except LedgerError as e:
                findings.append(Finding("statement.signature", str(e), task.log, seq, entry_id))
            if signed.statement.log != entry.log:
                findings.append(
                    Finding(
                        "statement.log",
                        "an embedded statement is addressed to log "
                        f"{signed.statement.log}, not the log that recorded it",
                        task.log,
                        seq,
                        entry_id,
                    )
                )
    return BundleResult(
        log=task.log,
        start=task.start,
        count=task.count,
        leaf_hashes=bytes(hashes),
        findings=tuple(findings),
        statements=statements,
        nonces=tuple(nonces),
        refs=tuple(refs),
        genesis_name=genesis_name,
    )


def _genesis_name(entry: Entry) -> str | None:
    if entry.type != "log.genesis":
        return None
    name = entry.body.get("name")
    return name if isinstance(name, str) else None
