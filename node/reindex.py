"""`rdh reindex`: rebuild everything the database derives from the stored entry bytes.

The entry bytes and the signed checkpoint notes are the source of truth (DESIGN §2.10).
Everything else is rebuilt here, for every stored log, in one write transaction:

- the entries' index columns (`id`, `type`, `time`) from their bytes;
- the hash tiles: every full tile, and the partial tiles of the last signed size (they serve
  every earlier size);
- the log head (`logs.size`, `logs.root`) from the last signed checkpoint;
- the statement nonces of the node's own log (replay protection).

Nothing is written unless the entries reproduce the root of every signed checkpoint of their
log, in order (a changed entry, a gap or a missing entry is a `StoreMismatch` and the
transaction is rolled back): reindexing can repair damaged indexes and tiles, never turn
damaged entries into a tree the node would sign. The contract state is not stored (each
process folds the entries when it starts, `node.projection`); the report counts the rule
violations and pending entries that fold finds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from ledger.checkpoint import open_checkpoint
from ledger.entry import Entry
from ledger.errors import LedgerError
from ledger.merkle import leaf_hash
from ledger.note import NoteVerifier
from ledger.tiles import TileBuilder, TileRef
from ledger.types import LogId
from node.db.engine import WRITE_LOCK
from node.db.models import CheckpointRow, EntryRow, LogRow, NonceRow, TileRow
from node.errors import StoreMismatch
from node.projection import Projection

__all__ = ["LogReport", "ReindexReport", "reindex"]

_BATCH = 2000
#: Called with (log id, entries done, entries in the log) as the rebuild goes.
Progress = Callable[[str, int, int], None]


@dataclass(slots=True)
class LogReport:
    log: str
    entries: int = 0
    checkpoints: int = 0
    tiles: int = 0
    nonces: int = 0
    fixed_index_rows: int = 0


@dataclass(slots=True)
class ReindexReport:
    logs: list[LogReport] = field(default_factory=list)
    violations: int = 0
    pending: int = 0


def reindex(sessions: sessionmaker[Session], *, progress: Progress | None = None) -> ReindexReport:
    """Rebuild the derived tables of every stored log (see module doc)."""
    report = ReindexReport()
    with sessions.begin() as session:
        session.connection(execution_options={WRITE_LOCK: True})
        logs = session.execute(select(LogRow).order_by(LogRow.id).with_for_update()).scalars()
        for log in list(logs):
            report.logs.append(_reindex_log(session, log, progress))
    projection = Projection()
    with projection.view(sessions):
        report.violations = len(projection.fold.violations)
        report.pending = len(projection.fold.pending)
    return report


def _checkpoints(session: Session, log: LogRow) -> list[tuple[int, bytes, bytes]]:
    """(size, root, note) of every signed checkpoint of the log, verified, by size."""
    verifier = NoteVerifier.from_vkey(log.vkey)
    rows = session.execute(
        select(CheckpointRow).where(CheckpointRow.log_id == log.id).order_by(CheckpointRow.size)
    ).scalars()
    out: list[tuple[int, bytes, bytes]] = []
    for row in rows:
        try:
            cp = open_checkpoint(row.note, verifier=verifier).checkpoint
        except LedgerError as e:
            raise StoreMismatch(
                f"the signed checkpoint of size {row.size} of log {log.id} does not verify ({e}); "
                "restore the latest database backup"
            ) from e
        if (cp.size, cp.root) != (row.size, row.root):
            raise StoreMismatch(f"the checkpoints table of log {log.id} disagrees with its notes")
        out.append((cp.size, cp.root, row.note))
    if not out:
        raise StoreMismatch(f"log {log.id} has no signed checkpoint: nothing to rebuild from")
    return out


def _reindex_log(session: Session, log: LogRow, progress: Progress | None) -> LogReport:
    log_id = LogId(log.id)
    report = LogReport(log=log_id)
    checkpoints = _checkpoints(session, log)
    report.checkpoints = len(checkpoints)
    last_size, last_root, _ = checkpoints[-1]
    session.execute(delete(TileRow).where(TileRow.log_id == log_id))
    if log.local:
        session.execute(delete(NonceRow).where(NonceRow.log_id == log_id))
    builder = TileBuilder()
    tiles: list[tuple[TileRef, bytes]] = []
    nonces: list[dict[str, object]] = []
    pending_checkpoints = [(size, root) for size, root, _ in checkpoints if size]
    for seq, stored_id, stored_type, stored_time, data in _entries(session, log_id):
        if seq != builder.size:
            raise StoreMismatch(
                f"log {log_id} has no entry {builder.size} (next stored: {seq}); the entries "
                "cannot be reindexed: restore the latest database backup"
            )
        try:
            entry = Entry.from_bytes(data)
        except LedgerError as e:
            raise StoreMismatch(f"entry {seq} of log {log_id} cannot be read: {e}") from e
        leaf = leaf_hash(data)
        if entry.log != log_id or entry.seq != seq:
            raise StoreMismatch(
                f"entry {seq} of log {log_id} names log {entry.log} seq {entry.seq}"
            )
        if (stored_id, stored_type, stored_time) != (leaf.hex(), entry.type, entry.time):
            session.execute(
                update(EntryRow)
                .where(EntryRow.log_id == log_id, EntryRow.seq == seq)
                .values(id=leaf.hex(), type=entry.type, time=entry.time)
            )
            report.fixed_index_rows += 1
        if log.local:
            nonces.extend(
                {"log_id": log_id, "nonce": s.statement.nonce, "seq": seq} for s in entry.signed
            )
        tiles.extend(builder.append(leaf))
        while pending_checkpoints and pending_checkpoints[0][0] == builder.size:
            size, root = pending_checkpoints.pop(0)
            if builder.root() != root:
                raise StoreMismatch(
                    f"the stored entries of log {log_id} do not reproduce its signed checkpoint "
                    f"of size {size}: some entry bytes were changed; restore the latest "
                    "database backup (nothing was rebuilt)"
                )
        if len(tiles) >= _BATCH:
            report.tiles += _write_tiles(session, log_id, tiles)
        if len(nonces) >= _BATCH:
            session.execute(insert(NonceRow), nonces)
            report.nonces += len(nonces)
            nonces.clear()
        if progress is not None and builder.size % _BATCH == 0:
            progress(log_id, builder.size, last_size)
    if builder.size != last_size or pending_checkpoints:
        raise StoreMismatch(
            f"log {log_id} holds {builder.size} entries but its last signed checkpoint is for "
            f"{last_size}; restore the latest database backup (nothing was rebuilt)"
        )
    tiles.extend(builder.finish())  # the partial tiles of the last size serve every earlier one
    report.tiles += _write_tiles(session, log_id, tiles)
    if nonces:
        session.execute(insert(NonceRow), nonces)
        report.nonces += len(nonces)
    log.size, log.root = last_size, last_root
    report.entries = builder.size
    if progress is not None:
        progress(log_id, builder.size, last_size)
    return report


def _entries(session: Session, log_id: str) -> Iterator[tuple[int, str, str, str, bytes]]:
    """Every stored entry row of the log by seq, read in chunks (the loop writes meanwhile)."""
    after = -1
    while True:
        rows = session.execute(
            select(EntryRow.seq, EntryRow.id, EntryRow.type, EntryRow.time, EntryRow.data)
            .where(EntryRow.log_id == log_id, EntryRow.seq > after)
            .order_by(EntryRow.seq)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            yield row.seq, row.id, row.type, row.time, row.data
        after = rows[-1].seq


def _write_tiles(session: Session, log_id: str, tiles: list[tuple[TileRef, bytes]]) -> int:
    """Insert the tiles (full ones as they complete, the last size's partial ones at the
    end) and empty the list; return how many were inserted."""
    rows = {(ref.level, ref.index, ref.width): data for ref, data in tiles}
    tiles.clear()
    if not rows:
        return 0
    session.execute(
        insert(TileRow),
        [
            {"log_id": log_id, "level": level, "index": index, "width": width, "data": data}
            for (level, index, width), data in rows.items()
        ],
    )
    return len(rows)
