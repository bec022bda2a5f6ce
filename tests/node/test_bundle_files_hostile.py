"""node.bundle_files against hostile files: odd zips, FIFOs, symlinked folders, --force."""

from __future__ import annotations

import os
import struct
import zipfile
from pathlib import Path

import pytest

from ledger.audit import audit
from ledger.bundle import MemoryBundle
from ledger.errors import BundleError
from ledger.memlog import MemoryLog, export_bundle
from node.bundle_files import open_bundle, open_bundle_sink
from tests.builders import key


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    log = MemoryLog(key("hostile-files"))
    for i in range(3):
        log.append(type="test.note", time="2026-11-25T15:00:00Z", body={"i": i})
    sink = MemoryBundle()
    export_bundle(sink, [log])
    return sink.files


def _zip(path: Path, files: dict[str, bytes], patches: tuple[tuple[bytes, int, int], ...]) -> Path:
    """A zip of `files` whose local and central headers get (signature, offset, value) patched."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    data = bytearray(path.read_bytes())
    for signature, offset, value in patches:
        at = data.find(signature)
        while at >= 0:
            data[at + offset : at + offset + 2] = struct.pack("<H", value)
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    "patches",
    [
        ((b"PK\x03\x04", 8, 99), (b"PK\x01\x02", 10, 99)),  # unsupported compression method
        ((b"PK\x03\x04", 6, 1), (b"PK\x01\x02", 8, 1)),  # encrypted members
    ],
    ids=["unsupported-compression", "encrypted"],
)
def test_unreadable_zip_members_are_bundle_errors(
    files: dict[str, bytes], tmp_path: Path, patches: tuple[tuple[bytes, int, int], ...]
) -> None:
    source = open_bundle(_zip(tmp_path / "b.zip", files, patches))
    with pytest.raises(BundleError, match=r"cannot read manifest\.json from the zip"):
        audit(source)


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "bundle.zip"
    os.mkfifo(fifo)
    with pytest.raises(BundleError, match="neither a directory nor a regular"):
        open_bundle(fifo)


def test_a_symlinked_folder_is_not_listed(files: dict[str, bytes], tmp_path: Path) -> None:
    root = tmp_path / "b"
    sink = open_bundle_sink(root)
    for name, data in files.items():
        sink.write(name, data)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not yours")
    (root / "evidence").symlink_to(outside, target_is_directory=True)
    source = open_bundle(root)
    assert source.names("evidence/") == []
    assert audit(source).evidence_checked == 0


@pytest.mark.parametrize("name", ["node.key", "rdh.db", "notes.zip"])
def test_force_never_replaces_a_file_that_is_not_a_bundle(tmp_path: Path, name: str) -> None:
    precious = tmp_path / name
    precious.write_bytes(b"precious")
    with pytest.raises(BundleError, match="is not a bundle; not replacing it"):
        open_bundle_sink(precious, force=True)
    assert precious.read_bytes() == b"precious"


def test_force_replaces_a_zip_bundle(files: dict[str, bytes], tmp_path: Path) -> None:
    old = _zip(tmp_path / "old.zip", files, ())
    sink = open_bundle_sink(old, force=True)
    sink.close()
    assert old.is_file()


@pytest.mark.parametrize("name", ["out", "out.zip"])
def test_a_failed_write_leaves_nothing_and_keeps_the_old_bundle(
    files: dict[str, bytes], tmp_path: Path, name: str
) -> None:
    from node.bundle_files import new_bundle

    path = tmp_path / name
    with new_bundle(path) as sink:
        for file, data in files.items():
            sink.write(file, data)
    before = sorted(p.name for p in tmp_path.iterdir())

    def fail_midway() -> None:
        with new_bundle(path, force=True) as sink:
            sink.write("manifest.json", b"{}")
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        fail_midway()
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no partial file left
    assert audit(open_bundle(path)).ok  # the old bundle is intact


def test_new_bundle_replaces_only_when_complete(files: dict[str, bytes], tmp_path: Path) -> None:
    from node.bundle_files import new_bundle

    path = tmp_path / "out"
    for _ in range(2):
        with new_bundle(path, force=True) as sink:
            for file, data in files.items():
                sink.write(file, data)
    assert audit(open_bundle(path)).ok
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
