"""C2SP tlog-tiles: paths, tile sets, entry bundles, building tiles and proofs from tiles."""

from __future__ import annotations

import hashlib
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle, tiles
from ledger.errors import BundleError, FormatError, LedgerError
from ledger.tiles import TileBuilder, TileRef
from ledger.types import Hash

N = 70_000
LEAVES = [Hash(hashlib.sha256(i.to_bytes(8, "big")).digest()) for i in range(N)]
TREE = merkle.MemoryTree(LEAVES)


def build(size: int) -> dict[TileRef, bytes]:
    """Every tile of the tree of `size` leaves, built with TileBuilder."""
    builder = TileBuilder()
    store = dict(builder.extend(LEAVES[:size]))
    store.update(builder.finish(size))
    return store


# Every tile needed by the fixed sizes below, plus the partial tiles of every size up to
# 2,100 (partial tiles of different widths are different tiles, so they share one store).
SNAPSHOTS = (255, 256, 257, 65535, 65536, 65537, N)
STORE: dict[TileRef, bytes] = {}
_builder = TileBuilder()
for _size in range(1, N + 1):
    STORE.update(_builder.append(LEAVES[_size - 1]))
    if _size <= 2100 or _size in SNAPSHOTS:
        STORE.update(_builder.finish())


# Paths.

PATHS = {
    "zero": ((0, 0, 256), "tile/0/000"),
    "small": ((0, 5, 256), "tile/0/005"),
    "thousand": ((0, 1000, 256), "tile/0/x001/000"),
    "spec-example": ((0, 1234067, 256), "tile/0/x001/x234/067"),
    "spec-partial": ((0, 1234067, 5), "tile/0/x001/x234/067.p/5"),
    "level-one-partial": ((1, 0, 17), "tile/1/000.p/17"),
    "top-level": ((63, 999, 255), "tile/63/999.p/255"),
    "largest-index": ((2, 2**64 - 1, 1), "tile/2/x018/x446/x744/x073/x709/x551/615.p/1"),
}


@pytest.mark.parametrize(("args", "path"), PATHS.values(), ids=PATHS.keys())
def test_tile_paths(args: tuple[int, int, int], path: str) -> None:
    assert tiles.tile_path(*args) == path
    assert tiles.parse_tile_path(path) == TileRef(*args)
    assert TileRef(*args).path == path


def test_entry_bundle_paths() -> None:
    assert tiles.entries_path(1234067) == "tile/entries/x001/x234/067"
    assert tiles.entries_path(0, 112) == "tile/entries/000.p/112"
    ref = tiles.parse_tile_path("tile/entries/x001/x234/067.p/5")
    assert ref == TileRef(0, 1234067, 5, is_entries=True)
    assert ref.is_partial
    assert not tiles.parse_tile_path("tile/entries/273").is_partial


@settings(max_examples=300)
@given(
    level=st.integers(0, 63),
    index=st.one_of(st.integers(0, 5000), st.integers(0, 2**64 - 1)),
    width=st.integers(1, 256),
    is_entries=st.booleans(),
)
def test_paths_round_trip(level: int, index: int, width: int, is_entries: bool) -> None:
    ref = TileRef(0 if is_entries else level, index, width, is_entries=is_entries)
    assert tiles.parse_tile_path(ref.path) == ref


BAD_PATHS = {
    "empty": "",
    "no-index": "tile/0",
    "empty-index": "tile/0/",
    "not-tile": "tiles/0/000",
    "leading-slash": "/tile/0/000",
    "level-leading-zero": "tile/00/000",
    "level-leading-zero-2": "tile/01/000",
    "level-64": "tile/64/000",
    "level-negative": "tile/-1/000",
    "level-plus": "tile/+1/000",
    "level-hex": "tile/0x1/000",
    "level-missing": "tile//000",
    "index-short": "tile/0/01",
    "index-long": "tile/0/0001",
    "index-not-padded": "tile/0/5",
    "index-missing-x": "tile/0/001/234",
    "index-last-with-x": "tile/0/x001/x234",
    "index-x-leading-zero": "tile/0/x000/001",
    "index-x-wrong-length": "tile/0/x01/001",
    "index-letters": "tile/0/00a",
    "index-unicode-digits": "tile/0/\u0660\u0660\u0660",
    "index-too-large": "tile/0/x018/x446/x744/x073/x709/x551/616",
    "index-too-many-groups": "tile/0/x001/x000/x000/x000/x000/x000/x000/000",
    "trailing-slash": "tile/0/000/",
    "trailing-newline": "tile/0/000\n",
    "width-zero": "tile/0/000.p/0",
    "width-256": "tile/0/000.p/256",
    "width-leading-zero": "tile/0/000.p/05",
    "width-missing": "tile/0/000.p/",
    "width-no-slash": "tile/0/000.p",
    "width-extra": "tile/0/000.p/5/6",
    "width-letters": "tile/0/000.p/5x",
    "width-on-inner": "tile/0/x001.p/5/000",
    "entries-width-256": "tile/entries/000.p/256",
    "entries-without-index": "tile/entries",
    "entries-leading-zero": "tile/entries/x000/000",
    "entries-with-level": "tile/entries/0/000",
    "double-slash": "tile/0//000",
}


