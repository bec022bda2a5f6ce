"""node.writer_process: the node's writes run by a child process, on SQLite and PostgreSQL.

The child is a real `python -m node.writer_process` on the test's database; the server side
is a `NodeService` whose `record` and `record_json` go to it (as under `rdh serve`). The
child keeps the real clock, so bodies here are built from the real time.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from ledger.checkpoint import Checkpoint
from ledger.entry import Entry
from node.db.models import CheckpointRow, EntryRow
from node.errors import NonceReused, RequestBodyError, RuleRejected, WriterUnavailable
from node.local_node import LocalNode
from node.own_log import AppendResult, EntryDraft
from node.service import NodeService
from node.store_check import verify_store
from node.writer_process import WriterProcess, _Heap
from tests.builders import key
from tests.node.stories import enroll_body, signed, task_body


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def writer(local_node: LocalNode) -> Iterator[WriterProcess]:
    process = WriterProcess(local_node.settings, local_node.store.key)
    process.start()
    yield process
    process.close()


@pytest.fixture
def service(local_node: LocalNode, writer: WriterProcess) -> NodeService:
    return NodeService(local_node, clock=_now, recorder=writer)


def _publish(title: str) -> list[EntryDraft]:
    return [EntryDraft("task.publish", task_body(_now(), title=title))]


def _stored(node: LocalNode) -> list[bytes]:
    with node.sessions.begin() as session:
        rows = session.execute(select(EntryRow.data).order_by(EntryRow.seq)).scalars()
        return [bytes(data) for data in rows]


def _commits(node: LocalNode) -> int:
    with node.sessions.begin() as session:
        return session.execute(select(func.count()).select_from(CheckpointRow)).scalar_one()


@contextmanager
def _log_locked(node: LocalNode) -> Iterator[None]:
    """Hold the log's write lock (SQLite's write lock, PostgreSQL's lock on the log's row)
    until the block ends."""
    with node.store._write() as session:
        session.execute(
            text("UPDATE logs SET size = size WHERE id = :id"), {"id": node.store.log_id}
        )
        yield


def test_drafts_and_json_bodies_are_recorded_by_the_child(
    service: NodeService, local_node: LocalNode, writer: WriterProcess
) -> None:
    first = service.record(_publish("Design a lamp"))
    body = {"entries": [{"type": "task.publish", "body": task_body(_now(), title="A shade")}]}
    second = service.record_json(json.dumps(body).encode())

    assert writer.pid is not None
    assert writer.pid != os.getpid()
    assert [e.seq for e in first.entries + second.entries] == [1, 2]
    stored = _stored(local_node)
    assert [e.to_bytes() for e in first.entries + second.entries] == stored[1:]
    assert Checkpoint.from_note(second.checkpoint).size == 3
    with local_node.sessions.begin() as session:
        verify_store(session, full=True)
    # this process's projection reads what the child wrote
    with service.state() as state:
        assert {first.entries[0].id, second.entries[0].id} <= set(state.tasks)


def test_entries_come_back_as_stored(service: NodeService, local_node: LocalNode) -> None:
    """The server reads an entry's body from its bytes only when asked: every field, `==`,
    hash and `to_dict` are those of the stored entry."""
    worker = key("worker-1")
    statement = signed(
        worker, local_node.store.log_id, "member.enroll", enroll_body(worker), _now(), "w"
    )
    enrolled = service.submit(statement)
    assert isinstance(enrolled, AppendResult)
    published = service.record(_publish("Design a lamp")).entries[0]
    assert (published.seq, published.type) == (2, "task.publish")  # sent as they are
    for got, data in zip([enrolled.entries[0], published], _stored(local_node)[1:], strict=True):
        stored = Entry.from_bytes(data)
        assert got == stored
        assert stored == got
        assert hash(got) == hash(stored)
        assert got.to_dict() == stored.to_dict()
        fields = ("v", "log", "seq", "time", "type", "refs", "body", "signed")
        assert [getattr(got, f) for f in fields] == [getattr(stored, f) for f in fields]
        assert (got.id, got.to_bytes()) == (stored.id, data)
    assert enrolled.entries[0].signed[0] == statement
    assert published != enrolled.entries[0]
    with pytest.raises(AttributeError):
        published.colour  # noqa: B018 (an unknown attribute is still an AttributeError)


def test_refusals_come_back_as_the_same_errors_and_store_nothing(
    service: NodeService, local_node: LocalNode
) -> None:
    with pytest.raises(RuleRejected) as rejected:
        service.record([EntryDraft("task.close", {"task": "ab" * 32})])
    assert rejected.value.rule == "refs.unknown"
    with pytest.raises(RequestBodyError) as not_json:
        service.record_json(b'{"entries": [')
    assert not_json.value.status == 400
    with pytest.raises(RequestBodyError) as shape:
        service.record_json(b'{"entries": [], "extra": 1}')
    assert shape.value.status == 422
    assert shape.value.errors == {"json": {"extra": ["Unknown field."]}}

    worker = key("worker-1")
    statement = signed(
        worker, local_node.store.log_id, "member.enroll", enroll_body(worker), _now(), "w"
    )
    assert isinstance(service.submit(statement), AppendResult)
    with pytest.raises(NonceReused):
        service.submit(statement)
    assert len(_stored(local_node)) == 2  # the genesis and the one enrolment


def test_concurrent_writes_are_grouped_into_few_commits(
    service: NodeService, local_node: LocalNode, writer: WriterProcess
) -> None:
    results: list[AppendResult] = []

    def record(n: int) -> None:
        results.append(service.record(_publish(f"task {n}")))

    commits = _commits(local_node)
    threads = [threading.Thread(target=record, args=(n,)) for n in range(10)]
    with _log_locked(local_node):  # the child's first commit waits; the rest queue up
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(writer._child.waiting) < 10:  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the writes did not reach the child"
            time.sleep(0.01)
    for thread in threads:
        thread.join()
    assert sorted(r.entries[0].seq for r in results) == list(range(1, 11))
    assert _commits(local_node) - commits <= 2  # ten writes: at most two transactions


def test_a_dead_child_fails_its_waiting_writes_and_is_replaced(
    service: NodeService, local_node: LocalNode, writer: WriterProcess
) -> None:
    service.record(_publish("before"))
    first_pid = writer.pid
    assert first_pid is not None
    outcome: list[BaseException] = []

    def blocked() -> None:
        try:
            service.record(_publish("in flight"))
        except BaseException as e:
            outcome.append(e)

    thread = threading.Thread(target=blocked)
    with _log_locked(local_node):
        thread.start()
        deadline = time.monotonic() + 30
        while not writer._child.waiting:  # type: ignore[union-attr]
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(0.2)  # the child has taken it and waits for the lock
        os.kill(first_pid, signal.SIGKILL)
        thread.join(timeout=30)
    assert len(outcome) == 1
    assert isinstance(outcome[0], WriterUnavailable)
    assert "may or may not have been stored" in str(outcome[0])

    after = service.record(_publish("after"))  # a new child
    assert writer.pid not in (None, first_pid)
    assert after.entries[0].seq == 2  # the write in flight was not stored
    with local_node.sessions.begin() as session:
        verify_store(session, full=True)


def test_a_child_that_cannot_open_the_node_says_why(local_node: LocalNode, tmp_path: Path) -> None:
    other = replace(local_node.settings, database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    process = WriterProcess(other, local_node.store.key)
    try:
        with pytest.raises(WriterUnavailable, match=r"cannot open the node: .*holds no log"):
            process.record(_publish("nowhere"))
    finally:
        process.close()


def test_after_close_writes_are_refused_and_the_child_has_exited(
    service: NodeService, writer: WriterProcess
) -> None:
    service.record(_publish("one"))
    child = writer._child
    assert child is not None
    writer.close()
    assert child.process.poll() is not None
    with pytest.raises(WriterUnavailable, match="shutting down"):
        service.record(_publish("two"))


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_the_heap_is_frozen_after_writes_and_collected_in_full_when_idle() -> None:
    heap = _Heap()
    try:
        cycle = _Cycle()
        alive = weakref.ref(cycle)
        heap.written(100)  # a large write: frozen at once
        assert gc.get_freeze_count() > 0
        del cycle  # now cyclic garbage, but frozen: collections skip it
        gc.collect()
        assert alive() is not None
        heap.idle()  # one full collection takes it back
        assert alive() is None
        assert gc.get_freeze_count() > 0  # and what lives is frozen again
    finally:
        gc.unfreeze()
