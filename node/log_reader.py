"""Reading one stored log: entries, tiles, entry bundles, checkpoints and Merkle proofs.

`LogReader(session, log_id)` serves everything from the stored rows, inside the caller's
transaction: entry bytes from `entries`, hashes from `tiles` (through
`ledger.tiles.tile_hash_at`, so proofs cost O(log n) tile reads, never a pass over the
entries) and signed notes from `checkpoints`. A partial tile of any width is served from
the narrowest stored tile of the same level and index that is at least as wide: its first
hashes are the same. The write path (`node.store`) uses it to resume and prove its tree.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from ledger.merkle import HASH_SIZE, HashAt, consistency_proof, inclusion_proof, tree_hash
from ledger.tiles import TILE_WIDTH, SubtreeKey, TileRef, encode_entry_bundle, tile_hash_at
from ledger.types import EntryId, Hash, LogId
from node.db.driver import Sql
from node.db.models import (
    CheckpointRow,
    EntryRow,
    LogRow,
    TileRow,
    entry_row,
)
from node.errors import NotFoundError, StoreMismatch
from node.own_log import StoredEntry
from node.tile_cache import TileCache

__all__ = ["LogReader", "StoredCheckpoint"]


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A stored signed checkpoint note with its (indexed) size and root."""

    size: int
    root: Hash
    note: bytes


#: The narrowest stored tile of (log, level, index) at least `width` wide. Built once: building
#: a select per tile read cost more than the read itself (benchmarks/proof_bench.py).
_TILE_QUERY = (
    select(TileRow.width, TileRow.data)
    .where(
        TileRow.log_id == bindparam("log_id"),
        TileRow.level == bindparam("level"),
        TileRow.index == bindparam("index"),
        TileRow.width >= bindparam("width"),
    )
    .order_by(TileRow.width)
    .limit(1)
)


#: Storing tiles (`LogReader.write_tiles`; `node.db.driver.Sql` statements). A tile already
#: stored (same level, index, width) is left as it is: a partial tile of an upper level often
#: stays the same over many tree sizes.
_INSERT_TILE = (
    'INSERT INTO tiles (log_id, level, "index", width, data) VALUES (?, ?, ?, ?, ?)'
    " ON CONFLICT DO NOTHING"
)
#: The narrower partial tiles a stored tile replaces: a tile of width W serves every narrower
#: width of its place (`read_tile`; docs/adr/0004-node-storage-and-write-path.md).
_DROP_NARROWER_TILES = (
    'DELETE FROM tiles WHERE log_id = ? AND level = ? AND "index" = ? AND width < ?'
)