@pytest.mark.parametrize("path", BAD_PATHS.values(), ids=BAD_PATHS.keys())
def test_parse_tile_path_rejects(path: str) -> None:
    with pytest.raises(FormatError):
        tiles.parse_tile_path(path)


def test_parse_tile_path_rejects_non_strings() -> None:
    with pytest.raises(FormatError, match="must be a string"):
        tiles.parse_tile_path(b"tile/0/000")  # type: ignore[arg-type]


BAD_REFS = {
    "level-64": (64, 0, 256, False),
    "level-negative": (-1, 0, 256, False),
    "index-negative": (0, -1, 256, False),
    "index-2**64": (0, 2**64, 256, False),
    "width-0": (0, 0, 0, False),
    "width-257": (0, 0, 257, False),
    "entries-level-1": (1, 0, 256, True),
    "bool-level": (True, 0, 256, False),
}


@pytest.mark.parametrize(("level", "index", "width", "entries"), BAD_REFS.values(), ids=BAD_REFS)
def test_tile_ref_rejects_invalid_values(level: int, index: int, width: int, entries: bool) -> None:
    with pytest.raises(FormatError):
        TileRef(level, index, width, is_entries=entries)
    if not entries:
        with pytest.raises(FormatError):
            tiles.tile_path(level, index, width)


# The tiles of a tree.


def test_tiles_for_70000() -> None:
    expected = [TileRef(0, n) for n in range(273)]
    expected += [TileRef(0, 273, 112), TileRef(1, 0), TileRef(1, 1, 17), TileRef(2, 0, 1)]
    assert tiles.tiles_for_size(70_000) == expected
    bundles = tiles.entry_bundles_for_size(70_000)
    assert bundles == [TileRef(0, n, is_entries=True) for n in range(273)] + [
        TileRef(0, 273, 112, is_entries=True)
    ]
    assert bundles[-1].path == "tile/entries/273.p/112"


TILE_SETS = {
    "empty": (0, []),
    "one": (1, [TileRef(0, 0, 1)]),
    "255": (255, [TileRef(0, 0, 255)]),
    "256": (256, [TileRef(0, 0), TileRef(1, 0, 1)]),
    "257": (257, [TileRef(0, 0), TileRef(0, 1, 1), TileRef(1, 0, 1)]),
    "512": (512, [TileRef(0, 0), TileRef(0, 1), TileRef(1, 0, 2)]),
    "65536": (65536, [*(TileRef(0, n) for n in range(256)), TileRef(1, 0), TileRef(2, 0, 1)]),
}


@pytest.mark.parametrize(("size", "expected"), TILE_SETS.values(), ids=TILE_SETS.keys())
def test_tiles_for_size(size: int, expected: list[TileRef]) -> None:
    assert tiles.tiles_for_size(size) == expected


def test_tiles_for_a_larger_size() -> None:
    refs = tiles.tiles_for_size(2**24 + 3)
    assert len(refs) == 65536 + 1 + 256 + 1 + 1
    assert refs[65536] == TileRef(0, 65536, 3)
    assert refs[-3:] == [TileRef(1, 255), TileRef(2, 0), TileRef(3, 0, 1)]
    with pytest.raises(LedgerError, match="negative"):
        tiles.tiles_for_size(-1)
    with pytest.raises(LedgerError, match="negative"):
        tiles.entry_bundles_for_size(-1)


