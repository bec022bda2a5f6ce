"""The pure check of one fetched entry bundle, for `node.sync` (run in worker processes).

`check_bundle(task)` takes the log id, the bundle's index, the first seq wanted, the
verified level-0 tile of the bundle and the bundle's bytes, and returns the entry rows to
store with the statements that fail (flagged, stored anyway), or raises `BundleFault`
(the peer's data does not hash into the signed tree) or `BadEntry` (the log itself holds
an entry that is not a valid entry of it). It imports only `ledger`, so a spawned worker
starts fast; the errors carry only a message, so they pickle.
"""

from __future__ import annotations

from typing import NamedTuple

from ledger.entry import Entry, verify_statements
from ledger.errors import LedgerError
from ledger.merkle import HASH_SIZE, leaf_hash
from ledger.tiles import TILE_WIDTH, decode_entry_bundle
from node.db.bulk import EntryValues

__all__ = ["BadEntry", "BundleFault", "BundleTask", "Checked", "check_bundle"]


class BundleFault(Exception):  # noqa: N818 (what happened)
    """The bundle does not match the verified tile: the peer's fault."""


class BadEntry(Exception):  # noqa: N818 (what happened)
    """An entry that hashes into the signed tree is not a valid entry of the log."""


class BundleTask(NamedTuple):
    log_id: str
    bundle: int
    start: int
    hashes: bytes
    data: bytes


class Checked(NamedTuple):
    rows: list[EntryValues]
    flagged: list[str]


def check_bundle(task: BundleTask) -> Checked:
    log_id, index, start, hashes, data = task
    try:
        entries = decode_entry_bundle(data, len(hashes) // HASH_SIZE)
    except LedgerError as e:
        raise BundleFault(f"entry bundle {index} of log {log_id}: {e}") from None
    rows: list[EntryValues] = []
    flagged: list[str] = []
    for i, raw in enumerate(entries):
        seq = index * TILE_WIDTH + i
        if seq < start:
            continue
        leaf = leaf_hash(raw)
        if leaf != hashes[i * HASH_SIZE : (i + 1) * HASH_SIZE]:
            raise BundleFault(f"entry {seq} of log {log_id} does not hash into the signed tree")
        try:
            entry = Entry.from_bytes(raw)
        except LedgerError as e:
            raise BadEntry(f"entry {seq} of log {log_id} is not a valid entry: {e}") from None
        if entry.log != log_id or entry.seq != seq:
            raise BadEntry(f"entry {seq} of log {log_id} claims log {entry.log} seq {entry.seq}")
        try:
            verify_statements(entry)
        except LedgerError as e:
            flagged.append(f"entry {seq}: {e}")
        rows.append((log_id, seq, leaf.hex(), entry.type, entry.time, raw))
    return Checked(rows, flagged)
