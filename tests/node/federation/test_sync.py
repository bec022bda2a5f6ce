"""`node.sync` in-process against a fake peer, on SQLite and PostgreSQL: a log is pulled,
verified and served with this node's cosignature; an interrupted sync leaves the store
startable and resumes; a peer's bad data leaves nothing stored and backs the peer off; a
fork becomes evidence."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from ledger.checkpoint import open_checkpoint
from ledger.note import NoteVerifier
from node.db.models import EntryRow, EvidenceRow, LogRow, SyncTargetRow
from node.local_node import LocalNode
from node.peers import HttpTransport, PeerUnreachable, Response, add_peer, list_peers
from node.projection import Projection
from node.store_check import verify_store
from node.sync import Syncer
from node.witness import NodeWitness
from tests.node.federation.fake_peer import FakePeer
from tests.node.federation.logs import fork, memory_log

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _clock() -> datetime:
    return NOW


@pytest.fixture
def peer() -> Iterator[FakePeer]:
    fake = FakePeer(memory_log(700))
    yield fake
    fake.close()


def _add(node: LocalNode, url: str) -> None:
    transport = HttpTransport()
    try:
        add_peer(node.sessions, transport, url, NOW, own_log=node.store.log_id)
    finally:
        transport.close()


def _count(node: LocalNode, log_id: str) -> int:
    with node.sessions.begin() as session:
        return int(
            session.execute(select(func.count()).where(EntryRow.log_id == log_id)).scalar_one()
        )


class _Interrupted(HttpTransport):
    """Fails every entry bundle request but those of the first `allowed` bundles (bundles
    are fetched ahead by several threads, in any order)."""

    def __init__(self, allowed: int) -> None:
        super().__init__(deadline=5)
        self.allowed = allowed

    def request(self, method: str, url: str, *, body: bytes | None = None, limit: int) -> Response:
        if "/tile/entries/" in url and int(url.split("/tile/entries/")[1][:3]) >= self.allowed:
            raise PeerUnreachable("the connection broke")
        return super().request(method, url, body=body, limit=limit)


def test_pull_interrupt_resume(local_node: LocalNode, peer: FakePeer) -> None:
    _add(local_node, peer.url)
    [info] = list_peers(local_node.sessions)
    log_id = peer.log.log_id

    with Syncer(local_node, clock=_clock, transport=_Interrupted(1), batch_entries=256) as cut:
        outcome = cut.sync_peer(info)
    assert outcome.error
    assert not outcome.fault
    assert _count(local_node, log_id) == 256  # one batch committed
    with local_node.sessions.begin() as session:
        assert session.get(LogRow, log_id).size == 0  # type: ignore[union-attr]
        assert session.get(SyncTargetRow, log_id) is not None
        verify_store(session, full=True)  # the node can start

    projection = Projection()
    syncer = Syncer(local_node, clock=_clock, batch_entries=256, projection=projection)
    report = syncer.sync_all(force=True)
    [log_outcome] = report.peers[0].logs
    assert (log_outcome.before, log_outcome.after, log_outcome.status) == (0, 700, "synced")
    assert log_outcome.flagged == []
    assert _count(local_node, log_id) == 700
    with local_node.sessions.begin() as session:
        assert session.get(SyncTargetRow, log_id) is None
        verify_store(session, full=True)
        note = session.execute(select(LogRow).where(LogRow.id == log_id)).scalar_one()
    # the mirrored checkpoint carries this node's cosignature
    witness = NodeWitness(local_node, _clock)
    stored = local_node.sessions.begin()
    with stored as session:
        from node.log_reader import LogReader

        cp_note = LogReader(session, log_id).checkpoint().note
    signed = open_checkpoint(
        cp_note, verifier=NoteVerifier.from_vkey(peer.log.vkey), witnesses=[witness.cosigner]
    )
    assert signed.cosigned_by == (witness.name,)
    assert note.size == 700

    # the peer grows: only the new entries are pulled
    for n in range(5):
        peer.log.append(type="task.publish", time="2026-11-25T12:00:00Z", body={"n": n})
    report = syncer.sync_all(force=True)
    syncer.close()
    assert report.entries == 5
    assert report.peers[0].logs[0].flagged  # those bodies break the task.publish schema
    assert _count(local_node, log_id) == 705


@pytest.mark.parametrize(
    "mode", ["forged", "wrong-root", "garbage-tile", "bad-entry", "truncated-bundle"]
)
def test_bad_data_stores_nothing_and_backs_off(local_node: LocalNode, mode: str) -> None:
    fake = FakePeer(memory_log(300), mode="honest")
    try:
        _add(local_node, fake.url)
        fake.mode = mode
        with Syncer(local_node, clock=_clock) as syncer:
            report = syncer.sync_all()
        assert report.peers[0].fault, report.peers[0].error
        assert _count(local_node, fake.log.log_id) == 0
        [info] = list_peers(local_node.sessions)
        assert info.failures == 1
        assert info.retry_at > NOW.timestamp()
        with Syncer(local_node, clock=_clock) as syncer:
            assert syncer.sync_all().peers == []  # backed off
    finally:
        fake.close()


def test_a_fork_becomes_evidence(local_node: LocalNode) -> None:
    a, b = fork(4)
    fa, fb = FakePeer(a), FakePeer(b)
    try:
        for fake in (fa, fb):
            _add(local_node, fake.url)
        with Syncer(local_node, clock=_clock) as syncer:
            report = syncer.sync_all()
        statuses = sorted(o.status for p in report.peers for o in p.logs)
        assert statuses == ["fork", "synced"]
        with local_node.sessions.begin() as session:
            assert session.execute(select(func.count()).select_from(EvidenceRow)).scalar_one() == 1
        with Syncer(local_node, clock=_clock) as syncer:
            syncer.sync_all()  # found again: stored once
        with local_node.sessions.begin() as session:
            assert session.execute(select(func.count()).select_from(EvidenceRow)).scalar_one() == 1
    finally:
        fa.close()
        fb.close()
