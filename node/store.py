"""The write path of the node's own log (DESIGN §2.4, §6): append, prove, sign, commit.

`LogStore` owns the local log in the database. `append` does one transaction per batch:

1. lock the log head (SQLite `BEGIN IMMEDIATE`; PostgreSQL `SELECT ... FOR UPDATE` on the
   log's row), so exactly one writer at a time assigns sequence numbers;
2. build the entries (canonical bytes, seq = leaf index); refuse statements with a bad
   signature, addressed to another log, or whose nonce the log already recorded
   (`NonceReused`); then run the optional `check` hook (the contract rules), which may raise
   `RuleRejected`: then nothing of that batch is stored;
3. record the nonces;
4. store the entry bytes, extend the hash tiles from the stored partial tiles;
5. prove, from the stored tiles, that the new tree extends the last stored signed
   checkpoint (`ledger.merkle.verify_consistency`); only then sign the new checkpoint;
6. store the checkpoint and commit. Acknowledged means durable.

`append_group` does the same for several independent batches in one transaction (group
commit, `node.writer`): each batch is checked on its own and refused alone, the accepted ones
share one checkpoint and one commit.

A writer remembers the head it committed last (note, size, root, tile builder) and the tiles
it read or wrote (`node.tile_cache`, filled only after commit): while the stored head is
still that note with that last entry, the next append verifies nothing again and reads no
tile back. A head written by anyone else (another process, a restored backup) is verified in
full. Checking the stored tree against the last checkpoint at start-up is `node.store_check`;
reading (entries, tiles, proofs) is `node.log_reader`. Contract rules are the caller's
(`check`); the clock is the caller's (`now`).
"""

from __future__ import annotations

import threading
from collections import ChainMap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ledger.checkpoint import Checkpoint, log_signer, open_checkpoint, sign_checkpoint
from ledger.entry import Entry
from ledger.errors import LedgerError
from ledger.keys import SigningKey
from ledger.merkle import EMPTY_ROOT, verify_consistency
from ledger.statement import format_time
from ledger.tiles import SubtreeKey, TileBuilder
from ledger.types import Hash
from node.db.driver import Sql
from node.db.engine import WRITE_LOCK
from node.db.models import EntryRow, LogRow
from node.errors import NotFoundError, RuleRejected, StoreMismatch, UsageError
from node.log_reader import LogReader
from node.own_log import (
    LOG_KINDS,
    AppendResult,
    Check,
    EntryDraft,
    Genesis,
    OwnLog,
    StoredEntry,
    build_entries,
    nonce_reused,
    statement_nonces,
)
from node.tile_cache import TileCache, TileKey

__all__ = [
    "LOG_KINDS",
    "AppendResult",
    "Check",
    "EntryDraft",
    "Genesis",
    "GroupCheck",
    "LogStore",
    "OwnLog",
]

# The write transaction's statements (`node.db.driver.Sql`: `?` marks, both databases).
#: The locked head: the log's size and root, its last checkpoint note, the id of its last entry.
_HEAD = (
    "SELECT l.size, l.root,"
    " (SELECT c.note FROM checkpoints c WHERE c.log_id = l.id ORDER BY c.size DESC LIMIT 1),"
    " (SELECT e.id FROM entries e WHERE e.log_id = l.id AND e.seq = l.size - 1)"
    " FROM logs l WHERE l.id = ?"
)
#: PostgreSQL: the same, locking the log's row until commit (SQLite locks with BEGIN IMMEDIATE).
_HEAD_FOR_UPDATE = _HEAD + " FOR UPDATE OF l"
_INSERT_ENTRY = "INSERT INTO entries (log_id, seq, id, type, time, data) VALUES (?, ?, ?, ?, ?, ?)"
_INSERT_NONCE = "INSERT INTO statement_nonces (log_id, nonce, seq) VALUES (?, ?, ?)"
_INSERT_CHECKPOINT = "INSERT INTO checkpoints (log_id, size, root, note) VALUES (?, ?, ?, ?)"
_MOVE_HEAD = "UPDATE logs SET size = ?, root = ? WHERE id = ?"

#: The rule check of batch `n` of a group (`LogStore.append_group`); raises to refuse it.
GroupCheck = Callable[[int, Sequence[Entry]], None]


@dataclass(frozen=True, slots=True)
class _Head:
    """The log's signed head before the append: what the new tree must extend."""

    size: int
    root: Hash = field(default=EMPTY_ROOT)
    #: the tile builder at this size, when this process wrote the head itself
    builder: TileBuilder | None = None