# Entry bundles.


def test_entry_bundle_bytes() -> None:
    assert tiles.encode_entry_bundle([b"ab", b"", b"c"]) == b"\x00\x02ab\x00\x00\x00\x01c"
    assert tiles.decode_entry_bundle(b"\x00\x02ab\x00\x00\x00\x01c") == [b"ab", b"", b"c"]
    assert tiles.decode_entry_bundle(b"\x00\x02ab\x00\x00\x00\x01c", 3) == [b"ab", b"", b"c"]
    big = b"x" * 65535
    assert tiles.decode_entry_bundle(tiles.encode_entry_bundle([big]), 1) == [big]


@settings(max_examples=100)
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=256))
def test_entry_bundles_round_trip(entries: list[bytes]) -> None:
    data = tiles.encode_entry_bundle(entries)
    assert tiles.decode_entry_bundle(data) == entries
    assert tiles.decode_entry_bundle(data, len(entries)) == entries


BAD_BUNDLES = {
    "empty": (b"", None, "empty"),
    "empty-with-count": (b"", 1, "empty"),
    "half-prefix": (b"\x00", None, "length prefix"),
    "half-second-prefix": (b"\x00\x01a\x00", None, "length prefix"),
    "short-entry": (b"\x00\x05abc", None, "inside an entry"),
    "trailing-bytes": (b"\x00\x01a\x00\x01b", 1, "trailing bytes"),
    "trailing-garbage": (b"\x00\x01a\xff", 1, "trailing bytes"),
    "too-few": (b"\x00\x01a", 2, "has 1 entries, not 2"),
    "over-256": (b"\x00\x00" * 257, None, "trailing bytes after 256"),
}


@pytest.mark.parametrize(("data", "count", "error"), BAD_BUNDLES.values(), ids=BAD_BUNDLES.keys())
def test_decode_entry_bundle_rejects(data: bytes, count: int | None, error: str) -> None:
    with pytest.raises(FormatError, match=error):
        tiles.decode_entry_bundle(data, count)


@pytest.mark.parametrize("count", [0, 257, -1])
def test_decode_entry_bundle_rejects_impossible_counts(count: int) -> None:
    with pytest.raises(LedgerError, match="1 to 256"):
        tiles.decode_entry_bundle(b"\x00\x00", count)


BAD_ENCODES = {
    "no-entries": [],
    "257-entries": [b""] * 257,
    "entry-too-big": [b"x" * 65536],
}


@pytest.mark.parametrize("entries", BAD_ENCODES.values(), ids=BAD_ENCODES.keys())
def test_encode_entry_bundle_rejects(entries: list[bytes]) -> None:
    with pytest.raises(FormatError):
        tiles.encode_entry_bundle(entries)


# Building tiles.


def test_built_tiles_hold_the_tree_hashes() -> None:
    store = build(N)
    assert sorted(store, key=tiles.tiles_for_size(N).index) == tiles.tiles_for_size(N)
    for ref, data in store.items():
        assert len(data) == ref.width * 32
        for i in range(ref.width):
            expected = TREE.hash_at(8 * ref.level, ref.index * 256 + i)
            assert data[i * 32 : (i + 1) * 32] == expected


def test_full_tiles_are_returned_when_they_complete() -> None:
    builder = TileBuilder()
    completed: dict[TileRef, int] = {}
    for size, h in enumerate(LEAVES[:65537], start=1):
        for ref, _ in builder.append(h):
            completed[ref] = size
    assert completed[TileRef(0, 0)] == 256
    assert completed[TileRef(0, 255)] == 65536
    assert completed[TileRef(1, 0)] == 65536
    assert len(completed) == 257
    assert builder.finish() == [
        (TileRef(0, 256, 1), LEAVES[65536]),
        (TileRef(2, 0, 1), TREE.hash_at(16, 0)),
    ]


def test_size_256_has_a_full_tile_and_a_one_hash_level_one_tile() -> None:
    store = build(256)
    assert store == {
        TileRef(0, 0): b"".join(LEAVES[:256]),
        TileRef(1, 0, 1): TREE.root(256),
    }


