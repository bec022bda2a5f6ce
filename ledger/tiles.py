"""C2SP tlog-tiles: tile paths, the tiles a tree needs, entry bundles, building and reading.

A hash tile ``tile/<L>/<N>[.p/<W>]`` holds up to 256 consecutive hashes of level ``8*L`` of
the RFC 6962 tree: entry ``i`` of tile ``N`` at level ``L`` is the hash of leaves
``[(N*256+i)*256**L, (N*256+i+1)*256**L)``. A full tile has 256 hashes (8,192 bytes); the
last tile of a level is partial, with ``W = floor(size/256**L) mod 256`` hashes, and empty
tiles do not exist. An entry bundle ``tile/entries/<N>[.p/<W>]`` holds the matching entries,
each prefixed by its length as a big-endian uint16.

This module owns the format and the arithmetic. Reading and writing tiles is the caller's
job: `TileBuilder` yields tile bytes to store, and `tile_hash_at` turns a ``read_tile``
callback into the `ledger.merkle.HashAt` that the proof builders take.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from itertools import islice

from ledger.errors import FormatError, LedgerError
from ledger.merkle import EMPTY_ROOT, HASH_SIZE, HashAt, node_hash, root
from ledger.types import Hash

__all__ = [
    "MAX_BUNDLE_ENTRY_BYTES",
    "MAX_TILE_LEVEL",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "ReadTile",
    "SubtreeKey",
    "TileBuilder",
    "TileRef",
    "decode_entry_bundle",
    "encode_entry_bundle",
    "entries_path",
    "entry_bundles_for_size",
    "parse_tile_path",
    "tile_hash_at",
    "tile_path",
    "tiles_for_size",
]

#: Levels of the Merkle tree covered by one tile.
TILE_HEIGHT = 8
#: Hashes (or entries) in a full tile.
TILE_WIDTH = 1 << TILE_HEIGHT
#: Highest tile level a path may name.
MAX_TILE_LEVEL = 63
#: Largest entry an entry bundle can hold (uint16 length prefix).
MAX_BUNDLE_ENTRY_BYTES = 0xFFFF

#: ``read_tile(ref)`` returns the bytes of one stored tile (exactly ``ref.width`` hashes).
ReadTile = Callable[["TileRef"], bytes]
#: A perfect subtree inside a tile: (tile level, tile index, first hash, height). Its hash is
#: fixed once the tree has its leaves, whatever the tile's width (see `tile_hash_at`).
SubtreeKey = tuple[int, int, int, int]

_MAX_INDEX = 1 << 64
_FULL_BYTES = TILE_WIDTH * HASH_SIZE
_LEVEL_RE = re.compile(r"0|[1-9][0-9]?")
_WIDTH_RE = re.compile(r"[1-9][0-9]{0,2}")
_INNER_RE = re.compile(r"x[0-9]{3}")
_LAST_RE = re.compile(r"[0-9]{3}")


@dataclass(frozen=True, slots=True)
class TileRef:
    """One tile: hash tile `level`/`index`, or entry bundle `index`, holding `width` items."""

    level: int
    index: int
    width: int = TILE_WIDTH
    is_entries: bool = False

    def __post_init__(self) -> None:
        for name in ("level", "index", "width"):
            value = getattr(self, name)
            if type(value) is not int:
                raise FormatError(f"tile {name} must be an int, not {type(value).__name__}.")
        if not 0 <= self.level <= MAX_TILE_LEVEL:
            raise FormatError(f"tile level {self.level} is not between 0 and {MAX_TILE_LEVEL}.")
        if self.is_entries and self.level != 0:
            raise FormatError("an entry bundle has no level other than 0.")
        if not 0 <= self.index < _MAX_INDEX:
            raise FormatError(f"tile index {self.index} is not between 0 and 2**64-1.")
        if not 1 <= self.width <= TILE_WIDTH:
            raise FormatError(f"tile width {self.width} is not between 1 and {TILE_WIDTH}.")

    @property
    def is_partial(self) -> bool:
        """True if the tile holds fewer than 256 items."""
        return self.width < TILE_WIDTH

    @property
    def path(self) -> str:
        """The tile's path, e.g. ``tile/0/x001/x234/067.p/5`` or ``tile/entries/000``."""
        n = self.index
        text = f"{n % 1000:03d}"
        while n >= 1000:
            n //= 1000
            text = f"x{n % 1000:03d}/{text}"
        kind = "entries" if self.is_entries else str(self.level)
        suffix = f".p/{self.width}" if self.is_partial else ""
        return f"tile/{kind}/{text}{suffix}"


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """Return the path of hash tile `index` at `level` holding `width` hashes."""
    return TileRef(level, index, width).path


