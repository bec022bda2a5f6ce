"""The audit bundle (DESIGN §4.4): its layout, its manifest, and streaming read and write.

A bundle is a tree of named files: `manifest.json`, an optional `policy`, and for each log
`logs/<log id>/checkpoint` plus its tlog-tiles (`tile/<L>/<N>`, `tile/entries/<N>`), and
`evidence/<n>.txt`. This module knows the names and the formats; where the bytes live (a
directory, a `.zip`, memory) is behind the `BundleSource` / `BundleSink` protocols, whose
file-backed implementations live in `node/`. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from ledger import canonical, tiles
from ledger.checkpoint import log_origin
from ledger.entry import MAX_ENTRY_BYTES
from ledger.errors import BundleError, FormatError
from ledger.statement import check_time
from ledger.types import Hash, LogId

__all__ = [
    "EVIDENCE_PREFIX",
    "FORMAT",
    "LIMITS",
    "MANIFEST",
    "POLICY",
    "BundleSink",
    "BundleSource",
    "LogInfo",
    "LogWriter",
    "Manifest",
    "MemoryBundle",
    "checkpoint_path",
    "entry_bundles",
    "log_prefix",
    "read_manifest",
]

FORMAT = "rdh-bundle/v1"
MANIFEST = "manifest.json"
POLICY = "policy"
EVIDENCE_PREFIX = "evidence/"

#: Largest size accepted for each kind of file, so a hostile bundle cannot exhaust memory.
LIMITS = {
    "manifest": 4 << 20,
    "policy": 1 << 20,
    "checkpoint": 64 << 10,
    "evidence": 256 << 10,
    "tile": tiles.TILE_WIDTH * 32,
    "entries": tiles.TILE_WIDTH * (2 + MAX_ENTRY_BYTES),
}


class BundleSource(Protocol):
    """Read access to the files of a bundle, by their slash-separated names."""

    def read(self, name: str, *, limit: int) -> bytes:
        """Return the file's bytes; raise `BundleError` if it is missing or larger than `limit`."""
        ...

    def exists(self, name: str) -> bool:
        """Tell whether the bundle holds a file of that name."""
        ...

    def names(self, prefix: str) -> list[str]:
        """List the names of the files under `prefix`, sorted."""
        ...


class BundleSink(Protocol):
    """Write access to a bundle being created."""

    def write(self, name: str, data: bytes) -> None:
        """Store one file (each name is written once)."""
        ...


def log_prefix(log_id: str) -> str:
    """The folder of one log inside the bundle."""
    return f"logs/{log_id}/"


def checkpoint_path(log_id: str) -> str:
    """Where a log's cosigned checkpoint is stored."""
    return log_prefix(log_id) + "checkpoint"


@dataclass(frozen=True, slots=True)
class LogInfo:
    """One log as listed in the manifest."""

    id: LogId
    origin: str
    vkey: str
    size: int

    def __post_init__(self) -> None:
        try:
            origin = log_origin(self.id)
        except FormatError:
            raise FormatError(
                f"manifest: log id {self.id!r} is not 64 lowercase hex digits"
            ) from None
        if self.origin != origin:
            raise FormatError(f"manifest: log {self.id} has origin {self.origin!r}, not rdh/<id>")
        if type(self.size) is not int or self.size < 0:
            raise FormatError(f"manifest: log {self.id} has an invalid size")

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "origin": self.origin, "vkey": self.vkey, "size": self.size}


@dataclass(frozen=True, slots=True)
class Manifest:
    """`manifest.json`: format version, exporter, and the logs the bundle holds."""

    exporter: str
    logs: tuple[LogInfo, ...]
    exported_at: str | None = None
    format: str = FORMAT

    def __post_init__(self) -> None:
        if self.exported_at is not None:
            check_time(self.exported_at, what="manifest: 'exported_at'")
        if self.format != FORMAT:
            raise FormatError(f"manifest: unsupported format {self.format!r} (expected {FORMAT})")
        ids = [log.id for log in self.logs]
        if len(set(ids)) != len(ids):
            raise FormatError("manifest: a log is listed twice")

    def to_bytes(self) -> bytes:
        value: dict[str, object] = {
            "format": self.format,
            "exporter": self.exporter,
            "logs": [log.to_dict() for log in self.logs],
        }
        if self.exported_at is not None:
            value["exported_at"] = self.exported_at
        return canonical.canonicalize(value)  # type: ignore[arg-type]

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        value = canonical.parse_canonical(data)
        if not isinstance(value, dict):
            raise FormatError("manifest: not a JSON object")
        known = {"format", "exporter", "logs", "exported_at"}
        if unknown := set(value) - known:
            raise FormatError(f"manifest: unknown field(s) {', '.join(sorted(unknown))}")
        fmt, exporter, logs = value.get("format"), value.get("exporter"), value.get("logs")
        exported_at = value.get("exported_at")
        if not isinstance(fmt, str) or not isinstance(exporter, str):
            raise FormatError("manifest: 'format' and 'exporter' must be strings")
        if not isinstance(logs, list):
            raise FormatError("manifest: 'logs' must be a list")
        if exported_at is not None and not isinstance(exported_at, str):
            raise FormatError("manifest: 'exported_at' must be a time string")
        return cls(
            format=fmt,
            exporter=exporter,
            exported_at=exported_at,
            logs=tuple(_log_info(item) for item in logs),
        )