def test_finish_checks_size_and_does_not_end_the_builder() -> None:
    builder = TileBuilder()
    builder.extend(LEAVES[:300])
    with pytest.raises(LedgerError, match="300 leaves, not 299"):
        builder.finish(299)
    assert builder.finish(300) == builder.finish()
    builder.extend(LEAVES[300:600])
    assert builder.root() == TREE.root(600)
    assert dict(builder.finish()) == {
        r: STORE[r] for r in tiles.tiles_for_size(600) if r.is_partial
    }


def test_builder_rejects_bad_leaf_hashes() -> None:
    builder = TileBuilder()
    with pytest.raises(LedgerError, match="32 bytes"):
        builder.append(Hash(b"\x00" * 31))
    with pytest.raises(LedgerError, match="32 bytes"):
        builder.extend([LEAVES[0], Hash(b"")])
    assert builder.size == 0


@settings(max_examples=60, deadline=None)
@given(size=st.integers(0, 2100), cuts=st.lists(st.integers(0, 2100), max_size=6))
def test_builder_in_chunks_and_roots_agree_with_tree(size: int, cuts: list[int]) -> None:
    builder = TileBuilder()
    built: dict[TileRef, bytes] = {}
    bounds = [0, *sorted(c % (size + 1) for c in cuts), size]
    for a, b in pairwise(bounds):
        built.update(builder.extend(LEAVES[a:b]))
    built.update(builder.finish(size))
    assert builder.size == size
    assert built == {ref: STORE[ref] for ref in tiles.tiles_for_size(size)}
    assert builder.root() == TREE.root(size)


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(1, 700), min_size=1, max_size=8), resume=st.integers(0, 600))
def test_root_after_every_append_is_the_tree_root(cuts: list[int], resume: int) -> None:
    """`root` keeps per-level subtrees between calls (they must follow flushes, copies and
    resumed builders)."""
    builder = TileBuilder.from_tiles(resume, STORE.__getitem__)
    size = resume
    for cut in cuts:
        before = builder.copy()
        builder.extend(LEAVES[size : size + cut])
        size += cut
        assert builder.root() == TREE.root(size)
        assert before.root() == TREE.root(size - cut)  # the copy kept its own state
        before.extend(LEAVES[size - cut : size])
        assert before.root() == builder.root()


@pytest.mark.parametrize(
    ("first", "then"), [(0, 5), (255, 1), (256, 300), (600, 65000), (65536, 1)]
)
def test_builder_resumes_from_stored_tiles(first: int, then: int) -> None:
    resumed = TileBuilder.from_tiles(first, STORE.__getitem__)
    assert resumed.size == first
    assert resumed.root() == TREE.root(first)
    full = dict(resumed.extend(LEAVES[first : first + then]))
    full.update(resumed.finish(first + then))
    assert resumed.root() == TREE.root(first + then)
    for ref, data in full.items():
        assert STORE.get(ref, data) == data


def test_builder_resume_rejects_short_tiles() -> None:
    with pytest.raises(FormatError, match="has 32 bytes, not 64"):
        TileBuilder.from_tiles(2, lambda ref: STORE[TileRef(0, 0, 1)])


# Reading the tree back from tiles.


def _read(refs: list[TileRef], size: int) -> tiles.ReadTile:
    """Serve the tiles of the tree of `size` from STORE, recording each read."""
    published = set(tiles.tiles_for_size(max(size, 0)))

    def read_tile(ref: TileRef) -> bytes:
        refs.append(ref)
        if ref not in published:
            raise BundleError(f"{ref.path} is not a tile of a tree of size {size}.")
        return STORE[ref]

    return read_tile


@pytest.mark.parametrize("size", SNAPSHOTS)
def test_tiles_serve_roots_and_proofs_at_level_boundaries(size: int) -> None:
    hash_at = tiles.tile_hash_at(_read([], size), size)
    assert merkle.tree_hash(size, hash_at) == TREE.root(size)
    for index in {0, 1, 255, 256, size // 2, size - 257, size - 2, size - 1}:
        if 0 <= index < size:
            assert merkle.inclusion_proof(
                index=index, size=size, hash_at=hash_at
            ) == TREE.inclusion_proof(index, size)
            assert merkle.consistency_proof(
                old_size=index + 1, new_size=size, hash_at=hash_at
            ) == TREE.consistency_proof(index + 1, size)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), size=st.integers(1, 2100))
