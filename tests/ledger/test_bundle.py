"""The bundle layout: the manifest, the in-memory bundle, streaming writes and reads."""

from __future__ import annotations

import json

import pytest

from ledger import bundle, tiles
from ledger.bundle import LogInfo, LogWriter, Manifest, MemoryBundle
from ledger.errors import BundleError, FormatError
from ledger.memlog import MemoryLog
from ledger.merkle import leaf_hash, root
from tests.builders import key

LOG = MemoryLog(key("bundle/log"))
INFO = LogInfo(id=LOG.log_id, origin=LOG.origin, vkey=LOG.vkey, size=3)


def test_manifest_round_trip_is_canonical() -> None:
    manifest = Manifest(exporter="rdh test", exported_at="2026-11-25T10:00:00Z", logs=(INFO,))
    data = manifest.to_bytes()
    assert Manifest.from_bytes(data) == manifest
    assert json.loads(data) == {
        "exported_at": "2026-11-25T10:00:00Z",
        "exporter": "rdh test",
        "format": "rdh-bundle/v1",
        "logs": [{"id": LOG.log_id, "origin": LOG.origin, "size": 3, "vkey": LOG.vkey}],
    }
    assert data.startswith(b'{"exported_at"')  # RFC 8785 key order


def test_manifest_without_export_time() -> None:
    manifest = Manifest(exporter="x", logs=())
    assert b"exported_at" not in manifest.to_bytes()
    assert Manifest.from_bytes(manifest.to_bytes()) == manifest


def _manifest(**changes: object) -> bytes:
    value: dict[str, object] = {
        "format": "rdh-bundle/v1",
        "exporter": "x",
        "logs": [INFO.to_dict()],
    }
    value.update(changes)
    return json.dumps(value).encode()


def _log(**changes: object) -> bytes:
    return _manifest(logs=[{**INFO.to_dict(), **changes}])


INVALID_MANIFESTS = [
    ("not-json", b"manifest"),
    ("not-utf8", b"\xff{}"),
    ("array", b"[]"),
    ("duplicate-key", b'{"format":"rdh-bundle/v1","format":"rdh-bundle/v1"}'),
    ("float", _manifest(exporter=1.5)),
    ("unknown-field", _manifest(extra=1)),
    ("missing-logs", b'{"format":"rdh-bundle/v1","exporter":"x"}'),
    ("other-format", _manifest(format="rdh-bundle/v2")),
    ("format-not-string", _manifest(format=1)),
    ("exporter-not-string", _manifest(exporter=None)),
    ("exported-at-not-string", _manifest(exported_at=5)),
    ("logs-not-list", _manifest(logs={})),
    ("log-not-object", _manifest(logs=["x"])),
    ("log-missing-field", _manifest(logs=[{"id": LOG.log_id}])),
    ("log-extra-field", _log(name="x")),
    ("log-id-uppercase", _log(id=LOG.log_id.upper(), origin=f"rdh/{LOG.log_id.upper()}")),
    ("log-id-short", _log(id="ab", origin="rdh/ab")),
    ("log-origin-other", _log(origin="example.com/log")),
    ("log-size-negative", _log(size=-1)),
    ("log-size-bool", _log(size=True)),
    ("log-size-string", _log(size="3")),
    ("log-vkey-number", _log(vkey=3)),
    ("log-listed-twice", _manifest(logs=[INFO.to_dict(), INFO.to_dict()])),
]


@pytest.mark.parametrize(
    "data", [d for _, d in INVALID_MANIFESTS], ids=[n for n, _ in INVALID_MANIFESTS]
)
def test_invalid_manifest_is_a_format_error(data: bytes) -> None:
    with pytest.raises(FormatError):
        Manifest.from_bytes(data)


def test_read_manifest_of_an_empty_bundle_is_a_bundle_error() -> None:
    with pytest.raises(BundleError, match=r"manifest\.json"):
        bundle.read_manifest(MemoryBundle())


def test_paths() -> None:
    assert bundle.log_prefix(LOG.log_id) == f"logs/{LOG.log_id}/"
    assert bundle.checkpoint_path(LOG.log_id) == f"logs/{LOG.log_id}/checkpoint"


def test_memory_bundle_is_a_source_and_a_sink() -> None:
    source = MemoryBundle()
    source.write("a/1", b"one")
    source.write("a/2", b"two")
    source.write("b", b"three")
    assert source.read("a/1", limit=3) == b"one"
    assert source.exists("b")
    assert not source.exists("a")
    assert source.names("a/") == ["a/1", "a/2"]
    assert source.names("c/") == []
    with pytest.raises(BundleError, match="larger"):
        source.read("b", limit=4)
    with pytest.raises(BundleError, match="no file"):
        source.read("c", limit=10)
    with pytest.raises(BundleError, match="twice"):
        source.write("a/1", b"again")


@pytest.mark.parametrize("size", [1, 200, 256, 257, 600])
def test_log_writer_streams_tiles_and_entry_bundles(size: int) -> None:
    sink = MemoryBundle()
    writer = LogWriter(sink, LOG.log_id)
    entries = [b"entry %d" % n for n in range(size)]
    for data in entries:
        writer.append(data, leaf_hash(data))
    assert writer.size == size
    assert writer.root() == root([leaf_hash(d) for d in entries])
    writer.finish(b"the checkpoint")

    prefix = bundle.log_prefix(LOG.log_id)
    assert sink.files[prefix + "checkpoint"] == b"the checkpoint"
    for ref in tiles.tiles_for_size(size):
        assert len(sink.files[prefix + ref.path]) == 32 * ref.width
    info = LogInfo(id=LOG.log_id, origin=LOG.origin, vkey=LOG.vkey, size=size)
    read = list(bundle.entry_bundles(sink, info))
    assert [(start, count) for start, count, _ in read] == [
        (ref.index * 256, ref.width) for ref in tiles.entry_bundles_for_size(size)
    ]
    assert [e for _, count, data in read for e in tiles.decode_entry_bundle(data, count)] == entries


def test_entry_bundles_of_a_missing_bundle_raise() -> None:
    info = LogInfo(id=LOG.log_id, origin=LOG.origin, vkey=LOG.vkey, size=300)
    with pytest.raises(BundleError):
        list(bundle.entry_bundles(MemoryBundle(), info))


def test_limits_fit_the_largest_legitimate_files() -> None:
    assert bundle.LIMITS["tile"] == 256 * 32
    assert bundle.LIMITS["entries"] == 256 * (2 + 65535)
