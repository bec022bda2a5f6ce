"""node.reindex: damaged derived tables are rebuilt from the entry bytes; damaged entries are
refused and nothing changes (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select, update

from node.cli import rdh
from node.db.models import EntryRow, NonceRow, TileRow
from node.errors import NonceReused, StoreMismatch
from node.local_node import LocalNode
from node.own_log import EntryDraft
from node.reindex import reindex
from node.service import NodeService
from node.store_check import verify_store
from tests.node.conftest import NOW, Clock
from tests.node.stories import WORKER, enroll_body, signed, task_body


@pytest.fixture
def filled(local_node: LocalNode) -> LocalNode:
    """A node with 600 entries over many checkpoints, one of them with a statement."""
    service = NodeService(local_node, clock=Clock(NOW))
    service.submit(
        signed(WORKER, local_node.store.log_id, "member.enroll", enroll_body(WORKER), NOW, "r")
    )
    for n in range(0, 598, 23):
        drafts = [
            EntryDraft("task.publish", task_body(NOW, title=f"t{k}"))
            for k in range(n, min(n + 23, 598))
        ]
        service.record(drafts)
    return local_node


def _snapshot(node: LocalNode) -> tuple[list[object], list[object], list[object]]:
    with node.sessions.begin() as session:
        tiles = session.execute(
            select(TileRow.level, TileRow.index, TileRow.width, TileRow.data).order_by(
                TileRow.level, TileRow.index, TileRow.width
            )
        ).all()
        entries = session.execute(
            select(EntryRow.seq, EntryRow.id, EntryRow.type, EntryRow.time).order_by(EntryRow.seq)
        ).all()
        nonces = session.execute(
            select(NonceRow.nonce, NonceRow.seq).order_by(NonceRow.nonce)
        ).all()
    return list(tiles), list(entries), list(nonces)


def test_reindex_rebuilds_exactly_what_was_there(filled: LocalNode) -> None:
    before = _snapshot(filled)
    report = reindex(filled.sessions)
    assert _snapshot(filled) == before
    (log,) = report.logs
    assert log.entries == 600
    assert log.nonces == 1
    assert (report.violations, report.pending) == (0, 0)


def test_reindex_repairs_damaged_tiles_indexes_and_nonces(filled: LocalNode) -> None:
    before = _snapshot(filled)
    with filled.sessions.begin() as session:
        session.execute(delete(TileRow).where(TileRow.level == 0, TileRow.index == 1))
        session.execute(update(TileRow).where(TileRow.level == 1).values(data=b"\0" * 32))
        session.execute(update(EntryRow).where(EntryRow.seq == 7).values(type="bogus", id="0" * 64))
        session.execute(delete(NonceRow))
    with filled.sessions.begin() as session, pytest.raises(StoreMismatch):
        verify_store(session, full=True)
    report = reindex(filled.sessions)
    assert report.logs[0].fixed_index_rows == 1
    assert _snapshot(filled) == before
    with filled.sessions.begin() as session:
        verify_store(session, full=True)
    service = NodeService(filled, clock=Clock(NOW))
    replay = signed(WORKER, filled.store.log_id, "member.enroll", enroll_body(WORKER), NOW, "r")
    with pytest.raises(NonceReused):
        service.submit(replay)


@pytest.mark.parametrize("damage", ["changed bytes", "missing entry"])
def test_reindex_refuses_damaged_entries_and_changes_nothing(
    filled: LocalNode, damage: str
) -> None:
    with filled.sessions.begin() as session:
        if damage == "changed bytes":
            data = session.execute(select(EntryRow.data).where(EntryRow.seq == 300)).scalar_one()
            session.execute(
                update(EntryRow)
                .where(EntryRow.seq == 300)
                .values(data=data.replace(b"t29", b"t92"))
            )
        else:
            session.execute(delete(EntryRow).where(EntryRow.seq == 300))
        session.execute(delete(TileRow).where(TileRow.level == 0, TileRow.index == 0))
    before = _snapshot(filled)
    with pytest.raises(StoreMismatch, match="restore the latest database"):
        reindex(filled.sessions)
    assert _snapshot(filled) == before
    with filled.sessions.begin() as session:
        assert session.execute(select(func.count()).select_from(TileRow)).scalar() > 0


def test_rdh_reindex_reports_what_it_rebuilt(tmp_path: Path) -> None:
    runner = CliRunner()
    node_dir = str(tmp_path / "n")
    assert runner.invoke(rdh, ["init", "-d", node_dir, "--name", "Studio"]).exit_code == 0
    result = runner.invoke(rdh, ["reindex", "-d", node_dir])
    assert result.exit_code == 0, result.output
    assert "1 entries, 1 checkpoints verified" in result.output
    assert "0 rule violations, 0 pending entries" in result.output
