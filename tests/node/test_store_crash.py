"""node.store survives a writer killed mid-append (SIGKILL, a real process).

A child process appends batches in a loop and reports each acknowledged size; the parent
kills it without warning. Every acknowledged batch must be stored, the start-up check must
pass (the half-done transaction left nothing behind), and the log must go on.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from multiprocessing.connection import Connection

import pytest
from sqlalchemy.orm import Session, sessionmaker

from node.db import make_engine, make_sessions
from node.store import EntryDraft, LogStore
from node.store_check import verify_store
from tests.builders import key
from tests.node.conftest import NOW

ACKS_BEFORE_KILL = 5


def _append_forever(url: str, acks: Connection) -> None:
    store = LogStore(make_sessions(make_engine(url)), key("node-a"))
    n = 0
    while True:
        drafts = [EntryDraft("task.publish", {"n": n, "k": k}) for k in range(300)]
        acks.send(store.append(drafts, NOW).size)
        n += 1


@pytest.mark.slow
def test_killed_writer_loses_nothing_acknowledged(
    store: LogStore, sessions: sessionmaker[Session], db_url: str
) -> None:
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_append_forever, args=(db_url, send))
    proc.start()
    acknowledged = 0
    for _ in range(ACKS_BEFORE_KILL):
        assert receive.poll(120), "the writer stopped acknowledging"
        acknowledged = receive.recv()
    assert proc.pid is not None
    os.kill(proc.pid, signal.SIGKILL)  # most likely in the middle of the next transaction
    proc.join(timeout=60)
    assert proc.exitcode == -signal.SIGKILL
    while receive.poll(0):
        acknowledged = receive.recv()

    with sessions.begin() as session:
        verify_store(session, full=True)
    assert store.size >= acknowledged
    assert store.append([EntryDraft("task.close", {})], NOW).size == store.size