def _log_info(item: object) -> LogInfo:
    if not isinstance(item, dict) or set(item) != {"id", "origin", "vkey", "size"}:
        raise FormatError("manifest: each log needs exactly id, origin, vkey and size")
    log_id, origin, vkey, size = item["id"], item["origin"], item["vkey"], item["size"]
    if not (isinstance(log_id, str) and isinstance(origin, str) and isinstance(vkey, str)):
        raise FormatError("manifest: log id, origin and vkey must be strings")
    if not isinstance(size, int) or isinstance(size, bool):
        raise FormatError("manifest: log size must be an integer")
    return LogInfo(id=LogId(log_id), origin=origin, vkey=vkey, size=size)


def read_manifest(source: BundleSource) -> Manifest:
    """Read and parse `manifest.json` (`BundleError` if missing, `FormatError` if malformed)."""
    return Manifest.from_bytes(source.read(MANIFEST, limit=LIMITS["manifest"]))


def entry_bundles(source: BundleSource, log: LogInfo) -> Iterator[tuple[int, int, bytes]]:
    """Yield `(start index, entry count, bundle bytes)` for every entry bundle of a log, in order.

    Only one bundle is held at a time. A missing bundle raises `BundleError`.
    """
    prefix = log_prefix(log.id)
    full, rest = divmod(log.size, tiles.TILE_WIDTH)
    for index in range(full + (1 if rest else 0)):  # lazily: the size may be hostile
        width = tiles.TILE_WIDTH if index < full else rest
        name = prefix + tiles.entries_path(index, width)
        yield index * tiles.TILE_WIDTH, width, source.read(name, limit=LIMITS["entries"])


class LogWriter:
    """Streams one log's entries into a bundle: entry bundles and hash tiles, O(1) memory.

    Call `append` for each entry in order, then `finish` with the signed checkpoint note
    whose root must be `root()`.
    """

    def __init__(self, sink: BundleSink, log_id: LogId) -> None:
        self._sink = sink
        self._prefix = log_prefix(log_id)
        self._pending: list[bytes] = []
        self._builder = tiles.TileBuilder()
        self._size = 0

    @property
    def size(self) -> int:
        return self._size

    def append(self, entry: bytes, leaf_hash: Hash) -> None:
        """Add the next entry (its bytes and RFC 6962 leaf hash)."""
        self._pending.append(entry)
        self._size += 1
        for ref, data in self._builder.append(leaf_hash):
            self._sink.write(self._prefix + tiles.tile_path(ref.level, ref.index, ref.width), data)
        if len(self._pending) == tiles.TILE_WIDTH:
            index = (self._size - 1) // tiles.TILE_WIDTH
            name = self._prefix + tiles.entries_path(index, tiles.TILE_WIDTH)
            self._sink.write(name, tiles.encode_entry_bundle(self._pending))
            self._pending = []

    def root(self) -> Hash:
        """Root hash of the entries appended so far."""
        return self._builder.root()

    def finish(self, checkpoint: bytes) -> None:
        """Write the partial tiles and the cosigned checkpoint note."""
        if self._pending:
            index = self._size // tiles.TILE_WIDTH
            name = self._prefix + tiles.entries_path(index, len(self._pending))
            self._sink.write(name, tiles.encode_entry_bundle(self._pending))
            self._pending = []
        for ref, data in self._builder.finish(self._size):
            self._sink.write(self._prefix + tiles.tile_path(ref.level, ref.index, ref.width), data)
        self._sink.write(self._prefix + "checkpoint", checkpoint)


@dataclass(slots=True)
class MemoryBundle:
    """A bundle held in a dict: both a source and a sink (tests, benchmarks, small exports)."""

    files: dict[str, bytes] = field(default_factory=dict)

    def write(self, name: str, data: bytes) -> None:
        if name in self.files:
            raise BundleError(f"bundle file {name} written twice")
        self.files[name] = bytes(data)

    def read(self, name: str, *, limit: int) -> bytes:
        try:
            data = self.files[name]
        except KeyError:
            raise BundleError(f"the bundle has no file {name}") from None
        if len(data) > limit:
            raise BundleError(f"bundle file {name} is larger than {limit} bytes")
        return data

    def exists(self, name: str) -> bool:
        return name in self.files

    def names(self, prefix: str) -> list[str]:
        return sorted(name for name in self.files if name.startswith(prefix))
