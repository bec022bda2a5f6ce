"""node.store under contention: 8 OS processes append to one log on one database at once.

Each process has its own engine (as several API processes would); the log-head lock must
serialise them so that seq numbers have no gap and no duplicate, every batch is stored
exactly once, and every checkpoint extends the one before.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from multiprocessing.synchronize import Barrier
from typing import Any

import pytest
from sqlalchemy import Engine, select

from ledger.entry import Entry
from node.db import CheckpointRow, EntryRow, make_engine, make_sessions
from node.local_node import LocalNode, open_node
from node.service import NodeService
from node.settings import Settings
from node.store import EntryDraft, LogStore
from node.store_check import verify_store
from tests.builders import key
from tests.node.conftest import NOW
from tests.node.stories import task_body

PROCESSES = 8
BATCHES = 12
PER_BATCH = 5


def _appender(url: str, worker: int, barrier: Barrier, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    engine = make_engine(url)
    store = LogStore(make_sessions(engine), key("node-a"))
    barrier.wait(timeout=60)
    seqs: list[int] = []
    try:
        for batch in range(BATCHES):
            drafts = [
                EntryDraft("task.publish", {"w": worker, "b": batch, "k": k})
                for k in range(PER_BATCH)
            ]
            seqs.extend(e.seq for e in store.append(drafts, NOW).entries)
        results.put((worker, seqs, None))
    except Exception as e:  # reported to the parent, which fails the test
        results.put((worker, seqs, f"{type(e).__name__}: {e}"))
    finally:
        engine.dispose()


def _run_appenders(target: Callable[..., None], first: object) -> list[tuple[int, list[Any], None]]:
    """Run `target(first, n, barrier, results)` in PROCESSES spawned processes started
    together; their outcomes `(n, appended, None)`, every process having succeeded."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    results: multiprocessing.Queue = ctx.Queue()  # type: ignore[type-arg]
    procs = [
        ctx.Process(target=target, args=(first, n, barrier, results)) for n in range(PROCESSES)
    ]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=300) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    assert [error for _, _, error in outcomes if error] == []
    return outcomes


@pytest.mark.slow
def test_eight_processes_append_without_gaps_or_duplicates(
    store: LogStore, engine: Engine, db_url: str
) -> None:
    outcomes = _run_appenders(_appender, db_url)

    total = PROCESSES * BATCHES * PER_BATCH
    returned = sorted(seq for _, seqs, _ in outcomes for seq in seqs)
    assert returned == list(range(1, total + 1))  # 0 gaps, 0 duplicates, as acknowledged

    sessions = make_sessions(engine)
    with sessions.begin() as session:
        rows = session.execute(select(EntryRow.seq, EntryRow.data).order_by(EntryRow.seq)).all()
        sizes = session.execute(select(CheckpointRow.size).order_by(CheckpointRow.size)).scalars()
        assert [seq for seq, _ in rows] == list(range(total + 1))
        bodies = {
            (e.body["w"], e.body["b"], e.body["k"])
            for e in (Entry.from_bytes(data) for _, data in rows[1:])
        }
        assert len(bodies) == total  # every draft stored exactly once
        assert list(sizes) == [1 + n * PER_BATCH for n in range(PROCESSES * BATCHES + 1)]
        verify_store(session, full=True)
    assert store.size == total + 1


def _service_appender(
    settings: Settings,
    worker: int,
    barrier: Barrier,
    results: multiprocessing.Queue,  # type: ignore[type-arg]
) -> None:
    node = open_node(settings)
    service = NodeService(node, clock=lambda: NOW)
    barrier.wait(timeout=60)
    ids: list[str] = []
    try:
        for batch in range(BATCHES):
            drafts = [
                EntryDraft("task.publish", task_body(NOW, title=f"w{worker} b{batch} k{k}"))
                for k in range(PER_BATCH)
            ]
            ids.extend(e.id for e in service.record(drafts).entries)
        results.put((worker, ids, None))
    except Exception as e:  # reported to the parent, which fails the test
        results.put((worker, ids, f"{type(e).__name__}: {e}"))
    finally:
        node.close()


@pytest.mark.slow
def test_eight_server_processes_check_rules_against_each_others_entries(
    local_node: LocalNode,
) -> None:
    """Each process's contract state catches up with the others' entries inside the locked
    transaction, so every rule check sees the whole log: no false refusal, no gap."""
    outcomes = _run_appenders(_service_appender, local_node.settings)
    ids = [i for _, got, _ in outcomes for i in got]
    assert len(set(ids)) == PROCESSES * BATCHES * PER_BATCH
    service = NodeService(local_node, clock=lambda: NOW)
    with service.state() as state:
        assert set(ids) == set(state.tasks)
    assert not service.projection.violations()
    with local_node.sessions.begin() as session:
        verify_store(session, full=True)
