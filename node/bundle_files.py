"""Audit bundles on disk: a directory tree or one `.zip` file.

These are the file-backed `ledger.bundle.BundleSource` / `BundleSink` implementations. Names
inside a bundle are slash-separated and relative; anything that could escape the bundle
(absolute paths, `..`, backslashes, drive letters) is refused, and every read is bounded by
the caller's size limit, so a hostile bundle can neither write outside its folder nor blow
up memory (zip bombs are caught by the limit on the decompressed size).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from ledger.errors import BundleError

__all__ = [
    "MAX_NAMES",
    "DirectoryBundle",
    "ZipBundle",
    "new_bundle",
    "open_bundle",
    "open_bundle_sink",
]

#: Most files a listing returns (evidence files, log folders): more is a hostile bundle.
MAX_NAMES = 1_000_000


def _check_name(name: str) -> str:
    parts = name.split("/")
    if (
        not name
        or name.startswith("/")
        or "\\" in name
        or ":" in name
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise BundleError(f"refusing unsafe file name {name!r} in bundle")
    return name


class DirectoryBundle:
    """A bundle laid out as a directory tree (the tlog-tiles layout, servable as is)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, name: str, *, limit: int) -> bytes:
        path = self.root / _check_name(name)
        # A hostile directory may hold a symlink out of the bundle, or a FIFO that blocks.
        try:
            inside = path.resolve().is_relative_to(self.root.resolve())
        except (OSError, RuntimeError) as e:  # RuntimeError: a symlink loop (Python 3.11)
            raise BundleError(f"cannot read {name} from the bundle: {e}") from e
        if not inside:
            raise BundleError(f"bundle file {name} links to outside the bundle")
        if path.exists() and not path.is_file():
            raise BundleError(f"bundle file {name} is not a regular file")
        try:
            with path.open("rb") as f:
                data = f.read(limit + 1)
        except FileNotFoundError:
            raise BundleError(f"the bundle has no file {name}") from None
        except OSError as e:
            raise BundleError(f"cannot read {name} from the bundle: {e.strerror}") from e
        if len(data) > limit:
            raise BundleError(f"bundle file {name} is larger than the {limit}-byte limit")
        return data

    def exists(self, name: str) -> bool:
        return (self.root / _check_name(name)).is_file()

    def names(self, prefix: str) -> list[str]:
        """Regular files under `prefix`, never following a symlink (in or out of the bundle);
        at most `MAX_NAMES`, so a hostile tree cannot make a listing endless."""
        folder = self.root / prefix.rstrip("/")
        if folder.is_symlink() or not folder.is_dir():
            return []
        found = []
        for dirpath, dirs, files in os.walk(folder):  # os.walk does not follow symlinks
            for file in files:
                path = Path(dirpath, file)
                if path.is_symlink() or not path.is_file():
                    continue
                found.append(path.relative_to(self.root).as_posix())
                if len(found) > MAX_NAMES:
                    raise BundleError(
                        f"the bundle holds more than {MAX_NAMES} files under {prefix}"
                    )
            dirs[:] = [d for d in dirs if not Path(dirpath, d).is_symlink()]
        return sorted(found)

    def write(self, name: str, data: bytes) -> None:
        path = self.root / _check_name(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("xb") as f:  # each name is written once
                f.write(data)
        except FileExistsError:
            raise BundleError(f"bundle file {name} written twice") from None

    def close(self) -> None:
        """Nothing to release for a directory."""


class ZipBundle:
    """A bundle stored as one `.zip` file, read or written member by member."""

    def __init__(self, path: Path, mode: str = "r") -> None:
        self.path = path
        try:
            if mode == "r":
                self._zip = zipfile.ZipFile(path, "r")
                infos = self._zip.infolist()
                self._members = {info.filename: info for info in infos}
                if len(self._members) != len(infos):
                    self._zip.close()
                    # Which copy counts would depend on the unzip tool: refuse to choose.
                    raise BundleError(f"{path} holds two files with the same name")
            else:
                self._zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
                self._members = {}
        except FileNotFoundError:
            raise BundleError(f"no such bundle: {path}") from None
        except (zipfile.BadZipFile, OSError) as e:
            raise BundleError(f"{path} is not a readable zip file: {e}") from e

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        """Pickle as a path: a worker process reopens the zip (once per process)."""
        if self._zip.mode != "r":
            raise BundleError("a zip bundle being written cannot be shared with other processes")
        return _reopen_zip, (str(self.path), self._zip.mode)

    def read(self, name: str, *, limit: int) -> bytes:
        info = self._members.get(_check_name(name))
        if info is None:
            raise BundleError(f"the bundle has no file {name}")
        if info.file_size > limit:
            raise BundleError(f"bundle file {name} is larger than the {limit}-byte limit")
        try:
            with self._zip.open(info) as f:
                data = f.read(limit + 1)
        except (
            zipfile.BadZipFile,
            OSError,
            EOFError,
            ValueError,
            NotImplementedError,  # an unsupported compression method
            RuntimeError,  # an encrypted member
        ) as e:
            raise BundleError(f"cannot read {name} from the zip: {e}") from e
        if len(data) > limit:
            raise BundleError(f"bundle file {name} is larger than the {limit}-byte limit")
        return data

    def exists(self, name: str) -> bool:
        return _check_name(name) in self._members

    def names(self, prefix: str) -> list[str]:
        return sorted(n for n in self._members if n.startswith(prefix) and not n.endswith("/"))

    def write(self, name: str, data: bytes) -> None:
        if name in self._members:
            raise BundleError(f"bundle file {name} written twice")
        info = zipfile.ZipInfo(_check_name(name), date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        self._zip.writestr(info, data)
        self._members[name] = info

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> ZipBundle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


_OPEN_ZIPS: dict[str, ZipBundle] = {}


def _reopen_zip(path: str, mode: str) -> ZipBundle:
    """Unpickle a zip bundle: one open `ZipBundle` per process and path."""
    bundle = _OPEN_ZIPS.get(path)
    if bundle is None:
        bundle = _OPEN_ZIPS[path] = ZipBundle(Path(path), mode)
    return bundle


def open_bundle(path: Path) -> DirectoryBundle | ZipBundle:
    """Open an existing bundle for reading: a directory, or a zip file."""
    if path.is_dir():
        if not (path / "manifest.json").is_file():
            raise BundleError(f"{path} is a directory but has no manifest.json: not a bundle")
        return DirectoryBundle(path)
    if not path.exists():
        raise BundleError(f"no such bundle: {path}")
    if not path.is_file():
        raise BundleError(f"{path} is neither a directory nor a regular (zip) file")
    return ZipBundle(path, "r")


def open_bundle_sink(path: Path, *, force: bool = False) -> DirectoryBundle | ZipBundle:
    """Create a new bundle at `path`: a zip if it ends in `.zip`, a directory otherwise.

    Written in place: prefer `new_bundle`, which leaves nothing behind if writing fails.
    """
    _check_replaceable(path, force=force)
    _remove(path)
    return _create(path)


@contextlib.contextmanager
def new_bundle(path: Path, *, force: bool = False) -> Iterator[DirectoryBundle | ZipBundle]:
    """Write a bundle all at once: under a temporary name beside `path`, moved into place
    only when complete. If writing fails, nothing is left and an existing `path` is kept."""
    _check_replaceable(path, force=force)
    partial = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
    _discard(partial)
    sink = _create(partial)
    try:
        yield sink
        sink.close()
    except BaseException:
        sink.close()
        _discard(partial)
        raise
    _remove(path)
    os.replace(partial, path)


def _check_replaceable(path: Path, *, force: bool) -> None:
    if not path.exists() and not path.is_symlink():
        return
    if not force:
        raise BundleError(f"{path} already exists (use --force to replace it)")
    if path.is_dir() and not path.is_symlink():
        _check_bundle_dir(path)
    elif not _is_zip_bundle(path):
        raise BundleError(f"{path} exists and is not a bundle; not replacing it")


def _create(path: Path) -> DirectoryBundle | ZipBundle:
    if path.suffix == ".zip":
        path.parent.mkdir(parents=True, exist_ok=True)
        return ZipBundle(path, "w")
    path.mkdir(parents=True)
    return DirectoryBundle(path)


def _remove(path: Path) -> None:
    """Remove a bundle `_check_replaceable` accepted (nothing if there is none)."""
    if path.is_dir() and not path.is_symlink():
        _remove_tree(path)
    elif path.exists():
        path.unlink()


def _discard(path: Path) -> None:
    """Remove a partial bundle of ours, whatever state it is in."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _is_zip_bundle(path: Path) -> bool:
    """Only a zip file holding a manifest.json is a bundle that --force may replace."""
    if path.is_symlink() or not path.is_file() or path.suffix != ".zip":
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return "manifest.json" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def _check_bundle_dir(path: Path) -> None:
    if not (path / "manifest.json").is_file() and any(path.iterdir()):
        raise BundleError(f"{path} is a non-empty directory that is not a bundle; not removing it")


def _remove_tree(path: Path) -> None:
    _check_bundle_dir(path)
    for dirpath, _dirs, files in os.walk(path, topdown=False):
        for file in files:
            Path(dirpath, file).unlink()
        Path(dirpath).rmdir()
