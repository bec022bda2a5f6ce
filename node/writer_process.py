"""The node's writes in a process of their own (`rdh serve`'s default; ADR 0007).

A server process runs under one GIL: request threads (HTTP) and the write path (the request
body read, entries built and rule-checked, tiles, SQL, the checkpoint signed) take turns on
one core. `WriterProcess` runs `NodeService.record` in a child process with its own
`NodeService`, `Writer` and `Projection`, so serving and writing use two cores. For the
server's `NodeService` it is the `Recorder` its `record` and `record_json` delegate to; a
batch write's body is handed over as bytes and read in the child (`node.drafts`).

The child is `python -m node.writer_process FD` (a fresh interpreter: nothing of the
server's threads or connections is inherited), FD its end of a socket pair over which both
sides send pickles (`multiprocessing.connection.Connection`). It gets the settings and the
node's key first (the key is never written anywhere; the passphrase is not sent), opens the
node (with the start-up check) and answers `ready`, or `failed` with the reason. Then it
loops: it takes every write `(id, kind, payload)` waiting in the pipe and records them with
`NodeService.record_batches`, grouped into as few commits as `Writer` allows (the group
commit of many concurrent writes, without threads), and sends back each outcome: the
`AppendResult` (as each entry's bytes, id, seq and type, and the checkpoint: they pickle
ten times faster than entries, and the server reads the rest of an entry from its bytes
only if it is asked for: `_Recorded`) or the exception (`RuleRejected`,
`RequestBodyError`, ...), which the waiting request thread raises. The child ignores SIGINT
and SIGTERM (a terminal's Ctrl-C reaches the whole process group): it stops when the server
closes the pipe, after the writes in progress, and so also when the server is killed.

If the child dies, the writes waiting for it get `WriterUnavailable` (HTTP 503; their
outcome is unknown: the transaction may have committed) and the next write starts a new
child. Nothing can be appended twice or signed as a non-extension: each commit is one
transaction under the log's lock, as with several server processes on one database.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ledger.entry import Entry
from ledger.keys import SigningKey
from ledger.types import EntryId, LogId
from node.errors import StoreError, WriterUnavailable
from node.local_node import open_node
from node.own_log import AppendResult, EntryDraft
from node.service import NodeService
from node.settings import Settings

__all__ = ["START_TIMEOUT", "WriterProcess"]

log = logging.getLogger("rdh.writer")

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
#: About how many entries the child takes from its pipe before it records them together.
_DRAIN = 5000
#: The child's heap is frozen after a write of this many entries, or after this many
#: seconds of smaller ones; and collected in full after this many idle seconds (`_Heap`).
_FREEZE_ENTRIES = 100
_FREEZE_EVERY = 0.1
_IDLE = 10.0
#: Seconds a write waits for a new child to open the node.
START_TIMEOUT = 120.0

#: An outcome as sent: an `AppendResult` as (log id, (bytes, id, seq, type) of each entry,
#: checkpoint), or the exception.
_Portable = tuple[LogId, list[tuple[bytes, EntryId, int, str]], bytes] | BaseException
#: The fields of a `_Recorded` entry read from its bytes when first asked for.
_LAZY = ("v", "time", "refs", "body", "signed")


@dataclass(slots=True)
class _Waiting:
    outcome: AppendResult | BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


class _Child:
    """One child process and the pipe to it; its reader thread hands out the outcomes."""

    def __init__(self, settings: Settings, key: SigningKey) -> None:
        ours, theirs = socket.socketpair()
        env = dict(os.environ)
        # the child imports this package from where the server did, installed or not
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(_PACKAGE_ROOT), env.get("PYTHONPATH")) if p
        )
        self.process = subprocess.Popen(  # noqa: S603 (this interpreter, this module)
            [sys.executable, "-m", "node.writer_process", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            env=env,
        )
        theirs.close()
        self.conn = Connection(ours.detach())
        self.lock = threading.Lock()  # one sender at a time; guards `waiting` and `failure`
        self.ready = threading.Event()
        self.failure: str | None = None
        self.waiting: dict[int, _Waiting] = {}
        self.next_id = 0
        self.conn.send((replace(settings, key_passphrase=None), key.seed()))
        threading.Thread(target=self._read, name="rdh-writer-outcomes", daemon=True).start()

    def _read(self) -> None:
        try:
            status, detail = self.conn.recv()
            if status != "ready":
                self._fail(str(detail))
                return
            self.ready.set()
            while True:
                request_id, outcome = self.conn.recv()
                with self.lock:
                    waiting = self.waiting.pop(request_id)
                waiting.outcome = _from_portable(outcome)
                waiting.done.set()
        except (EOFError, OSError):
            try:
                code: int | None = self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                code = None
            self._fail(
                "the node's writer process stopped"
                + (f" (exit code {code})" if code is not None else "")
            )

    def _fail(self, reason: str) -> None:
        with self.lock:
            self.failure = self.failure or reason
            waiting, self.waiting = self.waiting, {}
        self.ready.set()
        for w in waiting.values():
            w.outcome = WriterUnavailable(
                f"{reason} while this write was in progress: it may or may not have been "
                "stored (look for it before you send it again)"
            )
            w.done.set()

    def send(self, kind: str, payload: object) -> _Waiting:
        waiting = _Waiting()
        with self.lock:
            if self.failure is not None:
                raise WriterUnavailable(self.failure)
            self.next_id += 1
            self.waiting[self.next_id] = waiting
            try:
                self.conn.send((self.next_id, kind, payload))
            except OSError as e:  # the child is gone (the reader thread fails the others)
                del self.waiting[self.next_id]
                self.failure = f"the node's writer process stopped ({e.strerror or e})"
                raise WriterUnavailable(f"{self.failure}: nothing was stored") from e
        return waiting

    def close(self, timeout: float) -> None:
        with self.lock, contextlib.suppress(OSError):  # OSError: the child is gone already
            self.conn.send(None)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("the writer process did not stop within %.0f s: killing it", timeout)
            self.process.kill()
            self.process.wait()
        self.conn.close()


class WriterProcess:
    """`NodeService.record` and `record_json` run by a child process (see the module doc)."""

    def __init__(self, settings: Settings, key: SigningKey) -> None:
        self._settings = settings
        self._key = key
        self._lock = threading.Lock()
        self._child: _Child | None = None
        self._closed = False

    def start(self) -> None:
        """Start the child now (it opens the node in the background; writes wait for it)."""
        self._current()

    @property
    def pid(self) -> int | None:
        """The child's process id, if one was started."""
        child = self._child
        return child.process.pid if child is not None else None

    def record(self, drafts: Sequence[EntryDraft]) -> AppendResult:
        return self._call("drafts", [_plain(d) for d in drafts])

    def record_json(self, body: bytes) -> AppendResult:
        return self._call("json", body)

    def close(self, timeout: float = 30.0) -> None:
        """Stop the child after the writes in progress; later writes are refused."""
        with self._lock:
            self._closed = True
            child, self._child = self._child, None
        if child is not None:
            child.close(timeout)

    def _current(self) -> _Child:
        with self._lock:
            if self._closed:
                raise WriterUnavailable("the node is shutting down: it takes no more writes")
            child = self._child
            if child is None or child.failure is not None:
                if child is not None:
                    log.error("%s; starting a new one", child.failure)
                child = self._child = _Child(self._settings, self._key)
            return child

    def _call(self, kind: str, payload: object) -> AppendResult:
        child = self._current()
        if not child.ready.wait(START_TIMEOUT):
            raise WriterUnavailable(
                f"the node's writer process did not open the node within {START_TIMEOUT:.0f} s"
            )
        waiting = child.send(kind, payload)
        waiting.done.wait()
        outcome = waiting.outcome
        if isinstance(outcome, BaseException):
            raise outcome
        assert outcome is not None
        return outcome


