"""Checking one entry bundle: the unit of parallel work in an audit.

`check_bundle` reads one tlog-tiles entry bundle and its level-0 hash tile from the bundle
source, and checks every entry: canonical form, fields, own seq and log, every embedded
statement's signature; it recomputes the leaf hashes and compares them with the stored
level-0 tile. It hands back only what the cross-bundle checks need: the bundle's subtree
root (or, for the last, partial bundle, its compact range), the leaf hashes (entry ids),
statement nonces, and references it could not resolve inside the bundle; and, for the rules
(`ledger.audit.rules`), what their reader makes of each entry that passed. It is a pure,
picklable function so the caller may run it in other processes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from ledger import bundle, tiles
from ledger.audit.report import Finding
from ledger.audit.rules import EntryReader
from ledger.compact import CompactRange
from ledger.entry import Entry
from ledger.errors import LedgerError
from ledger.types import Hash

__all__ = ["BundleResult", "BundleTask", "check_bundle"]


@dataclass(frozen=True, slots=True)
class BundleTask:
    """Entry bundle number `index` (holding `count` entries) of log `log` in `source`."""

    source: bundle.BundleSource
    log: str
    index: int
    count: int
    #: the rules' reader, run on every entry that passes the checks (None: no rules)
    read: EntryReader | None = None

    @property
    def start(self) -> int:
        return self.index * tiles.TILE_WIDTH


@dataclass(frozen=True, slots=True)
class BundleResult:
    """What `check_bundle` learned about one entry bundle.

    `leaf_hashes` holds `count` 32-byte hashes (empty when the bundle could not be read);
    `edge` is the bundle's compact range: one hash (its subtree root) for a full bundle.
    `refs` lists (seq, referenced id) pairs not resolved within the bundle itself.
    `missing` says the bundle file itself is absent (the log's later bundles are not read).
    """

    log: str
    start: int
    count: int
    leaf_hashes: bytes
    edge: tuple[Hash, ...]
    findings: tuple[Finding, ...]
    statements: int
    nonces: tuple[tuple[int, str], ...]
    refs: tuple[tuple[int, bytes], ...]
    genesis_name: str | None = None
    missing: bool = False
    #: with `read`: what it returned for each entry that passed every check here, else None
    #: (one item per entry; empty when the bundle could not be read)
    items: tuple[Any, ...] = ()


def check_bundle(task: BundleTask) -> BundleResult:
    """Check every entry of one bundle; bad data becomes findings, never exceptions."""
    log, start, count = task.log, task.start, task.count
    prefix = bundle.log_prefix(log)
    span = f"seq {start} to {start + count - 1}"
    try:
        data = task.source.read(
            prefix + tiles.entries_path(task.index, count), limit=bundle.LIMITS["entries"]
        )
    except LedgerError as e:
        finding = Finding(
            "bundle.missing", f"the entry bundle for {span} is missing: {e}", log, start
        )
        return BundleResult(log, start, count, b"", (), (finding,), 0, (), (), missing=True)
    try:
        entries = tiles.decode_entry_bundle(data, count)
    except LedgerError as e:
        message = f"the entry bundle for {span} cannot be used: {e}"
        finding = Finding("bundle.unreadable", message, log, start)
        return BundleResult(log, start, count, b"", (), (finding,), 0, (), ())

    scan = _Scan(log, task.read)
    for offset, raw in enumerate(entries):
        scan.entry(raw, start + offset)
    hashes = b"".join(scan.leaves)
    _compare_level0(task, prefix, hashes, scan.findings)
    edge = CompactRange()
    edge.extend(Hash(h) for h in scan.leaves)
    local = {h.hex() for h in scan.leaves}
    outside = tuple((seq, bytes.fromhex(ref)) for seq, ref in scan.refs if ref not in local)
    return BundleResult(
        log=log,
        start=start,
        count=count,
        leaf_hashes=hashes,
        edge=edge.hashes,
        findings=tuple(scan.findings),
        statements=scan.statements,
        nonces=tuple(scan.nonces),
        refs=outside,
        genesis_name=scan.genesis_name,
        items=tuple(scan.kept) if task.read is not None else (),
    )


@dataclass(slots=True)
class _Scan:
    """What the entries of one bundle showed, entry by entry."""

    log: str
    read: EntryReader | None
    findings: list[Finding] = field(default_factory=list)
    leaves: list[bytes] = field(default_factory=list)
    nonces: list[tuple[int, str]] = field(default_factory=list)
    refs: list[tuple[int, str]] = field(default_factory=list)
    kept: list[Any] = field(default_factory=list)
    statements: int = 0
    genesis_name: str | None = None

    def entry(self, raw: bytes, seq: int) -> None:
        """Check one entry: canonical bytes and fields, its own seq and log, and every
        embedded statement (each one reported, unlike `ledger.entry.verify_statements`,
        which stops at the first)."""
        digest = hashlib.sha256(b"\x00" + raw).digest()
        self.leaves.append(digest)
        found = len(self.findings)
        try:
            entry = Entry.from_bytes(raw)
        except LedgerError as e:
            self._finding("entry.format", str(e), seq, digest)
            self.kept.append(None)
            return
        if entry.seq != seq:
            message = f"the entry says seq {entry.seq} but is leaf {seq} of the log"
            self._finding("entry.seq", message, seq, digest)
        if entry.log != self.log:
            message = f"the entry claims log {entry.log}, not the log that holds it"
            self._finding("entry.log", message, seq, digest)
        if seq == 0 and entry.type == "log.genesis":
            name = entry.body.get("name")
            self.genesis_name = name if isinstance(name, str) else None
        self.refs.extend((seq, ref) for ref in entry.refs)
        for signed in entry.signed:
            self.statements += 1
            self.nonces.append((seq, signed.statement.nonce))
            try:
                signed.verify()
            except LedgerError as e:
                self._finding("statement.signature", str(e), seq, digest)
            if signed.statement.log != self.log:
                message = (
                    f"an embedded statement is addressed to log {signed.statement.log}, "
                    "not the log that recorded it"
                )
                self._finding("statement.log", message, seq, digest)
        # Rules may trust what passed every check here; an entry that failed one is unusable.
        if self.read is not None and len(self.findings) == found:
            self.kept.append(self.read(entry))
        else:
            self.kept.append(None)

    def _finding(self, rule: str, message: str, seq: int, digest: bytes) -> None:
        self.findings.append(Finding(rule, message, self.log, seq, digest.hex()))


def _compare_level0(task: BundleTask, prefix: str, hashes: bytes, findings: list[Finding]) -> None:
    """The level-0 hash tile of a bundle is exactly its leaf hashes, concatenated."""
    name = tiles.tile_path(0, task.index, task.count)
    try:
        stored = task.source.read(prefix + name, limit=bundle.LIMITS["tile"])
    except LedgerError as e:
        findings.append(Finding("tile.missing", f"hash tile {name} cannot be read: {e}", task.log))
        return
    if stored != hashes:
        findings.append(
            Finding(
                "tile.mismatch",
                f"hash tile {name} differs from the leaf hashes of the entries",
                task.log,
                task.start,
            )
        )
