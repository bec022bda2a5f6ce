"""Pulling logs from peers over C2SP tlog-tiles, verifying everything before storing it.

For each peer not backed off, `Syncer.sync_peer` reads `GET /logs` (every log's key is
checked against its id) and then, for every log but the node's own, `sync_log`:

1. `GET /logs/<id>/checkpoint`; the log's signature must verify (else: `PeerFault`).
2. Against the tree this node holds (size s, root r): a smaller or equal checkpoint must
   match the stored tree (else it is equivocation evidence: two signed checkpoints, no
   consistency between them); a larger one of size N is read as tiles:
3. the hash tiles of tree N are verified top-down, like Go's `tlog.TileHashReader`: the
   right-edge (partial) tiles must rebuild the signed root, and every full tile must hash
   to its entry in its (verified) parent tile. A tile that fails is a `PeerFault`.
4. The verified tiles give the root at s: it must be r (else: evidence, see 2).
5. Entry bundles from s on: every entry must hash to its level-0 tile hash (else:
   `PeerFault`), be a well-formed entry of this log at its seq (else the log itself is
   malformed: nothing more of it is stored), and its statements are checked (a bad one is
   stored and flagged, as are contract-rule violations, found by the projection).
6. Entries are committed in batches (`batch_entries`) together with their full level-0
   tiles, while the log's head stays at s and the target checkpoint is kept in
   `sync_targets`; the last batch stores the remaining tiles and the checkpoint, moves the
   head to N and cosigns it as this node's witness (`node.witness`). An interrupted sync
   resumes after the last committed batch (the stored entries are checked against the new
   target's tiles first). Each commit locks the log's row and checks that nobody else moved
   it meanwhile, so two syncs (scheduler and `rdh sync`) never interleave.

A peer that serves data that does not verify is backed off and reported (`node.peers`);
nothing it sent is kept (the batch being verified is never committed). Then the peer's
`GET /evidence` is pulled (`node.evidence_store`). Nodes serve every log they mirror, so
logs and evidence spread transitively.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger.checkpoint import open_checkpoint
from ledger.errors import LedgerError
from ledger.merkle import EMPTY_ROOT, HASH_SIZE, root, tree_hash
from ledger.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    TileRef,
    entries_path,
    tile_hash_at,
    tiles_for_size,
)
from ledger.types import Hash, LogId
from node.db.bulk import EntryValues, insert_entries
from node.db.engine import WRITE_LOCK
from node.db.models import CheckpointRow, EntryRow, LogRow, SyncTargetRow
from node.errors import NodeError, NotFoundError
from node.evidence_store import pull_evidence, record_evidence
from node.local_node import LocalNode
from node.log_reader import LogReader
from node.peers import (
    HttpTransport,
    PeerError,
    PeerFault,
    PeerInfo,
    PeerLog,
    Transport,
    check_log_vkey,
    due_peers,
    get_ok,
    list_peers,
    peer_logs,
    record_failure,
    record_success,
)
from node.projection import Projection
from node.sync_check import BadEntry, BundleFault, BundleTask, Checked, check_bundle
from node.witness import NodeWitness

__all__ = ["DEFAULT_BATCH", "LogOutcome", "PeerOutcome", "SyncReport", "Syncer"]

log = logging.getLogger("rdh.sync")

MAX_CHECKPOINT_BYTES = 64 << 10
MAX_TILE_BYTES = TILE_WIDTH * HASH_SIZE
MAX_BUNDLE_BYTES = TILE_WIDTH * (2 + 0xFFFF)
DEFAULT_BATCH = 4096
#: Threads fetching entry bundles ahead of the verification.
_FETCHERS = 3
#: Entry bundles fetched ahead (bounded memory: at most this many bundles held).
_AHEAD = 8


class _Moved(NodeError):  # noqa: N818 (what happened)
    """Someone else (another sync) changed the log meanwhile: stop this log this round."""


class _Malformed(NodeError):  # noqa: N818 (what happened)
    """The log itself holds an entry that is not a valid entry (not the peer's fault)."""


@dataclass(slots=True)
class LogOutcome:
    """What syncing one log from one peer did."""

    log_id: str
    before: int
    after: int
    status: str  # synced, current, behind, fork, busy, malformed, absent
    flagged: list[str] = field(default_factory=list)


@dataclass(slots=True)
class PeerOutcome:
    """What syncing from one peer did; `error` is set when it failed (and was backed off)."""

    url: str
    logs: list[LogOutcome] = field(default_factory=list)
    evidence: int = 0
    error: str | None = None
    fault: bool = False


@dataclass(slots=True)
class SyncReport:
    peers: list[PeerOutcome] = field(default_factory=list)

    @property
    def entries(self) -> int:
        return sum(o.after - o.before for p in self.peers for o in p.logs)


class _PeerTiles:
    """The hash tiles of the peer's tree of `size`, each verified before use (module doc)."""

    def __init__(self, fetch: Callable[[TileRef], bytes], size: int, signed_root: Hash) -> None:
        self._fetch = fetch
        self.size = size
        self._tiles: dict[TileRef, bytes] = {}
        self._verified: set[TileRef] = set()
        raw: dict[TileRef, bytes] = {}

        def read_raw(ref: TileRef) -> bytes:
            if ref not in raw:
                raw[ref] = self._get(ref)
            return raw[ref]

        if tree_hash(size, tile_hash_at(read_raw, size)) != signed_root:
            raise PeerFault(f"the hash tiles do not rebuild the signed root of tree size {size}")
        self._tiles.update(raw)
        self._verified.update(raw)  # every right-edge tile, bound by the root

    def _get(self, ref: TileRef) -> bytes:
        data = self._fetch(ref)
        if len(data) != ref.width * HASH_SIZE:
            raise PeerFault(f"{ref.path} has {len(data)} bytes, not {ref.width * HASH_SIZE}")
        return data

    def ref(self, level: int, index: int) -> TileRef:
        count = self.size >> (TILE_HEIGHT * level)
        return TileRef(level, index, min(TILE_WIDTH, count - index * TILE_WIDTH))

    def read(self, ref: TileRef, fetched: bytes | None = None) -> bytes:
        """Tile `ref`, verified (`fetched`: its bytes, if already fetched)."""
        if ref in self._verified:
            return self._tiles[ref]
        if ref.is_partial:
            raise PeerFault(f"{ref.path} is not a tile of tree size {self.size}")
        if fetched is not None and len(fetched) != ref.width * HASH_SIZE:
            raise PeerFault(f"{ref.path} has {len(fetched)} bytes, not {ref.width * HASH_SIZE}")
        data = self._get(ref) if fetched is None else fetched
        parent = self.read(self.ref(ref.level + 1, ref.index // TILE_WIDTH))
        at = (ref.index % TILE_WIDTH) * HASH_SIZE
        hashes = [Hash(data[i : i + HASH_SIZE]) for i in range(0, len(data), HASH_SIZE)]
        if root(hashes) != parent[at : at + HASH_SIZE]:
            raise PeerFault(f"{ref.path} does not hash to its parent tile's hash")
        self._tiles[ref] = data
        self._verified.add(ref)
        return data

    def has(self, ref: TileRef) -> bool:
        """Whether tile `ref` is verified already (thread-safe enough: a set lookup)."""
        return ref in self._verified

    def forget(self, ref: TileRef) -> None:
        """Drop a level-0 tile once stored (the upper levels stay: they are few)."""
        if ref.level == 0 and not ref.is_partial:
            self._tiles.pop(ref, None)
            self._verified.discard(ref)

    def hash_at(self) -> Callable[[int, int], Hash]:
        return tile_hash_at(self.read, self.size)


class Syncer:
    """Pulls every log its peers serve into `node` (see the module docstring)."""

    def __init__(
        self,
        node: LocalNode,
        *,
        clock: Callable[[], datetime],
        transport: Transport | None = None,
        projection: Projection | None = None,
        batch_entries: int = DEFAULT_BATCH,
        workers: int = 1,
    ) -> None:
        self.node = node
        self.clock = clock
        self.transport: Transport = transport or HttpTransport()
        self.projection = projection
        self.batch_bundles = max(1, batch_entries // TILE_WIDTH)
        self.witness = NodeWitness(node, clock)
        self.own = node.store.log_id
        # entry checks fan out to spawned processes (safe in a process running threads)
        self._pool = (
            ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
            if workers > 1
            else None
        )

    def close(self) -> None:
        """Close the transport's connections and the worker processes."""
        self.transport.close()
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Syncer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- peers -----------------------------------------------------------------------------

    def sync_all(self, *, force: bool = False) -> SyncReport:
        """Sync from every peer (that is not backed off, unless `force`)."""
        sessions = self.node.sessions
        now = int(self.clock().timestamp())
        peers = list_peers(sessions) if force else due_peers(sessions, now)
        return SyncReport([self.sync_peer(peer) for peer in peers])

    def sync_peer(self, peer: PeerInfo) -> PeerOutcome:
        outcome = PeerOutcome(peer.url)
        try:
            for plog in peer_logs(self.transport, peer.url):
                if plog.id != self.own:
                    outcome.logs.append(self.sync_log(peer.url, plog))
            outcome.evidence = pull_evidence(self.node.sessions, self.transport, peer.url)
        except (PeerError, LedgerError) as e:
            outcome.error = str(e)
            outcome.fault = not isinstance(e, PeerError) or isinstance(e, PeerFault)
            delay = record_failure(self.node.sessions, peer.id, self.clock(), str(e))
            level = logging.WARNING if outcome.fault else logging.INFO
            what = "served data that does not verify" if outcome.fault else "failed"
            log.log(level, "peer %s %s: %s (next try in %d s)", peer.url, what, e, delay)
            return outcome
        record_success(self.node.sessions, peer.id, self.clock())
        return outcome

    # -- one log -----------------------------------------------------------------------------

    def sync_log(self, base_url: str, plog: PeerLog) -> LogOutcome:
        verifier = check_log_vkey(plog.id, plog.vkey)
        prefix = f"{base_url}/logs/{plog.id}"
        try:
            note = get_ok(self.transport, f"{prefix}/checkpoint", limit=MAX_CHECKPOINT_BYTES)
        except NotFoundError:
            return LogOutcome(plog.id, 0, 0, "absent")
        try:
            cp = open_checkpoint(note, verifier=verifier).checkpoint
        except LedgerError as e:
            raise PeerFault(f"the checkpoint of log {plog.id} does not verify: {e}") from e
        ours: bytes | None = None
        with self.node.sessions.begin() as session:
            row = session.get(LogRow, plog.id)
            if row is not None and row.local:
                return LogOutcome(plog.id, row.size, row.size, "current")
            size = row.size if row is not None else 0
            our_root = Hash(row.root) if row is not None else EMPTY_ROOT
            if cp.size <= size:
                ours = self._compare(session, plog.id, cp.size, cp.root)
                if ours is None:
                    return LogOutcome(
                        plog.id, size, size, "current" if cp.size == size else "behind"
                    )
            target = session.get(SyncTargetRow, plog.id)
            target_note = bytes(target.note) if target is not None else None
            top = _top(session, plog.id)
        if cp.size <= size:
            self._evidence(plog.id, ours, note)
            return LogOutcome(plog.id, size, size, "fork")

        def fetch(ref: TileRef) -> bytes:
            return get_ok(self.transport, f"{prefix}/{ref.path}", limit=MAX_TILE_BYTES)

        tiles = _PeerTiles(fetch, cp.size, cp.root)
        if size and tree_hash(size, tiles.hash_at()) != our_root:
            self._evidence(plog.id, None, note)
            return LogOutcome(plog.id, size, size, "fork")
        start = size
        if top > size:
            if target_note is None or cp.size < top:
                return LogOutcome(plog.id, size, size, "busy")
            if not self._resume_matches(plog.id, size, top, tiles):
                self._evidence(plog.id, target_note, note)
                self._drop_progress(plog.id, size)
                return LogOutcome(plog.id, size, size, "fork")
            start = top
        outcome = LogOutcome(plog.id, size, size, "synced")
        try:
            self._pull(prefix, plog, size, start, note, tiles, outcome)
        except _Moved:
            outcome.status = "busy"
        except _Malformed as e:
            log.warning("log %s cannot be mirrored: %s", plog.id, e)
            outcome.status = "malformed"
            outcome.flagged.append(str(e))
        return outcome

    @staticmethod
    def _compare(session: Session, log_id: LogId, at: int, their: bytes) -> bytes | None:
        """A peer's checkpoint of a size this node holds must match the stored tree: None
        if it does, else the stored note to pair it with as evidence."""
        reader = LogReader(session, log_id)
        mine = reader.root(at) if at else EMPTY_ROOT
        if mine == their:
            return None
        try:
            return reader.checkpoint(at).note
        except NotFoundError:
            return reader.checkpoint().note

    def _evidence(self, log_id: LogId, ours: bytes | None, theirs: bytes) -> None:
        with self.node.sessions.begin() as session:
            session.connection(execution_options={WRITE_LOCK: True})
            if ours is None:
                ours = LogReader(session, log_id).checkpoint().note
            try:
                record_evidence(session, ours, theirs)
            except (LedgerError, NodeError) as e:
                log.info("not evidence: %s", e)

    def _resume_matches(self, log_id: LogId, size: int, top: int, tiles: _PeerTiles) -> bool:
        """The entries stored by an interrupted sync must be the new tree's leaves."""
        with self.node.sessions.begin() as session:
            ids = session.execute(
                select(EntryRow.seq, EntryRow.id)
                .where(EntryRow.log_id == log_id, EntryRow.seq >= size, EntryRow.seq < top)
                .order_by(EntryRow.seq)
            ).all()
        for seq, entry_id in ids:
            tile = tiles.read(tiles.ref(0, seq // TILE_WIDTH))
            at = (seq % TILE_WIDTH) * HASH_SIZE
            if tile[at : at + HASH_SIZE].hex() != entry_id:
                return False
        return True

    def _drop_progress(self, log_id: LogId, size: int) -> None:
        with self._locked(log_id, size) as session:
            session.execute(delete(EntryRow).where(EntryRow.log_id == log_id, EntryRow.seq >= size))
            session.execute(delete(SyncTargetRow).where(SyncTargetRow.log_id == log_id))

    # -- fetching and storing ------------------------------------------------------------

    def _pull(
        self,
        prefix: str,
        plog: PeerLog,
        size: int,
        start: int,
        note: bytes,
        tiles: _PeerTiles,
        outcome: LogOutcome,
    ) -> None:
        """Fetch, verify and commit the entries from `start` on, as a pipeline: entry
        bundles are fetched ahead by `_FETCHERS` threads, verified here in order, and each
        verified batch is committed by a writer thread while the next one is verified
        (SQLite and the network release the GIL). A failure stops the pipeline; the
        batches committed before it were fully verified."""
        target = tiles.size
        first = start // TILE_WIDTH
        last = (target - 1) // TILE_WIDTH
        with ThreadPoolExecutor(_FETCHERS) as fetchers, ThreadPoolExecutor(1) as writer:
            bundles = _ahead(fetchers, range(first, last + 1), partial(self._fetch, prefix, tiles))
            pending: Future[None] | None = None
            try:
                index = first
                while index <= last:
                    stop = min(last + 1, index + self.batch_bundles)
                    rows: list[EntryValues] = []
                    done: list[tuple[TileRef, bytes]] = []
                    tasks = []
                    for b in range(index, stop):
                        tile, data = next(bundles).result()
                        ref = tiles.ref(0, b)
                        hashes = tiles.read(ref, tile)
                        tasks.append(BundleTask(plog.id, b, start, hashes, data))
                        if not ref.is_partial:
                            done.append((ref, hashes))
                    for checked in self._map(tasks):
                        rows.extend(self._check_result(checked, outcome))
                    if pending is not None:
                        pending.result()
                    pending = writer.submit(self._commit, plog, size, start, rows, done, note)
                    for ref, _ in done:
                        tiles.forget(ref)
                    start += len(rows)
                    index = stop
                if pending is not None:
                    pending.result()
            finally:
                bundles.close()
        self._finish(plog, size, note, tiles)
        outcome.after = target
        self._check_rules(plog.id, size, target, outcome)

    def _fetch(self, prefix: str, tiles: _PeerTiles, index: int) -> tuple[bytes | None, bytes]:
        """Level-0 tile `index` (unless already verified) and entry bundle `index`."""
        ref = tiles.ref(0, index)
        tile = None
        if not tiles.has(ref):
            tile = get_ok(self.transport, f"{prefix}/{ref.path}", limit=MAX_TILE_BYTES)
        url = f"{prefix}/{entries_path(index, ref.width)}"
        return tile, get_ok(self.transport, url, limit=MAX_BUNDLE_BYTES)

    def _map(self, tasks: list[BundleTask]) -> Iterator[Future[Checked]]:
        """Check the bundles of a batch, in worker processes when there are enough."""
        if self._pool is None or len(tasks) < 2:
            for task in tasks:
                future: Future[Checked] = Future()
                try:
                    future.set_result(check_bundle(task))
                except Exception as e:
                    future.set_exception(e)
                yield future
            return
        yield from [self._pool.submit(check_bundle, task) for task in tasks]

    @staticmethod
    def _check_result(checked: Future[Checked], outcome: LogOutcome) -> list[EntryValues]:
        try:
            result = checked.result()
        except BundleFault as e:
            raise PeerFault(str(e)) from e
        except BadEntry as e:
            raise _Malformed(str(e)) from e
        outcome.flagged.extend(result.flagged)
        return result.rows

    @contextmanager
    def _locked(self, log_id: LogId, size: int) -> Iterator[Session]:
        """A write transaction holding the log's row, which must still be at `size`."""
        try:
            with self.node.sessions.begin() as session:
                session.connection(execution_options={WRITE_LOCK: True})
                row = session.execute(
                    select(LogRow).where(LogRow.id == log_id).with_for_update()
                ).scalar_one_or_none()
                if row is not None and (row.local or row.size != size):
                    raise _Moved(f"log {log_id} moved")
                yield session
        except IntegrityError as e:
            raise _Moved(f"log {log_id} was created meanwhile") from e

    def _commit(
        self,
        plog: PeerLog,
        size: int,
        start: int,
        rows: list[EntryValues],
        tiles: list[tuple[TileRef, bytes]],
        note: bytes,
    ) -> None:
        with self._locked(plog.id, size) as session:
            if session.get(LogRow, plog.id) is None:
                verifier = check_log_vkey(plog.id, plog.vkey)
                session.add(
                    LogRow(
                        id=plog.id,
                        origin=verifier.name,
                        vkey=plog.vkey,
                        local=False,
                        size=0,
                        root=EMPTY_ROOT,
                    )
                )
                session.flush()
            if _top(session, plog.id) != start:
                raise _Moved(f"log {plog.id} has other entries stored meanwhile")
            insert_entries(session, rows)
            LogReader(session, plog.id).write_tiles(tiles)
            self._set_target(session, plog.id, note)

    @staticmethod
    def _set_target(session: Session, log_id: LogId, note: bytes) -> None:
        from ledger.checkpoint import Checkpoint

        cp = Checkpoint.from_note(note)
        row = session.get(SyncTargetRow, log_id)
        if row is None:
            session.add(SyncTargetRow(log_id=log_id, size=cp.size, root=cp.root, note=note))
        else:
            row.size, row.root, row.note = cp.size, cp.root, note

    def _finish(self, plog: PeerLog, size: int, note: bytes, tiles: _PeerTiles) -> None:
        target = tiles.size
        with self._locked(plog.id, size) as session:
            if _top(session, plog.id) != target:
                raise _Moved(f"log {plog.id} has other entries stored meanwhile")
            refs = [r for r in tiles_for_size(target) if r.level > 0 or r.is_partial]
            reader = LogReader(session, plog.id)
            reader.write_tiles([(ref, tiles.read(ref)) for ref in refs])
            from ledger.checkpoint import Checkpoint

            cp = Checkpoint.from_note(note)
            if reader.root(target) != cp.root:  # the stored tiles must be the signed tree
                raise PeerFault(f"the stored tiles of log {plog.id} do not rebuild its root")
            cosigned = self.witness.cosign_mirrored(session, plog.id, note)
            existing = session.get(CheckpointRow, (plog.id, target))
            if existing is None:
                session.add(CheckpointRow(log_id=plog.id, size=target, root=cp.root, note=cosigned))
            row = session.get(LogRow, plog.id)
            assert row is not None
            row.size, row.root = target, cp.root
            session.execute(delete(SyncTargetRow).where(SyncTargetRow.log_id == plog.id))

    def _check_rules(self, log_id: LogId, before: int, after: int, outcome: LogOutcome) -> None:
        """Flag the contract-rule violations of the new entries (they stay stored)."""
        if self.projection is None:
            return
        with self.projection.lock:
            with self.node.sessions.begin() as session:
                self.projection.catch_up(session)
            for v in self.projection.violations():
                if v.log == log_id and before <= v.seq < after:
                    outcome.flagged.append(f"entry {v.seq}: {v.message} (rule {v.rule})")
        for item in outcome.flagged:
            log.warning("log %s (mirrored) breaks a rule: %s", log_id, item)


_Fetched = tuple[bytes | None, bytes]


def _ahead(
    pool: ThreadPoolExecutor, items: Iterable[int], fetch: Callable[[int], _Fetched]
) -> Generator[Future[_Fetched], None, None]:
    """`fetch(item)` for each item, in order, at most `_AHEAD` submitted ahead."""
    queue: list[Future[_Fetched]] = []
    try:
        for item in items:
            queue.append(pool.submit(fetch, item))
            if len(queue) > _AHEAD:
                yield queue.pop(0)
        while queue:
            yield queue.pop(0)
    finally:
        for future in queue:
            future.cancel()


def _top(session: Session, log_id: str) -> int:
    top = session.execute(select(func.max(EntryRow.seq)).where(EntryRow.log_id == log_id)).scalar()
    return 0 if top is None else int(top) + 1
