"""Storage faults during appends: a full disk and a read-only database (clean 503, nothing
half-written, the node carries on once the fault is gone), and a damaged database file or
tile found at start-up (`rdh status` / `rdh serve`: one line, exit 2, never a traceback).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, update

from node.db.models import TileRow
from node.local_node import LocalNode, init_node, open_node
from node.own_log import EntryDraft, Genesis
from node.settings import load_settings
from tests.builders import key
from tests.hardening.live import rdh
from tests.hardening.node_app import NOW, NodeApp, publish
from tests.node.stories import task_body


def _on_connect(node: LocalNode, *pragmas: str) -> Any:
    """Run `pragmas` on every new connection of `node` (the pool is emptied first)."""

    def listener(dbapi_connection: Any, _record: Any) -> None:
        for pragma in pragmas:
            dbapi_connection.execute(pragma)

    event.listen(node.engine, "connect", listener)
    node.engine.dispose()
    return listener


def _lift(node: LocalNode, listener: Any) -> None:
    event.remove(node.engine, "connect", listener)
    node.engine.dispose()


@pytest.fixture
def sqlite_node(tmp_path: Path) -> Any:
    settings = load_settings(tmp_path / "node", {})
    node, _ = init_node(settings, Genesis(name="Faults", kind="platform"), NOW, key=key("faults"))
    yield node
    node.close()


def test_full_disk_is_a_503_and_nothing_is_half_written(sqlite_node: LocalNode) -> None:
    """SQLITE_FULL (`PRAGMA max_page_count`) part-way through a run of batches."""
    node = NodeApp(sqlite_node)
    with sqlite_node.engine.connect() as connection:
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
    listener = _on_connect(sqlite_node, f"PRAGMA max_page_count={pages + 40}")
    acknowledged, refused = 1, 0  # the genesis
    for n in range(40):
        response = node.post("/api/v1/entries", publish(10, tag=f"full{n}", pad=1500))
        if response.status_code == 201:
            acknowledged += 10
            continue
        assert response.status_code == 503, response.get_json()
        assert "nothing was changed" in response.get_json()["message"]
        refused += 1
        state = node.stored()  # every stored entry and tile matches the signed checkpoint
        assert state.size == state.entries == acknowledged
    assert refused > 5, "the disk never filled: the test proves nothing"
    assert acknowledged > 1, "nothing fitted: the test proves little"
    _lift(sqlite_node, listener)
    response = node.post("/api/v1/entries", publish(3, tag="after"))
    assert response.status_code == 201, response.get_json()
    assert node.stored().size == acknowledged + 3
    sqlite_node.close()
    again = open_node(sqlite_node.settings, full_check=True)
    assert again.store.size == acknowledged + 3
    again.close()


def test_read_only_database_refuses_writes_and_serves_reads(local_node: LocalNode) -> None:
    """SQLite opened read-only (`query_only`); PostgreSQL in read-only transactions."""
    node = NodeApp(local_node)
    before = node.stored()
    pragma = (
        "PRAGMA query_only=ON"
        if local_node.engine.dialect.name == "sqlite"
        else "SET default_transaction_read_only = on"
    )
    if local_node.engine.dialect.name == "sqlite":
        listener = _on_connect(local_node, pragma)
    else:

        def listener(dbapi_connection: Any, _record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(pragma)
            dbapi_connection.commit()

        event.listen(local_node.engine, "connect", listener)
        local_node.engine.dispose()
    for n in range(3):
        response = node.post("/api/v1/entries", publish(2, tag=f"ro{n}"))
        assert response.status_code == 503, response.get_json()
        assert response.get_json()["code"] == 503
    assert node.client.get("/api/v1/entries").status_code == 200
    assert node.client.get(f"/logs/{node.log}/checkpoint").status_code == 200
    _lift(local_node, listener)
    assert node.stored() == before
    assert node.post("/api/v1/entries", publish(2, tag="rw")).status_code == 201
    assert node.stored().size == before.size + 2


def _filled(tmp_path: Path) -> tuple[Path, int]:
    """A stopped node with 501 entries; its directory and the database file's size."""
    settings = load_settings(tmp_path / "node", {})
    node, _ = init_node(settings, Genesis(name="Damage", kind="platform"), NOW, key=key("dmg"))
    for n in range(5):
        drafts = [EntryDraft("task.publish", task_body(NOW, title=f"t{n}-{k}")) for k in range(100)]
        node.store.append(drafts, NOW)
    node.close()
    return tmp_path / "node", (tmp_path / "node" / "rdh.db").stat().st_size


def _refused(result: Any) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "do not start the node" in result.stderr


@pytest.mark.parametrize("where", [0.25, 0.5, 0.75])
def test_a_damaged_database_page_is_found_by_the_full_check(tmp_path: Path, where: float) -> None:
    node_dir, size = _filled(tmp_path)
    page = int(size * where) // 4096
    with (node_dir / "rdh.db").open("r+b") as f:  # the b-tree page header: type byte and more
        f.seek(page * 4096)
        f.write(b"\xff" * 16)
    _refused(rdh("status", "--full", "-d", str(node_dir)))
    quick = rdh("status", "-d", str(node_dir))  # O(log n) reads may miss the page...
    assert quick.returncode in (0, 2), quick.stderr  # ...but never crash on it
    assert "Traceback" not in quick.stderr


def test_a_damaged_right_edge_tile_stops_rdh_serve(tmp_path: Path) -> None:
    node_dir, _ = _filled(tmp_path)
    with sqlite3.connect(node_dir / "rdh.db") as db:
        level, index, width, data = db.execute(
            'SELECT level, "index", width, data FROM tiles ORDER BY level, "index" DESC, width DESC'
        ).fetchone()
        db.execute(
            'UPDATE tiles SET data = ? WHERE level = ? AND "index" = ? AND width = ?',
            (bytes([data[0] ^ 1]) + data[1:], level, index, width),
        )
    result = rdh("serve", "-d", str(node_dir), "--port", "0", timeout=60)
    _refused(result)


def test_a_damaged_inner_tile_is_found_by_the_full_check(tmp_path: Path) -> None:
    node_dir, _ = _filled(tmp_path)
    settings = load_settings(node_dir, {})
    node = open_node(settings)
    with node.sessions.begin() as session:
        row = session.execute(
            select(TileRow.data).where(TileRow.level == 0, TileRow.index == 0, TileRow.width == 256)
        ).scalar_one()
        session.execute(
            update(TileRow)
            .where(TileRow.level == 0, TileRow.index == 0, TileRow.width == 256)
            .values(data=bytes(32) + row[32:])
        )
    node.close()
    _refused(rdh("status", "--full", "-d", str(node_dir)))


def test_a_damaged_tile_in_a_bundle_fails_the_audit(tmp_path: Path) -> None:
    node_dir, _ = _filled(tmp_path)
    out = tmp_path / "bundle"
    assert rdh("export", "-d", str(node_dir), str(out)).returncode == 0
    assert rdh("audit", str(out)).returncode == 0
    [tile] = [p for p in out.rglob("tile/0/000") if p.is_file()]
    data = bytearray(tile.read_bytes())
    data[100] ^= 0x40
    tile.write_bytes(bytes(data))
    result = rdh("audit", str(out))
    assert result.returncode == 1, result.stdout
    assert "FAILED" in result.stdout
    assert "Traceback" not in result.stderr