@dataclass(frozen=True, slots=True)
class _Known:
    """The head this process committed last: checkpoint note, size, root and tile builder.

    While the stored head is still exactly this note, the next append needs neither to
    verify it again nor to read the partial tiles back."""

    note: bytes
    size: int
    root: Hash
    builder: TileBuilder
    last_id: str


class _StagedTiles:
    """The write transaction's view of the tile cache and of the remembered subtree hashes:
    reads go through it, but what the transaction reads, writes or computes is kept only once
    it has committed."""

    #: most subtree hashes remembered (a few hundred bytes each); then they are forgotten
    MAX_ROOTS = 8192

    def __init__(self, cache: TileCache, roots: dict[SubtreeKey, Hash]) -> None:
        self._cache = cache
        self._staged: dict[TileKey, bytes] = {}
        self._roots = roots
        self.roots: ChainMap[SubtreeKey, Hash] = ChainMap({}, roots)

    def get(self, key: TileKey) -> bytes | None:
        return self._staged.get(key) or self._cache.get(key)

    def put(self, key: TileKey, data: bytes) -> None:
        self._staged[key] = data

    def commit(self) -> None:
        for key, data in self._staged.items():
            self._cache.put(key, data)
        if len(self._roots) > self.MAX_ROOTS:
            self._roots.clear()
        self._roots.update(self.roots.maps[0])


