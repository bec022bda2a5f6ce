"""An in-memory `OwnLog` for tests of the services: the same rules, no database.

`MemoryLogStore` accepts and refuses exactly the batches `node.store.LogStore` does (it
builds entries and checks statements with the same `node.own_log` functions), signs real
checkpoints and serves real proofs from a `ledger.merkle.MemoryTree`. A refused batch
leaves it unchanged. It is not durable and not shared between processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ledger.checkpoint import Checkpoint, log_signer, sign_checkpoint
from ledger.entry import Entry
from ledger.keys import SigningKey
from ledger.merkle import MemoryTree, leaf_hash
from ledger.statement import format_time
from ledger.types import EntryId, Hash, LogId
from node.errors import NotFoundError, UsageError
from node.own_log import (
    AppendResult,
    Check,
    EntryDraft,
    Genesis,
    StoredEntry,
    build_entries,
    nonce_reused,
    statement_nonces,
)

__all__ = ["MemoryLogStore"]


class MemoryLogStore:
    """The node's own log held in memory, signed with `key`."""

    def __init__(self, key: SigningKey) -> None:
        self._key = key
        self._signer = log_signer(key)
        self.log_id: LogId = key.party_id
        self.origin = self._signer.name
        self.vkey = self._signer.vkey
        self._entries: list[Entry] = []
        self._ids: dict[str, int] = {}
        self._nonces: dict[str, int] = {}
        self._tree = MemoryTree()
        self._checkpoint = b""

    @property
    def size(self) -> int:
        return self._tree.size

    def init_log(self, genesis: Genesis, now: datetime) -> AppendResult:
        if self._entries:
            raise UsageError(f"log {self.log_id} already exists in this database")
        body = genesis.body(self._key.public.to_b64())
        return self._append([EntryDraft("log.genesis", body)], now, None)

    def append(
        self, drafts: Sequence[EntryDraft], now: datetime, check: Check | None = None
    ) -> AppendResult:
        if not drafts:
            raise UsageError("there is nothing to append")
        if not self._entries:
            raise NotFoundError(f"log {self.log_id} does not exist yet: run `rdh init`")
        return self._append(drafts, now, check)

    def _append(
        self, drafts: Sequence[EntryDraft], now: datetime, check: Check | None
    ) -> AppendResult:
        entries = build_entries(self.log_id, self.size, drafts, format_time(now))
        nonces = statement_nonces(entries)
        for nonce in nonces:
            if nonce in self._nonces:
                raise nonce_reused(nonce, self._nonces[nonce])
        if check is not None:
            check(entries)
        # Nothing can fail from here on: commit.
        self._nonces.update(nonces)
        for entry in entries:
            self._ids[entry.id] = entry.seq
            self._entries.append(entry)
        self._tree.extend(leaf_hash(entry.to_bytes()) for entry in entries)
        checkpoint = Checkpoint(origin=self.origin, size=self.size, root=self._tree.root())
        self._checkpoint = sign_checkpoint(checkpoint, self._signer)
        return AppendResult(entries=entries, checkpoint=self._checkpoint)

    def checkpoint(self) -> bytes:
        if not self._checkpoint:
            raise NotFoundError(f"log {self.log_id} has no signed checkpoint")
        return self._checkpoint

    def entry(self, seq: int) -> StoredEntry:
        if not 0 <= seq < len(self._entries):
            raise NotFoundError(f"log {self.log_id} has no entry {seq}")
        entry = self._entries[seq]
        return StoredEntry(
            seq=seq, id=EntryId(entry.id), type=entry.type, time=entry.time, data=entry.to_bytes()
        )

    def entry_by_id(self, entry_id: str) -> StoredEntry:
        if entry_id not in self._ids:
            raise NotFoundError(f"log {self.log_id} has no entry {entry_id}")
        return self.entry(self._ids[entry_id])

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise NotFoundError(f"log {self.log_id} has {self.size} entries, not {size}")

    def inclusion_proof(self, index: int, size: int) -> list[Hash]:
        self._check_size(size)
        if not 0 <= index < size:
            raise NotFoundError(f"log {self.log_id} has no entry {index} in a tree of {size}")
        return self._tree.inclusion_proof(index, size)

    def consistency_proof(self, old_size: int, new_size: int) -> list[Hash]:
        self._check_size(new_size)
        if not 0 <= old_size <= new_size:
            raise NotFoundError(f"no consistency proof from size {old_size} to {new_size}")
        return self._tree.consistency_proof(old_size, new_size)