class LogReader:
    """Read access to one log's rows inside an open session."""

    def __init__(
        self,
        session: Session,
        log_id: LogId,
        cache: TileCache | None = None,
        roots: MutableMapping[SubtreeKey, Hash] | None = None,
    ) -> None:
        self.session = session
        self.log_id = log_id
        self._cache = cache
        self._roots = roots  # see `ledger.tiles.tile_hash_at`

    def log(self) -> LogRow:
        """The log's row, or `NotFoundError`."""
        row = self.session.get(LogRow, self.log_id)
        if row is None:
            raise NotFoundError(f"log {self.log_id} is not stored on this node")
        return row

    # -- checkpoints ---------------------------------------------------------------------

    def checkpoint(self, size: int | None = None) -> StoredCheckpoint:
        """The last signed checkpoint, or the one of tree `size`; `NotFoundError` if none."""
        query = select(CheckpointRow).where(CheckpointRow.log_id == self.log_id)
        if size is None:
            query = query.order_by(CheckpointRow.size.desc()).limit(1)
        else:
            query = query.where(CheckpointRow.size == size)
        row = self.session.execute(query).scalar_one_or_none()
        if row is None:
            what = "signed checkpoint" if size is None else f"signed checkpoint of size {size}"
            raise NotFoundError(f"log {self.log_id} has no {what}")
        return StoredCheckpoint(size=row.size, root=Hash(row.root), note=row.note)

    # -- entries ---------------------------------------------------------------------------

    def entry(self, seq: int) -> StoredEntry:
        """Entry `seq`, or `NotFoundError`."""
        row = self.session.get(EntryRow, (self.log_id, seq))
        if row is None:
            raise NotFoundError(f"log {self.log_id} has no entry {seq}")
        return _stored(row)

    def entry_by_id(self, entry_id: str) -> StoredEntry:
        """The entry with id `entry_id`, or `NotFoundError`."""
        row = entry_row(self.session, entry_id, self.log_id)
        if row is None:
            raise NotFoundError(f"log {self.log_id} has no entry {entry_id}")
        return _stored(row)

    def entry_count(self) -> tuple[int, int]:
        """`(number of stored entries, highest seq + 1)`: equal when there is no gap."""
        query = select(func.count(), func.max(EntryRow.seq)).where(EntryRow.log_id == self.log_id)
        count, top = self.session.execute(query).one()
        return int(count), 0 if top is None else int(top) + 1

    def entry_data(self, start: int, stop: int) -> list[bytes]:
        """The bytes of entries `[start, stop)`, in order; `NotFoundError` if one is missing."""
        query = (
            select(EntryRow.seq, EntryRow.data)
            .where(EntryRow.log_id == self.log_id, EntryRow.seq >= start, EntryRow.seq < stop)
            .order_by(EntryRow.seq)
        )
        rows = self.session.execute(query).all()
        if len(rows) != stop - start or (rows and rows[0][0] != start):
            raise NotFoundError(f"log {self.log_id} lacks some of entries {start} to {stop - 1}")
        return [data for _, data in rows]

    def entry_bundle(self, index: int, width: int = TILE_WIDTH) -> bytes:
        """The tlog-tiles entry bundle `index` holding `width` entries."""
        start = index * TILE_WIDTH
        return encode_entry_bundle(self.entry_data(start, start + width))

    # -- tiles and proofs --------------------------------------------------------------------

    def read_tile(self, ref: TileRef) -> bytes:
        """The `ref.width` hashes of hash tile `ref` (a `ledger.tiles.ReadTile`)."""
        if self._cache is None:
            return self._read_tile(ref)
        key = (self.log_id, ref.level, ref.index, ref.width)
        data = self._cache.get(key)
        if data is None:
            data = self._read_tile(ref)
            self._cache.put(key, data)
        return data

    def _read_tile(self, ref: TileRef) -> bytes:
        row = self.session.execute(
            _TILE_QUERY,
            {"log_id": self.log_id, "level": ref.level, "index": ref.index, "width": ref.width},
        ).first()
        if row is None:
            raise NotFoundError(f"log {self.log_id} has no stored tile {ref.path}")
        width, data = row
        if len(data) != width * HASH_SIZE:
            path = TileRef(ref.level, ref.index, width).path
            raise StoreMismatch(
                f"stored tile {path} of log {self.log_id} holds {len(data)} bytes, "
                f"not {width * HASH_SIZE}: the tiles table is damaged"
            )
        return bytes(data[: ref.width * HASH_SIZE])

    def tile(self, level: int, index: int, width: int = TILE_WIDTH) -> bytes:
        """Hash tile `level`/`index` holding `width` hashes, or `NotFoundError`."""
        return self.read_tile(TileRef(level, index, width))

    def write_tiles(self, tiles: Sequence[tuple[TileRef, bytes]]) -> None:
        """Store tiles and drop the narrower partial tiles of the same places (the wider one
        serves them: see `read_tile`). The write path and sync both store tiles here."""
        if not tiles:
            return
        sql, log_id = Sql(self.session), self.log_id
        sql.many(_INSERT_TILE, [(log_id, r.level, r.index, r.width, d) for r, d in tiles])
        sql.many(_DROP_NARROWER_TILES, [(log_id, r.level, r.index, r.width) for r, _ in tiles])

    def hash_at(self, size: int) -> HashAt:
        """The `ledger.merkle.HashAt` of the tree of `size` leaves, from the stored tiles."""
        return tile_hash_at(self.read_tile, size, roots=self._roots)

    def root(self, size: int) -> Hash:
        """The root of the tree of `size` leaves, from the stored tiles."""
        return tree_hash(size, self.hash_at(size))

    def inclusion_proof(self, index: int, size: int) -> list[Hash]:
        """The inclusion proof of leaf `index` in the tree of `size`, from the stored tiles."""
        return inclusion_proof(index=index, size=size, hash_at=self.hash_at(size))

    def consistency_proof(self, old_size: int, new_size: int) -> list[Hash]:
        """The consistency proof from tree `old_size` to `new_size`, from the stored tiles."""
        return consistency_proof(
            old_size=old_size, new_size=new_size, hash_at=self.hash_at(new_size)
        )


def _stored(row: EntryRow) -> StoredEntry:
    return StoredEntry(
        seq=row.seq, id=EntryId(row.id), type=row.type, time=row.time, data=bytes(row.data)
    )