def test_tiles_agree_with_plain_tree(data: st.DataObject, size: int) -> None:
    hash_at = tiles.tile_hash_at(_read([], size), size)
    assert merkle.tree_hash(size, hash_at) == merkle.root(LEAVES[:size])
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = merkle.inclusion_proof(index=index, size=size, hash_at=hash_at)
    assert proof == TREE.inclusion_proof(index, size)
    old = data.draw(st.integers(0, size), label="old")
    proof = merkle.consistency_proof(old_size=old, new_size=size, hash_at=hash_at)
    assert proof == TREE.consistency_proof(old, size)
    level = data.draw(st.integers(0, size.bit_length() - 1), label="level")
    n = data.draw(st.integers(0, (size >> level) - 1), label="n")
    assert hash_at(level, n) == TREE.hash_at(level, n)


def test_right_edge_subtrees_come_from_partial_tiles() -> None:
    reads: list[TileRef] = []
    hash_at = tiles.tile_hash_at(_read(reads, 300), 300)
    assert hash_at(5, 8) == TREE.hash_at(5, 8)  # leaves 256..287
    assert hash_at(8, 0) == TREE.hash_at(8, 0)
    assert reads == [TileRef(0, 1, 44), TileRef(1, 0, 1)]
    assert hash_at(3, 33) == TREE.hash_at(3, 33)
    assert len(reads) == 2  # cached


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 2100), min_size=2, max_size=6))
def test_remembered_subtrees_serve_growing_trees(sizes: list[int]) -> None:
    """One `roots` memo across trees of one log: the same proofs, and the subtrees already
    computed are not computed (or read) again."""
    roots: dict[tiles.SubtreeKey, Hash] = {}
    old = 0
    for size in sorted(sizes):
        reads: list[TileRef] = []
        hash_at = tiles.tile_hash_at(_read(reads, size), size, roots=roots)
        proof = merkle.consistency_proof(old_size=old, new_size=size, hash_at=hash_at)
        assert proof == TREE.consistency_proof(old, size)
        assert merkle.tree_hash(size, hash_at) == TREE.root(size)
        computed = dict(roots)
        again = tiles.tile_hash_at(_read(reads, size), size, roots=roots)
        assert merkle.consistency_proof(old_size=old, new_size=size, hash_at=again) == proof
        assert roots == computed
        old = size
    for (level, index, first, height), subtree in roots.items():
        n = (index * tiles.TILE_WIDTH + first) >> height
        assert subtree == TREE.hash_at(level * tiles.TILE_HEIGHT + height, n)


def test_tile_reads_are_cached_and_bounded() -> None:
    reads: list[TileRef] = []
    hash_at = tiles.tile_hash_at(_read(reads, N), N, cache=2)
    merkle.inclusion_proof(index=12345, size=N, hash_at=hash_at)
    assert len(reads) == len(set(reads)) <= 4
    reads.clear()
    for n in (0, 1, 0, 2, 0):
        assert hash_at(0, n * 256) == LEAVES[n * 256]
    assert reads == [TileRef(0, 0), TileRef(0, 1), TileRef(0, 2), TileRef(0, 0)]


def test_hash_at_outside_the_tree_is_misuse() -> None:
    hash_at = tiles.tile_hash_at(_read([], 300), 300)
    for level, n in [(0, 300), (5, 9), (9, 0), (-1, 0), (0, -1)]:
        with pytest.raises(LedgerError, match="no subtree"):
            hash_at(level, n)
    with pytest.raises(LedgerError, match="negative"):
        tiles.tile_hash_at(_read([], -1), -1)


def test_missing_and_short_tiles() -> None:
    def missing(ref: TileRef) -> bytes:
        raise BundleError(f"{ref.path} is missing.")

    with pytest.raises(BundleError, match=r"tile/0/000\.p/5 is missing"):
        tiles.tile_hash_at(missing, 5)(0, 0)
    short = tiles.tile_hash_at(lambda ref: STORE[ref][:-1], 300)
    with pytest.raises(FormatError, match=r"tile/0/000 has 8191 bytes, not 8192"):
        short(0, 0)
    full_for_partial = tiles.tile_hash_at(lambda ref: STORE[TileRef(0, 0)], 5)
    with pytest.raises(FormatError, match=r"tile/0/000\.p/5 has 8192 bytes, not 160"):
        full_for_partial(0, 0)
