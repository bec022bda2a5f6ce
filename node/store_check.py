"""Start-up check: the stored tree must match the last signed checkpoint (DESIGN §2.4).

`verify_store(session)` runs before a node serves or writes anything. For every stored log
it opens the last signed checkpoint with the log's key and checks, in O(log n) reads, that
the entries, the log head and the hash tiles are exactly that tree; `full=True` also
rehashes every entry and, on SQLite, runs `PRAGMA quick_check` over the whole file (a damaged
page in an index or in free space is found there, not by reading the entries). Anything else
raises `StoreMismatch` with one sentence for the
operator: what is wrong, what it probably means, and that the node must not start (a node
that signed on top of a restored backup would equivocate).
"""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from ledger.checkpoint import open_checkpoint
from ledger.errors import LedgerError
from ledger.merkle import HASH_SIZE, leaf_hash
from ledger.note import NoteVerifier
from ledger.tiles import TileBuilder, TileRef
from ledger.types import LogId
from node.db.models import EntryRow, LogRow, SyncTargetRow, TileRow
from node.errors import NotFoundError, StoreMismatch
from node.log_reader import LogReader

__all__ = ["damaged", "verify_log", "verify_store"]

_DO_NOT_START = "do not start the node on this database"
_BATCH = 4096


def verify_store(session: Session, *, full: bool = False) -> None:
    """Check every stored log against its last signed checkpoint; `StoreMismatch` if not."""
    try:
        for log_id in session.execute(select(LogRow.id).order_by(LogRow.id)).scalars():
            verify_log(session, LogId(log_id), full=full)
        if full and session.get_bind().dialect.name == "sqlite":
            problems = [row[0] for row in session.execute(text("PRAGMA quick_check"))]
            if problems != ["ok"]:
                raise StoreMismatch(damaged(" ".join(" ".join(problems[:3]).split())))
    except DatabaseError as e:
        raise StoreMismatch(damaged(str(e.orig))) from e


def damaged(detail: str) -> str:
    """The operator's sentence for a database file that cannot be read."""
    return (
        f"the database is damaged ({detail}): restore it from a backup (then `rdh status`) "
        f"or rebuild it; {_DO_NOT_START}"
    )


def verify_log(session: Session, log_id: LogId, *, full: bool = False) -> None:
    """Check one log: checkpoint signature, entry count, log head, tiles (and entries)."""
    reader = LogReader(session, log_id)
    log = reader.log()
    # A mirrored log may hold entries above its checkpoint, up to the signed checkpoint that
    # `node.sync` is storing in batches (each batch was verified against that one's root).
    target = None if log.local else session.get(SyncTargetRow, log_id)
    try:
        stored = reader.checkpoint()
    except NotFoundError:
        if not log.local and log.size == 0:  # learned from a peer, first sync not finished
            count, top = reader.entry_count()
            if count == top and count <= (target.size if target else 0):
                return
        raise StoreMismatch(f"log {log_id} has no signed checkpoint; {_DO_NOT_START}") from None
    try:
        verifier = NoteVerifier.from_vkey(log.vkey)
        cp = open_checkpoint(stored.note, verifier=verifier).checkpoint
    except LedgerError as e:
        raise StoreMismatch(
            f"the last stored checkpoint of log {log_id} does not verify ({e}); {_DO_NOT_START}"
        ) from e
    if (cp.size, cp.root, cp.origin) != (stored.size, stored.root, log.origin):
        raise StoreMismatch(
            f"the checkpoints table of log {log_id} does not match its signed notes; "
            f"{_DO_NOT_START}"
        )
    count, top = reader.entry_count()
    if count != top:
        raise StoreMismatch(
            f"log {log_id} has gaps: {count} entries stored with seq up to {top - 1}; "
            f"restore the latest database backup; {_DO_NOT_START}"
        )
    if count < cp.size:
        raise StoreMismatch(
            f"the database holds {count} entries of log {log_id} but its last signed "
            f"checkpoint is for {cp.size}: it looks like a restored backup; restore the latest "
            f"database (with its -wal file) or re-sync the missing entries from a mirror; "
            f"{_DO_NOT_START}, or it would sign a checkpoint contradicting one it published"
        )
    if target is not None and cp.size < count <= target.size and log.size == cp.size:
        count = cp.size  # a sync in progress (see above)
    if count > cp.size or log.size != cp.size:
        raise StoreMismatch(
            f"the database holds {count} entries of log {log_id} (head {log.size}) but its last "
            f"signed checkpoint is for {cp.size}: the checkpoints table was rolled back or "
            f"damaged; restore the latest database; {_DO_NOT_START}"
        )
    _verify_tiles(reader, cp.size, cp.root, full=full)


def _verify_tiles(reader: LogReader, size: int, root: bytes, *, full: bool) -> None:
    where = f"the hash tiles of log {reader.log_id}"
    damaged = reader.session.execute(
        select(TileRow.level, TileRow.index, TileRow.width, func.length(TileRow.data))
        .where(
            TileRow.log_id == reader.log_id,
            func.length(TileRow.data) != TileRow.width * HASH_SIZE,
        )
        .limit(1)
    ).first()
    if damaged is not None:
        level, index, width, length = damaged
        raise StoreMismatch(
            f"stored tile {TileRef(level, index, width).path} of log {reader.log_id} holds "
            f"{length} bytes, not {width * HASH_SIZE}: {where} are damaged; run `rdh reindex` "
            f"or restore the latest database; {_DO_NOT_START}"
        )
    try:
        if reader.root(size) != root:
            raise StoreMismatch(
                f"{where} do not reproduce the root of its last signed checkpoint "
                f"(size {size}); run `rdh reindex` or restore the latest database; {_DO_NOT_START}"
            )
        if size and reader.hash_at(size)(0, size - 1) != leaf_hash(reader.entry(size - 1).data):
            raise StoreMismatch(
                f"the last entry of log {reader.log_id} does not match its hash tiles; "
                f"{_DO_NOT_START}"
            )
    except (LedgerError, NotFoundError) as e:
        raise StoreMismatch(f"{where} are incomplete or damaged ({e}); {_DO_NOT_START}") from e
    if full:
        _verify_entries(reader, size, root)


def _verify_entries(reader: LogReader, size: int, root: bytes) -> None:
    """Rehash every entry; the tiles they make must be the stored ones, byte for byte."""
    builder = TileBuilder()
    tiles: list[tuple[TileRef, bytes]] = []
    query = (
        select(EntryRow.data)
        .where(EntryRow.log_id == reader.log_id, EntryRow.seq < size)
        .order_by(EntryRow.seq)
        .execution_options(yield_per=_BATCH)
    )
    for data in reader.session.execute(query).scalars():
        tiles.extend(builder.append(leaf_hash(data)))
        if len(tiles) > _BATCH:
            _compare_tiles(reader, tiles)
    if builder.size != size or builder.root() != root:
        raise StoreMismatch(
            f"the stored entries of log {reader.log_id} do not hash to its last signed "
            f"checkpoint; some entry bytes were changed; {_DO_NOT_START}"
        )
    _compare_tiles(reader, [*tiles, *builder.finish()])


def _compare_tiles(reader: LogReader, tiles: list[tuple[TileRef, bytes]]) -> None:
    for ref, data in tiles:
        if reader.read_tile(ref) != data:
            raise StoreMismatch(
                f"stored tile {ref.path} of log {reader.log_id} is not the tile of its entries; "
                f"run `rdh reindex`; {_DO_NOT_START}"
            )
    tiles.clear()
