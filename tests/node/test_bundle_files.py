"""Bundles on disk: a directory or a zip, read safely whatever the bundle holds."""

from __future__ import annotations

import os
import pickle
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger import bundle
from ledger.audit import audit
from ledger.bundle import MemoryBundle
from ledger.errors import BundleError
from node.bundle_files import DirectoryBundle, ZipBundle, open_bundle, open_bundle_sink
from tests.builders import ecosystem, flip, write_bundle

UNSAFE_NAMES = [
    "../x",
    "a/../../x",
    "/abs",
    "/etc/passwd",
    "a\\b",
    "..\\x",
    "C:x",
    "C:/x",
    "",
    "a//b",
    "./a",
    "a/.",
    "a/",
]


@pytest.fixture(scope="module")
def clean() -> dict[str, bytes]:
    return dict(ecosystem().bundle().files)


@pytest.fixture
def directory(tmp_path: Path) -> DirectoryBundle:
    root = tmp_path / "bundle"
    root.mkdir()
    (root / "a").write_bytes(b"x" * 100)
    return DirectoryBundle(root)


@pytest.fixture
def zipped(tmp_path: Path) -> Iterator[ZipBundle]:
    path = tmp_path / "bundle.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("a", b"x" * 100)
        z.writestr("../escape", b"evil")
    bundle = ZipBundle(path)
    yield bundle
    bundle.close()


# --- unsafe names -------------------------------------------------------------------


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_directory_refuses_unsafe_names(name: str, directory: DirectoryBundle) -> None:
    with pytest.raises(BundleError, match="unsafe"):
        directory.read(name, limit=1000)
    with pytest.raises(BundleError, match="unsafe"):
        directory.write(name, b"data")
    with pytest.raises(BundleError, match="unsafe"):
        directory.exists(name)
    assert not (directory.root.parent / "x").exists()


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_zip_refuses_unsafe_names(name: str, zipped: ZipBundle, tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="unsafe"):
        zipped.read(name, limit=1000)
    with pytest.raises(BundleError, match="unsafe"):
        zipped.exists(name)
    with ZipBundle(tmp_path / "out.zip", "w") as sink, pytest.raises(BundleError, match="unsafe"):
        sink.write(name, b"data")


def test_zip_member_with_unsafe_name_cannot_be_read(zipped: ZipBundle) -> None:
    assert "../escape" not in zipped.names("evidence/")
    with pytest.raises(BundleError):
        zipped.read("../escape", limit=100)


def test_directory_refuses_a_symlink_out_of_the_bundle(directory: DirectoryBundle) -> None:
    outside = directory.root.parent / "secret"
    outside.write_bytes(b"secret")
    (directory.root / "policy").symlink_to(outside)
    with pytest.raises(BundleError, match="outside the bundle"):
        directory.read("policy", limit=100)
    (directory.root / "inside").symlink_to(directory.root / "a")
    assert directory.read("inside", limit=100) == b"x" * 100


def test_directory_refuses_special_files(directory: DirectoryBundle) -> None:
    os.mkfifo(directory.root / "fifo")
    (directory.root / "folder").mkdir()
    with pytest.raises(BundleError, match="regular file"):
        directory.read("fifo", limit=100)  # would block forever if opened
    with pytest.raises(BundleError, match="regular file"):
        directory.read("folder", limit=100)


def test_hostile_zip_names_in_an_audit_are_notices(clean: dict[str, bytes], tmp_path: Path) -> None:
    path = write_bundle(clean, tmp_path / "b.zip")
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("evidence/../../../escape.txt", b"rdh/equivocation/v1\n")
    source = open_bundle(path)
    try:
        report = audit(source)
    finally:
        source.close()
    assert report.ok
    assert [f.rule for f in report.notices] == ["ref.outside", "evidence.invalid"]
    assert not (tmp_path.parent / "escape.txt").exists()


# --- size limits --------------------------------------------------------------------


def test_directory_enforces_the_size_limit(directory: DirectoryBundle) -> None:
    assert directory.read("a", limit=100) == b"x" * 100
    with pytest.raises(BundleError, match="99-byte limit"):
        directory.read("a", limit=99)


def test_zip_enforces_the_size_limit(zipped: ZipBundle) -> None:
    assert zipped.read("a", limit=100) == b"x" * 100
    with pytest.raises(BundleError, match="99-byte limit"):
        zipped.read("a", limit=99)


def test_zip_bomb_is_refused_before_inflating(tmp_path: Path) -> None:
    """A member that inflates beyond the limit (here 5 MiB from a few kilobytes)."""
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(bundle.MANIFEST, b" " * (5 << 20))
    assert path.stat().st_size < 64 << 10
    source = open_bundle(path)
    try:
        with pytest.raises(BundleError, match="limit"):
            bundle.read_manifest(source)
    finally:
        source.close()