def _plain(draft: EntryDraft) -> tuple[Any, ...]:
    """A draft as sent: its fields as a tuple (a dataclass pickles field by field, slowly)."""
    return (draft.type, draft.body, draft.refs, draft.signed, draft.time, draft.parsed)


def _portable(outcome: AppendResult | BaseException) -> _Portable:
    """The outcome to send; an exception that cannot be pickled becomes a `StoreError`."""
    if isinstance(outcome, AppendResult):
        entries = outcome.entries
        rows = [(e.to_bytes(), e.id, e.seq, e.type) for e in entries]
        return entries[0].log, rows, outcome.checkpoint
    try:
        pickle.loads(pickle.dumps(outcome))  # noqa: S301 (what we just pickled)
    except Exception:
        return StoreError(f"{type(outcome).__name__}: {outcome}")
    return outcome


def _from_portable(outcome: _Portable) -> AppendResult | BaseException:
    if isinstance(outcome, BaseException):
        return outcome
    log_id, rows, checkpoint = outcome
    return AppendResult(tuple(_Recorded.of(log_id, *row) for row in rows), checkpoint)


class _Recorded(Entry):
    """An entry the child made, checked and stored, as the server gets it back: its log,
    seq, type, id and bytes are set; its time, refs, body and statements are read from its
    bytes (unchecked: the child's write path made them) when first asked for. A batch
    write's answer needs only the first ones, and reading back all of a 1,000-entry batch
    cost the server about 6 ms of its 60. Equal to an `Entry` with the same bytes."""

    __slots__ = ()

    @classmethod
    def of(
        cls, log_id: LogId, data: bytes, entry_id: EntryId, seq: int, entry_type: str
    ) -> _Recorded:
        entry = object.__new__(cls)
        put = object.__setattr__
        for name, value in (
            ("log", log_id),
            ("seq", seq),
            ("type", entry_type),
            ("_bytes", data),
            ("_id", entry_id),
        ):
            put(entry, name, value)
        return entry

    def __getattr__(self, name: str) -> Any:  # only called for a field not read yet
        if name not in _LAZY:
            raise AttributeError(name)
        whole = Entry.from_verified_bytes(self._bytes)
        for lazy in _LAZY:
            object.__setattr__(self, lazy, getattr(whole, lazy))
        return getattr(whole, name)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Entry):
            return NotImplemented
        return self._bytes == other.to_bytes()

    __hash__ = Entry.__hash__