def entries_path(index: int, width: int = TILE_WIDTH) -> str:
    """Return the path of entry bundle `index` holding `width` entries."""
    return TileRef(0, index, width, is_entries=True).path


def parse_tile_path(path: str) -> TileRef:
    """Parse a tile or entry bundle path, accepting only the canonical form."""
    if not isinstance(path, str):
        raise FormatError("a tile path must be a string.")
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "tile":
        raise FormatError(f"{path!r} is not a tile path.")
    width = TILE_WIDTH
    if len(parts) >= 4 and parts[-2].endswith(".p"):
        if not _WIDTH_RE.fullmatch(parts[-1]) or int(parts[-1]) >= TILE_WIDTH:
            raise FormatError(f"{path!r} has a partial width that is not between 1 and 255.")
        width = int(parts[-1])
        parts = [*parts[:-2], parts[-2][:-2]]
    is_entries = parts[1] == "entries"
    level = 0
    if not is_entries:
        if not _LEVEL_RE.fullmatch(parts[1]) or int(parts[1]) > MAX_TILE_LEVEL:
            raise FormatError(f"{path!r} has a level that is not between 0 and 63.")
        level = int(parts[1])
    elements = parts[2:]
    if len(elements) > 7:
        raise FormatError(f"{path!r} has a tile index that is too large.")
    if not _LAST_RE.fullmatch(elements[-1]) or not all(
        _INNER_RE.fullmatch(e) for e in elements[:-1]
    ):
        raise FormatError(f"{path!r} has a malformed tile index.")
    if len(elements) > 1 and elements[0] == "x000":
        raise FormatError(f"{path!r} has a tile index with leading zeros.")
    index = 0
    for element in elements:
        index = index * 1000 + int(element.removeprefix("x"))
    return TileRef(level, index, width, is_entries=is_entries)


def tiles_for_size(size: int) -> list[TileRef]:
    """Return every hash tile of a tree of `size` leaves, level by level, partial ones last."""
    if size < 0:
        raise LedgerError(f"tree size {size} is negative.")
    refs: list[TileRef] = []
    level = 0
    while count := size >> (TILE_HEIGHT * level):
        refs.extend(_level_refs(level, count, is_entries=False))
        level += 1
    return refs


def entry_bundles_for_size(size: int) -> list[TileRef]:
    """Return every entry bundle of a log of `size` entries."""
    if size < 0:
        raise LedgerError(f"tree size {size} is negative.")
    return _level_refs(0, size, is_entries=True)


def _level_refs(level: int, count: int, *, is_entries: bool) -> list[TileRef]:
    full, rest = divmod(count, TILE_WIDTH)
    refs = [TileRef(level, n, is_entries=is_entries) for n in range(full)]
    if rest:
        refs.append(TileRef(level, full, rest, is_entries=is_entries))
    return refs