def _lie_about_size(path: Path, name: bytes, size: int) -> None:
    """Rewrite the declared uncompressed size of member `name` (local and central headers)."""
    data = bytearray(path.read_bytes())
    local = data.index(b"PK\x03\x04")  # the only member's local header
    assert data[local + 30 : local + 30 + len(name)] == name
    data[local + 22 : local + 26] = size.to_bytes(4, "little")
    central = data.index(b"PK\x01\x02")
    assert data[central + 46 : central + 46 + len(name)] == name
    data[central + 24 : central + 28] = size.to_bytes(4, "little")
    path.write_bytes(bytes(data))


def test_zip_bomb_with_a_lying_header_is_refused(tmp_path: Path) -> None:
    """The declared size is small, the data inflates far beyond the limit: only the limit
    (or the CRC check) decides, never the header."""
    path = tmp_path / "liar.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(bundle.POLICY, b"\x00" * (4 << 20))
    _lie_about_size(path, bundle.POLICY.encode(), 100)
    with ZipBundle(path) as source, pytest.raises(BundleError, match="CRC"):
        source.read(bundle.POLICY, limit=bundle.LIMITS["policy"])


def test_zip_with_two_members_of_one_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.zip"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate: that is the point
        with zipfile.ZipFile(path, "w") as z:
            z.writestr(bundle.MANIFEST, b"{}")
            z.writestr(bundle.MANIFEST, b"[]")
    with pytest.raises(BundleError, match="same name"):
        open_bundle(path)


# --- opening and creating -------------------------------------------------------------


def test_open_bundle_refuses_what_is_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="no such bundle"):
        open_bundle(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BundleError, match=r"no manifest\.json"):
        open_bundle(tmp_path / "empty")
    (tmp_path / "garbage.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(BundleError, match="not a readable zip"):
        open_bundle(tmp_path / "garbage.zip")
    (tmp_path / "empty.zip").write_bytes(b"")
    with pytest.raises(BundleError, match="not a readable zip"):
        open_bundle(tmp_path / "empty.zip")


def test_open_bundle_sink_refuses_to_overwrite(clean: dict[str, bytes], tmp_path: Path) -> None:
    for name in ("out", "out.zip"):
        path = write_bundle(clean, tmp_path / name)
        with pytest.raises(BundleError, match="--force"):
            open_bundle_sink(path)
        sink = open_bundle_sink(path, force=True)
        sink.write("x", b"new")
        sink.close()
        source = open_bundle(path) if name.endswith(".zip") else DirectoryBundle(path)
        try:
            assert source.names("") == ["x"]
        finally:
            source.close()


def test_open_bundle_sink_never_removes_a_folder_that_is_not_a_bundle(tmp_path: Path) -> None:
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "thesis.txt").write_text("precious")
    with pytest.raises(BundleError, match="not a bundle"):
        open_bundle_sink(folder, force=True)
    assert (folder / "thesis.txt").read_text() == "precious"


def test_zip_writer_refuses_a_name_twice_and_cannot_be_pickled(tmp_path: Path) -> None:
    with ZipBundle(tmp_path / "w.zip", "w") as sink:
        sink.write("a", b"1")
        with pytest.raises(BundleError, match="twice"):
            sink.write("a", b"2")
        with pytest.raises(BundleError):
            pickle.dumps(sink)


def test_zip_reader_pickles_as_its_path(clean: dict[str, bytes], tmp_path: Path) -> None:
    path = write_bundle(clean, tmp_path / "p.zip")
    with ZipBundle(path) as source:
        copy = pickle.loads(pickle.dumps(source))
        assert copy.read(bundle.MANIFEST, limit=1 << 20) == clean[bundle.MANIFEST]


# --- directory and zip give the same audit ----------------------------------------------


def _audit_file(path: Path) -> dict[str, object]:
    source = open_bundle(path)
    try:
        return audit(source).to_dict()
    finally:
        source.close()


@pytest.mark.parametrize("tampered", [False, True], ids=["clean", "tampered"])
def test_directory_and_zip_round_trip_audit_alike(
    tampered: bool, clean: dict[str, bytes], tmp_path: Path
) -> None:
    files = dict(clean)
    if tampered:
        name = next(n for n in files if n.endswith("tile/entries/000"))
        files[name] = flip(files[name], 1000)
        del files[next(n for n in files if n.endswith("tile/0/000.p/12"))]
    expected = audit(MemoryBundle(dict(files))).to_dict()

    as_dir = _audit_file(write_bundle(files, tmp_path / "dir"))
    as_zip = _audit_file(write_bundle(files, tmp_path / "b.zip"))

    assert as_dir == as_zip == expected
    assert expected["ok"] is not tampered
    source = open_bundle(tmp_path / "b.zip")
    try:
        assert sorted(source.names("")) == sorted(files)
        for name, data in files.items():
            assert source.read(name, limit=len(data)) == data
    finally:
        source.close()