# -- the child process ---------------------------------------------------------------------


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _child_main(conn: Connection) -> None:  # pragma: no cover - runs in the child process
    """The child: open the node, then serve the server's writes until it closes the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        settings, seed = conn.recv()
    except EOFError:
        return
    try:
        node = open_node(settings, key=SigningKey.from_seed(seed))
    except Exception as e:
        conn.send(("failed", f"the node's writer process cannot open the node: {e}"))
        return
    try:
        service = NodeService(node, clock=_utc_now)
        conn.send(("ready", node.store.log_id))
        _serve(conn, service)
    except (EOFError, OSError):
        pass  # the server is gone
    finally:
        node.close()


def _serve(conn: Connection, service: NodeService) -> None:  # pragma: no cover - in the child
    """Take every write waiting in the pipe (up to `_DRAIN` entries), record them together,
    send each outcome; until the server sends None or closes the pipe."""
    heap = _Heap()
    while True:
        if not conn.poll(_IDLE):
            heap.idle()
            continue
        if (message := conn.recv()) is None:
            return
        taken = [message]
        size = _size(message)
        while size < _DRAIN and conn.poll():
            if (message := conn.recv()) is None:
                break
            taken.append(message)
            size += _size(message)
        outcomes = service.record_batches(
            [
                payload if kind == "json" else [EntryDraft(*fields) for fields in payload]
                for _, kind, payload in taken
            ]
        )
        for (request_id, _, _), outcome in zip(taken, outcomes, strict=True):
            conn.send((request_id, _portable(outcome)))
        heap.written(size)
        if message is None:
            return


class _Heap:
    """Keeps the garbage collector off the contract state the child holds, which grows with
    the log. A full collection scans every object: about 60 to 100 ms per 100,000 entries,
    a pause for every write waiting, and a 1,000-entry batch allocates enough to set off
    collections that cost a fifth of its time. So after writes (a large one, or 0.1 s of
    small ones) it collects the young generations and moves every survivor to the permanent
    generation (`gc.freeze`), which collections skip. Cyclic garbage among frozen objects
    would never be collected: when the child is idle, one full collection takes it back."""

    def __init__(self) -> None:
        self._next = 0.0
        self._frozen = False

    def written(self, entries: int) -> None:
        now = time.monotonic()
        if entries >= _FREEZE_ENTRIES or now >= self._next:
            gc.collect(1)
            gc.freeze()
            self._frozen = True
            self._next = now + _FREEZE_EVERY

    def idle(self) -> None:
        if self._frozen:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self._frozen = False


def _size(message: tuple[int, str, Any]) -> int:
    """About how many entries a write holds (a JSON body's size in typical entries)."""
    _, kind, payload = message
    return len(payload) // 250 + 1 if kind == "json" else len(payload)


if __name__ == "__main__":  # pragma: no cover - the child process
    _child_main(Connection(int(sys.argv[1])))