def encode_entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Return an entry bundle: each entry prefixed by its big-endian uint16 length."""
    if not 1 <= len(entries) <= TILE_WIDTH:
        raise FormatError(f"an entry bundle holds 1 to {TILE_WIDTH} entries, not {len(entries)}.")
    parts: list[bytes] = []
    for entry in entries:
        if len(entry) > MAX_BUNDLE_ENTRY_BYTES:
            raise FormatError(f"an entry of {len(entry)} bytes does not fit in an entry bundle.")
        parts.append(len(entry).to_bytes(2, "big"))
        parts.append(entry)
    return b"".join(parts)


def decode_entry_bundle(data: bytes, count: int | None = None) -> list[bytes]:
    """Split an entry bundle into its entries; with `count`, require exactly that many."""
    if count is not None and not 1 <= count <= TILE_WIDTH:
        raise LedgerError(f"an entry bundle holds 1 to {TILE_WIDTH} entries, not {count}.")
    limit = TILE_WIDTH if count is None else count
    entries: list[bytes] = []
    pos, end = 0, len(data)
    while pos < end:
        if len(entries) == limit:
            raise FormatError(f"the entry bundle has trailing bytes after {limit} entries.")
        if pos + 2 > end:
            raise FormatError("the entry bundle ends inside a length prefix.")
        stop = pos + 2 + (data[pos] << 8 | data[pos + 1])
        if stop > end:
            raise FormatError("the entry bundle ends inside an entry.")
        entries.append(bytes(data[pos + 2 : stop]))
        pos = stop
    if not entries:
        raise FormatError("the entry bundle is empty.")
    if count is not None and len(entries) != count:
        raise FormatError(f"the entry bundle has {len(entries)} entries, not {count}.")
    return entries


def _perfect_root(data: bytes, first: int, count: int) -> Hash:
    """Root of the `count` (a power of two) hashes of `data` starting at hash `first`."""
    start = first * HASH_SIZE
    hashes = [
        Hash(data[i : i + HASH_SIZE]) for i in range(start, start + count * HASH_SIZE, HASH_SIZE)
    ]
    return root(hashes)


def _check_tile(ref: TileRef, data: bytes) -> bytes:
    if len(data) != ref.width * HASH_SIZE:
        raise FormatError(f"tile {ref.path} has {len(data)} bytes, not {ref.width * HASH_SIZE}.")
    return data


def tile_hash_at(
    read_tile: ReadTile,
    size: int,
    *,
    cache: int = 16,
    roots: MutableMapping[SubtreeKey, Hash] | None = None,
) -> HashAt:
    """Return a `HashAt` for the tree of `size` leaves served from its hash tiles.

    A subtree at level ``8*L + h`` is computed from ``2**h`` hashes of one level-L tile (the
    partial tile when it lies on the right edge). The last `cache` tiles read are kept.
    `roots`, if given, remembers the subtrees computed (``h > 0``) and is asked first: a
    caller that proves many trees of one log (its write path) keeps one across calls. It must
    only hold hashes of this log's leaves that the caller trusts to stay (committed ones).
    `read_tile` should raise a `LedgerError` (e.g. `BundleError`) for a missing tile; a tile
    of the wrong length raises `FormatError`.
    """
    if size < 0:
        raise LedgerError(f"tree size {size} is negative.")
    tiles: dict[TileRef, bytes] = {}

    def hash_at(level: int, n: int) -> Hash:
        if level < 0 or n < 0 or (n + 1) << level > size:
            raise LedgerError(f"a tree of size {size} has no subtree at level {level} index {n}.")
        tile_level, height = divmod(level, TILE_HEIGHT)
        tile_index, first = divmod(n << height, TILE_WIDTH)
        key = (tile_level, tile_index, first, height)
        if height and roots is not None and (known := roots.get(key)) is not None:
            return known
        available = (size >> (TILE_HEIGHT * tile_level)) - tile_index * TILE_WIDTH
        ref = TileRef(tile_level, tile_index, min(available, TILE_WIDTH))
        data = tiles.get(ref)
        if data is None:
            data = _check_tile(ref, read_tile(ref))
            if len(tiles) >= cache:
                tiles.clear()
            tiles[ref] = data
        if height == 0:
            return Hash(data[first * HASH_SIZE : (first + 1) * HASH_SIZE])
        subtree = _perfect_root(data, first, 1 << height)
        if roots is not None:
            roots[key] = subtree
        return subtree

    return hash_at


class TileBuilder:
    """Builds the hash tiles of a growing tree from its leaf hashes, in order.

    `append`/`extend` return the tiles that became full; `finish` returns the partial tiles
    of the current size. Memory is one tile buffer per level. `root` keeps, per level, the
    perfect subtrees of the hashes it has seen (at most nine), so calling it after every few
    appends costs hashes only for what was added since.
    """

    __slots__ = ("_buffers", "_peaks", "_size")

    def __init__(self) -> None:
        self._buffers: list[bytearray] = [bytearray()]
        #: per level: (height, hash) of the perfect subtrees covering the buffer's first
        #: hashes, left to right (highest first); brought up to date by `root`
        self._peaks: list[list[tuple[int, Hash]]] = [[]]
        self._size = 0

    @classmethod
    def from_tiles(cls, size: int, read_tile: ReadTile) -> TileBuilder:
        """Resume building a tree of `size` leaves from its stored partial tiles."""
        if size < 0:
            raise LedgerError(f"tree size {size} is negative.")
        builder = cls()
        level = 0
        while count := size >> (TILE_HEIGHT * level):
            if level:
                builder._buffers.append(bytearray())
                builder._peaks.append([])
            if width := count % TILE_WIDTH:
                ref = TileRef(level, count // TILE_WIDTH, width)
                builder._buffers[level] += _check_tile(ref, read_tile(ref))
            level += 1
        builder._size = size
        return builder

    @property
    def size(self) -> int:
        """Number of leaf hashes added so far."""
        return self._size

    def copy(self) -> TileBuilder:
        """An independent builder in the same state."""
        other = TileBuilder()
        other._buffers = [bytearray(buffer) for buffer in self._buffers]
        other._peaks = [list(peaks) for peaks in self._peaks]
        other._size = self._size
        return other

    def append(self, leaf_hash: Hash) -> list[tuple[TileRef, bytes]]:
        """Add one leaf hash; return the tiles it completed (usually none)."""
        if len(leaf_hash) != HASH_SIZE:
            raise LedgerError(f"a leaf hash must be {HASH_SIZE} bytes, not {len(leaf_hash)}.")
        buffer = self._buffers[0]
        buffer += leaf_hash
        self._size += 1
        done: list[tuple[TileRef, bytes]] = []
        if len(buffer) == _FULL_BYTES:
            self._flush(done)
        return done

    def extend(self, leaf_hashes: Iterable[Hash]) -> list[tuple[TileRef, bytes]]:
        """Add leaf hashes in order; return the full tiles they completed, lowest level first
        within each completed group."""
        done: list[tuple[TileRef, bytes]] = []
        it = iter(leaf_hashes)
        buffer = self._buffers[0]
        while True:
            room = (_FULL_BYTES - len(buffer)) // HASH_SIZE
            chunk = list(islice(it, room))
            if not chunk:
                return done
            for h in chunk:
                if len(h) != HASH_SIZE:
                    raise LedgerError(f"a leaf hash must be {HASH_SIZE} bytes, not {len(h)}.")
            buffer += b"".join(chunk)
            self._size += len(chunk)
            if len(buffer) == _FULL_BYTES:
                self._flush(done)

    def _flush(self, done: list[tuple[TileRef, bytes]]) -> None:
        level = 0
        buffers = self._buffers
        while len(buffers[level]) == _FULL_BYTES:
            data = bytes(buffers[level])
            index = (self._size >> (TILE_HEIGHT * level)) // TILE_WIDTH - 1
            done.append((TileRef(level, index), data))
            buffers[level].clear()
            self._peaks[level].clear()
            level += 1
            if level == len(buffers):
                buffers.append(bytearray())
                self._peaks.append([])
            buffers[level] += _perfect_root(data, 0, TILE_WIDTH)

    def finish(self, size: int | None = None) -> list[tuple[TileRef, bytes]]:
        """Return the partial tiles of the current size (the builder may keep growing).

        `size`, if given, must be the number of leaf hashes added.
        """
        if size is not None and size != self._size:
            raise LedgerError(f"the tile builder has {self._size} leaves, not {size}.")
        tiles: list[tuple[TileRef, bytes]] = []
        for level, buffer in enumerate(self._buffers):
            if buffer:
                index = (self._size >> (TILE_HEIGHT * level)) // TILE_WIDTH
                tiles.append((TileRef(level, index, len(buffer) // HASH_SIZE), bytes(buffer)))
        return tiles

    def root(self) -> Hash:
        """Return the root of the tree built so far."""
        subtrees: list[Hash] = []
        for level in range(len(self._buffers) - 1, -1, -1):
            subtrees.extend(subtree for _, subtree in self._level_peaks(level))
        if not subtrees:
            return EMPTY_ROOT
        acc = subtrees.pop()
        while subtrees:
            acc = node_hash(subtrees.pop(), acc)
        return acc

    def _level_peaks(self, level: int) -> list[tuple[int, Hash]]:
        """The perfect subtrees of level `level`'s buffer, updated with its new hashes."""
        buffer, peaks = self._buffers[level], self._peaks[level]
        covered = sum(1 << height for height, _ in peaks) * HASH_SIZE
        for start in range(covered, len(buffer), HASH_SIZE):
            height, subtree = 0, Hash(bytes(buffer[start : start + HASH_SIZE]))
            while peaks and peaks[-1][0] == height:
                subtree = node_hash(peaks.pop()[1], subtree)
                height += 1
            peaks.append((height, subtree))
        return peaks