class LogStore:
    """The node's own log, signed with `key`, in the database behind `sessions`."""

    def __init__(self, sessions: sessionmaker[Session], key: SigningKey) -> None:
        self._sessions = sessions
        self._signer = log_signer(key)
        self._key = key
        self.log_id = key.party_id
        self.origin = self._signer.name
        self.vkey = self._signer.vkey
        self.tiles = TileCache()
        self._known: _Known | None = None
        self._pending_known: _Known | None = None
        self._staged: _StagedTiles | None = None
        #: perfect subtrees of committed tiles (`ledger.tiles.tile_hash_at`'s `roots`)
        self._roots: dict[SubtreeKey, Hash] = {}
        self._lock = threading.Lock()  # one append at a time per process (the state above)

    # -- writing -------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """One write transaction holding the database's (SQLite) write lock from its start."""
        with self._sessions.begin() as session:
            session.connection(execution_options={WRITE_LOCK: True})
            yield session

    def init_log(self, genesis: Genesis, now: datetime) -> AppendResult:
        """Create the log: seq 0 is its `log.genesis`, signed into checkpoint 1."""
        body = genesis.body(self._key.public.to_b64())
        exists = UsageError(f"log {self.log_id} already exists in this database")
        try:
            with self._write() as session:
                if session.get(LogRow, self.log_id) is not None:
                    raise exists
                log = LogRow(
                    id=self.log_id,
                    origin=self.origin,
                    vkey=self.vkey,
                    local=True,
                    size=0,
                    root=EMPTY_ROOT,
                )
                session.add(log)
                session.flush()
                genesis_draft = EntryDraft("log.genesis", body)
                return self._append(session, _Head(0), [genesis_draft], now)
        except IntegrityError as e:  # another process created it first (PostgreSQL)
            raise exists from e

    def append(
        self, drafts: Sequence[EntryDraft], now: datetime, check: Check | None = None
    ) -> AppendResult:
        """Append `drafts` as one batch in one transaction; see the module docstring."""
        if not drafts:
            raise UsageError("there is nothing to append")
        group_check = None if check is None else (lambda _n, entries: check(entries))
        outcome = self.append_group([drafts], now, group_check)[0]
        if isinstance(outcome, RuleRejected):
            raise outcome
        return outcome

    def append_group(
        self,
        batches: Sequence[Sequence[EntryDraft]],
        now: datetime,
        check: GroupCheck | None = None,
        *,
        locked: Callable[[Session], None] | None = None,
    ) -> list[AppendResult | RuleRejected]:
        """Group commit: append each batch that passes its checks, all in one transaction
        under one signed checkpoint; a refused batch gets its `RuleRejected` and takes no seq.

        `locked(session)` runs once the log head is locked, before any check (the caller's
        projection catches up there). `check(n, entries)` runs on batch `n` after its
        statements and nonces were checked; it may keep state about the batches it passed, so
        if this call raises, the caller must drop that state.
        """
        if any(not drafts for drafts in batches):
            raise UsageError("there is nothing to append")
        with self._lock:
            return self._append_locked(batches, now, check, locked)

    def _append_locked(
        self,
        batches: Sequence[Sequence[EntryDraft]],
        now: datetime,
        check: GroupCheck | None,
        locked: Callable[[Session], None] | None,
    ) -> list[AppendResult | RuleRejected]:
        staged = _StagedTiles(self.tiles, self._roots)
        self._staged, self._pending_known = staged, None
        try:
            with self._write() as session:
                sql = Sql(session)
                locked_head = sql.one(_HEAD_FOR_UPDATE if sql.postgres else _HEAD, (self.log_id,))
                if locked_head is None:
                    raise NotFoundError(f"log {self.log_id} does not exist yet: run `rdh init`")
                head = self._head(session, *locked_head)
                if locked is not None:
                    locked(session)
                outcomes = self._append_group(sql, head, batches, now, check)
        except BaseException:
            self._known = None  # the database may or may not hold what this process expects
            self._roots.clear()
            raise
        finally:
            self._staged = None
        staged.commit()
        pending = cast("_Known | None", self._pending_known)  # set by `_store`, if it ran
        if pending is not None:
            self._known = pending
        return outcomes

    def _append_group(
        self,
        sql: Sql,
        head: _Head,
        batches: Sequence[Sequence[EntryDraft]],
        now: datetime,
        check: GroupCheck | None,
    ) -> list[AppendResult | RuleRejected]:
        when = format_time(now)
        size = head.size
        outcomes: list[AppendResult | RuleRejected | None] = [None] * len(batches)
        accepted: list[tuple[int, tuple[Entry, ...]]] = []
        group_nonces: dict[str, int] = {}
        for n, drafts in enumerate(batches):
            try:
                entries = build_entries(self.log_id, size, drafts, when)
                nonces = statement_nonces(entries)
                self._check_nonces(sql, nonces, group_nonces)
                if check is not None:
                    check(n, entries)
            except RuleRejected as e:
                outcomes[n] = e
                continue
            group_nonces.update(nonces)
            accepted.append((n, entries))
            size += len(entries)
        if accepted:
            stored = [entry for _, entries in accepted for entry in entries]
            note = self._store(sql, head, stored, group_nonces)
            for n, entries in accepted:
                outcomes[n] = AppendResult(entries=entries, checkpoint=note)
        return [outcome for outcome in outcomes if outcome is not None]

    def _head(
        self, session: Session, size: int, root: bytes, note: bytes | None, last_id: str | None
    ) -> _Head:
        """The locked head (`size`, `root` of the log's row, the last stored checkpoint
        `note`, the id of entry `size - 1`): taken from memory if this process wrote it,
        else verified in full."""
        known = self._known
        if (
            known is not None
            and note is not None
            and bytes(note) == known.note
            and size == known.size
            and last_id == known.last_id
        ):
            return _Head(known.size, known.root, known.builder.copy())
        try:
            stored = LogReader(session, self.log_id).checkpoint()
            cp = open_checkpoint(stored.note, verifier=self._signer.verifier).checkpoint
        except (LedgerError, NotFoundError) as e:
            raise StoreMismatch(f"the last stored checkpoint cannot be used: {e}") from e
        if (cp.size, cp.root) != (stored.size, stored.root) or cp.size != size:
            raise StoreMismatch(
                f"the log head (size {size}) and the last signed checkpoint "
                f"(size {cp.size}) disagree; do not write to this database"
            )
        if cp.size:
            self._check_last_entry(LogReader(session, self.log_id), cp.size)
        return _Head(cp.size, cp.root)

    def _check_last_entry(self, reader: LogReader, size: int) -> None:
        """The last signed entry must be stored, and be the last leaf of the stored tiles."""
        last = reader.session.execute(
            select(EntryRow.id).where(EntryRow.log_id == self.log_id, EntryRow.seq == size - 1)
        ).scalar_one_or_none()
        try:
            matches = last is not None and bytes.fromhex(last) == reader.hash_at(size)(0, size - 1)
        except (LedgerError, NotFoundError):
            matches = False
        if not matches:
            raise StoreMismatch(
                f"entry {size - 1}, the last one signed, is missing or does not match the "
                "stored tiles; do not write to this database (see `rdh status`)"
            )

    def _append(
        self, session: Session, head: _Head, drafts: Sequence[EntryDraft], now: datetime
    ) -> AppendResult:
        sql = Sql(session)
        entries = build_entries(self.log_id, head.size, drafts, format_time(now))
        nonces = statement_nonces(entries)
        self._check_nonces(sql, nonces, {})
        return AppendResult(entries, self._store(sql, head, entries, nonces))

    def _store(
        self, sql: Sql, head: _Head, entries: Sequence[Entry], nonces: dict[str, int]
    ) -> bytes:
        """Store checked entries and their nonces, extend the tiles, prove, sign, move the
        log's head: the new checkpoint note."""
        log_id = self.log_id
        sql.many(_INSERT_NONCE, [(log_id, nonce, seq) for nonce, seq in nonces.items()])
        sql.many(
            _INSERT_ENTRY, [(log_id, e.seq, e.id, e.type, e.time, e.to_bytes()) for e in entries]
        )
        leaves = [Hash(bytes.fromhex(entry.id)) for entry in entries]  # ids are cached
        staged = self._staged
        reader = LogReader(
            sql.session,
            log_id,
            staged,  # type: ignore[arg-type]
            None if staged is None else staged.roots,
        )
        builder = head.builder
        if builder is None:
            try:
                builder = TileBuilder.from_tiles(head.size, reader.read_tile)
            except (LedgerError, NotFoundError) as e:
                raise StoreMismatch(
                    f"the stored tiles of size {head.size} cannot be read: {e}"
                ) from e
        written = [*builder.extend(leaves), *builder.finish()]
        reader.write_tiles(written)
        if staged is not None:
            for ref, data in written:
                staged.put((log_id, ref.level, ref.index, ref.width), data)
        size, root = builder.size, builder.root()
        self._prove(reader, head, size, root)
        note = sign_checkpoint(Checkpoint(origin=self.origin, size=size, root=root), self._signer)
        sql.run(_INSERT_CHECKPOINT, (log_id, size, root, note))
        sql.run(_MOVE_HEAD, (size, root, log_id))
        self._pending_known = _Known(note, size, root, builder.copy(), leaves[-1].hex())
        return note

    def _check_nonces(self, sql: Sql, nonces: dict[str, int], earlier: dict[str, int]) -> None:
        """Refuse a statement nonce this log recorded before, or earlier in this group."""
        for nonce in nonces:
            if nonce in earlier:
                raise nonce_reused(nonce, earlier[nonce])
        if not nonces:
            return
        marks = ", ".join("?" * len(nonces))
        replayed = sql.one(
            f"SELECT nonce, seq FROM statement_nonces WHERE log_id = ? AND nonce IN ({marks})",  # noqa: S608
            (self.log_id, *nonces),
        )
        if replayed is not None:
            raise nonce_reused(*replayed)

    def _prove(self, reader: LogReader, head: _Head, size: int, root: Hash) -> None:
        """Never sign a non-extension: the stored tiles must prove `head` -> (size, root)."""
        try:
            proof = reader.consistency_proof(head.size, size)
            verify_consistency(
                old_size=head.size, new_size=size, old_root=head.root, new_root=root, proof=proof
            )
        except (LedgerError, NotFoundError) as e:
            raise StoreMismatch(
                f"refusing to sign tree size {size}: the stored tree does not extend the last "
                f"signed checkpoint (size {head.size}): {e}"
            ) from e

    @property
    def key(self) -> SigningKey:
        """The log's signing key (the node signs its own statements with it)."""
        return self._key

    # -- reading -------------------------------------------------------------------------

    @contextmanager
    def reader(self) -> Iterator[LogReader]:
        """A `LogReader` of this log inside one read transaction (a consistent view)."""
        with self._sessions.begin() as session:
            yield LogReader(session, self.log_id, self.tiles)

    def checkpoint(self) -> bytes:
        """The last signed checkpoint note."""
        with self.reader() as reader:
            return reader.checkpoint().note

    @property
    def size(self) -> int:
        """The tree size of the last signed checkpoint."""
        with self.reader() as reader:
            return reader.log().size

    def entry(self, seq: int) -> StoredEntry:
        with self.reader() as reader:
            return reader.entry(seq)

    def entry_by_id(self, entry_id: str) -> StoredEntry:
        with self.reader() as reader:
            return reader.entry_by_id(entry_id)

    def tile(self, level: int, index: int, width: int) -> bytes:
        with self.reader() as reader:
            return reader.tile(level, index, width)

    def entry_bundle(self, index: int, width: int) -> bytes:
        with self.reader() as reader:
            return reader.entry_bundle(index, width)

    def inclusion_proof(self, index: int, size: int) -> list[Hash]:
        with self.reader() as reader:
            _check_size(reader, size)
            if not 0 <= index < size:
                raise NotFoundError(f"log {self.log_id} has no entry {index} in a tree of {size}")
            return reader.inclusion_proof(index, size)

    def consistency_proof(self, old_size: int, new_size: int) -> list[Hash]:
        with self.reader() as reader:
            _check_size(reader, new_size)
            if not 0 <= old_size <= new_size:
                raise NotFoundError(f"no consistency proof from size {old_size} to {new_size}")
            return reader.consistency_proof(old_size, new_size)


def _check_size(reader: LogReader, size: int) -> None:
    current = reader.log().size
    if not 0 <= size <= current:
        raise NotFoundError(f"log {reader.log_id} has {current} entries, not {size}")
