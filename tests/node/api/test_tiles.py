"""The tlog-tiles read API, verified with the ledger: what a client fetches proves the log."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from ledger.checkpoint import open_checkpoint
from ledger.entry import Entry
from ledger.merkle import HASH_SIZE, leaf_hash, tree_hash
from ledger.note import NoteVerifier
from ledger.tiles import (
    TileRef,
    decode_entry_bundle,
    entry_bundles_for_size,
    tile_hash_at,
    tiles_for_size,
)
from node.api import create_app
from node.api.tiles import CACHE_IMMUTABLE, CACHE_PARTIAL
from node.local_node import LocalNode
from node.own_log import EntryDraft
from tests.node.api.conftest import SIZE, make_node
from tests.node.conftest import NOW


def _get(client: FlaskClient, url: str, **kwargs: object) -> bytes:
    response = client.get(url, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, (url, response.status_code, response.text)
    return response.data


def test_checkpoint_verifies_and_tiles_rebuild_its_root(
    client: FlaskClient, node: LocalNode
) -> None:
    base = f"/logs/{node.store.log_id}"
    response = client.get(f"{base}/checkpoint")
    assert response.status_code == 200
    assert response.content_type == "text/plain; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    signed = open_checkpoint(response.data, verifier=NoteVerifier.from_vkey(node.store.vkey))
    size = signed.checkpoint.size
    assert size == SIZE

    tiles: dict[TileRef, bytes] = {}
    for ref in tiles_for_size(size):
        tile = client.get(f"{base}/{ref.path}")
        assert tile.status_code == 200, ref.path
        assert tile.content_type == "application/octet-stream"
        assert len(tile.data) == ref.width * HASH_SIZE
        want = CACHE_PARTIAL if ref.is_partial else CACHE_IMMUTABLE
        assert tile.headers["Cache-Control"] == want
        tiles[ref] = tile.data
    assert tree_hash(size, tile_hash_at(tiles.__getitem__, size)) == signed.checkpoint.root

    leaves = b"".join(tiles[ref] for ref in tiles_for_size(size) if ref.level == 0)
    seq = 0
    for ref in entry_bundles_for_size(size):
        entries = decode_entry_bundle(_get(client, f"{base}/{ref.path}"), ref.width)
        for data in entries:
            assert Entry.from_bytes(data).seq == seq
            assert leaf_hash(data) == leaves[seq * HASH_SIZE : (seq + 1) * HASH_SIZE]
            seq += 1
    assert seq == size


def test_partial_tiles_of_any_signed_width_are_prefixes(
    client: FlaskClient, node: LocalNode
) -> None:
    base = f"/logs/{node.store.log_id}"
    full = _get(client, f"{base}/tile/0/000")
    assert _get(client, f"{base}/tile/0/000.p/7") == full[: 7 * HASH_SIZE]
    bundle = decode_entry_bundle(_get(client, f"{base}/tile/entries/001.p/44"), 44)
    assert bundle[:3] == decode_entry_bundle(_get(client, f"{base}/tile/entries/001.p/3"), 3)


def test_tiles_follow_appends(client: FlaskClient, node: LocalNode) -> None:
    base = f"/logs/{node.store.log_id}"
    assert client.get(f"{base}/tile/0/001.p/45").status_code == 404
    node.store.append([EntryDraft("task.publish", {"n": -1})], NOW)
    assert client.get(f"{base}/tile/0/001.p/45").status_code == 200
    note = _get(client, f"{base}/checkpoint")
    assert open_checkpoint(note, verifier=NoteVerifier.from_vkey(node.store.vkey)).checkpoint.size
    assert b"\n301\n" in note


def test_entry_bundles_are_gzipped_on_request(client: FlaskClient, node: LocalNode) -> None:
    url = f"/logs/{node.store.log_id}/tile/entries/000"
    plain = _get(client, url)
    response = client.get(url, headers={"Accept-Encoding": "gzip, identity"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert gzip.decompress(response.data) == plain
    assert len(response.data) < len(plain)


def test_logs_lists_the_stored_logs(client: FlaskClient, node: LocalNode) -> None:
    response = client.get("/logs")
    assert response.status_code == 200
    assert response.json == [
        {
            "id": node.store.log_id,
            "origin": node.store.origin,
            "vkey": node.store.vkey,
            "size": SIZE,
            "local": True,
        }
    ]


BEYOND_THE_TREE = {
    "full level-0 tile past the end": "tile/0/001",
    "partial tile wider than the tree": "tile/0/001.p/45",
    "partial tile of a later tile": "tile/0/002.p/1",
    "full level-1 tile": "tile/1/000",
    "level-1 partial wider than the tree": "tile/1/000.p/2",
    "level-2 tile": "tile/2/000.p/1",
    "entry bundle past the end": "tile/entries/001",
    "entry bundle wider than the tree": "tile/entries/001.p/45",
    "largest index": "tile/0/x018/x446/x744/x073/x709/x551/615",
}


@pytest.mark.parametrize("path", BEYOND_THE_TREE.values(), ids=BEYOND_THE_TREE.keys())
def test_tiles_beyond_the_signed_tree_are_404(
    client: FlaskClient, node: LocalNode, path: str
) -> None:
    response = client.get(f"/logs/{node.store.log_id}/{path}")
    assert response.status_code == 404
    assert response.content_type.startswith("text/plain")
    assert response.text.startswith("404 Not Found: ")


MALFORMED = {
    "leading zero level": "tile/00/000",
    "level 64": "tile/64/000",
    "short index": "tile/0/01",
    "index without x": "tile/0/001/000",
    "x000 prefix": "tile/0/x000/001",
    "width 0": "tile/0/000.p/0",
    "width 256": "tile/0/000.p/256",
    "width with leading zero": "tile/0/000.p/07",
    "no index": "tile/0",
    "letters": "tile/a/000",
    "entries with level": "tile/entries/0/000",
    "trailing slash": "tile/0/000/",
    "negative": "tile/0/-01",
    "unicode digits": "tile/0/\u0661\u0662\u0663",
    "index of 2**64": "tile/0/x018/x446/x744/x073/x709/x551/616",
}


@pytest.mark.parametrize("path", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_tile_paths_are_400(client: FlaskClient, node: LocalNode, path: str) -> None:
    response = client.get(f"/logs/{node.store.log_id}/{path}")
    assert response.status_code == 400
    assert response.text.startswith("400 Bad Request: not a tlog-tiles path: ")


BAD_LOG_IDS = {
    "short": "abc",
    "upper case": "A" * 64,
    "65 digits": "a" * 65,
    "non-hex": "g" * 64,
}


@pytest.mark.parametrize("log_id", BAD_LOG_IDS.values(), ids=BAD_LOG_IDS.keys())
def test_malformed_log_ids_are_400(client: FlaskClient, log_id: str) -> None:
    for path in ("checkpoint", "tile/0/000"):
        response = client.get(f"/logs/{log_id}/{path}")
        assert response.status_code == 400
        assert "is not a log id" in response.text


def test_unknown_log_is_404(client: FlaskClient) -> None:
    for path in ("checkpoint", "tile/0/000", "tile/entries/000"):
        response = client.get(f"/logs/{'0' * 64}/{path}")
        assert response.status_code == 404
        assert "is not stored on this node" in response.text


def test_tiles_are_read_only(client: FlaskClient, node: LocalNode) -> None:
    response = client.post(f"/logs/{node.store.log_id}/checkpoint", data=b"x")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


@pytest.mark.slow
def test_a_tree_with_full_level_1_tiles_round_trips(tmp_path: Path) -> None:
    """70,000 entries: full level-0 and level-1 tiles, partial tiles at levels 0, 1 and 2."""
    node = make_node(tmp_path, f"sqlite:///{tmp_path / 'big.db'}", 70_000)
    try:
        client = create_app(node).test_client()
        base = f"/logs/{node.store.log_id}"
        note = _get(client, f"{base}/checkpoint")
        signed = open_checkpoint(note, verifier=NoteVerifier.from_vkey(node.store.vkey))
        size = signed.checkpoint.size
        refs = tiles_for_size(size)
        assert {(r.level, r.is_partial) for r in refs} == {
            (0, False),
            (0, True),
            (1, False),
            (1, True),
            (2, True),
        }
        tiles = {ref: _get(client, f"{base}/{ref.path}") for ref in refs}
        assert tree_hash(size, tile_hash_at(tiles.__getitem__, size)) == signed.checkpoint.root
        assert client.get(f"{base}/tile/1/001").status_code == 404
        assert client.get(f"{base}/tile/2/000.p/2").status_code == 404
    finally:
        node.close()
