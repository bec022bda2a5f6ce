"""Compact ranges: streaming roots in O(log n) memory."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle
from ledger.compact import CompactRange
from ledger.errors import FormatError, LedgerError
from ledger.types import Hash
from tests.conftest import load_vector

VECTORS = load_vector("rfc6962.json")
LEAVES = [Hash(bytes.fromhex(h)) for h in VECTORS["leaf_hashes_hex"]]
N = 5000
STREAM = [Hash(hashlib.sha256(i.to_bytes(8, "big")).digest()) for i in range(N)]
TREE = merkle.MemoryTree(STREAM)


@pytest.mark.parametrize("size", range(9))
def test_roots_match_vectors(size: int) -> None:
    compact = CompactRange()
    compact.extend(LEAVES[:size])
    assert compact.size == size
    assert compact.root().hex() == VECTORS["roots_hex"][str(size)]


def test_root_after_every_append_matches_tree() -> None:
    compact = CompactRange()
    assert compact.root() == merkle.EMPTY_ROOT
    for size, h in enumerate(STREAM[:1100], start=1):
        compact.append(h)
        assert compact.size == size
        assert compact.root() == TREE.root(size)
        assert len(compact.hashes) == size.bit_count()


def test_right_edge_holds_one_perfect_subtree_per_set_bit() -> None:
    compact = CompactRange()
    compact.extend(STREAM[:13])  # 13 = 8 + 4 + 1
    assert compact.hashes == (TREE.hash_at(3, 0), TREE.hash_at(2, 2), TREE.hash_at(0, 12))


def _chunks(leaves: Sequence[Hash], cuts: list[int]) -> list[Sequence[Hash]]:
    bounds = [0, *sorted(c % (len(leaves) + 1) for c in cuts), len(leaves)]
    return [leaves[a:b] for a, b in pairwise(bounds)]


@settings(max_examples=150, deadline=None)
@given(
    size=st.one_of(st.integers(0, 300), st.integers(0, N)),
    cuts=st.lists(st.integers(0, N), max_size=12),
)
def test_folding_in_chunks_equals_folding_at_once(size: int, cuts: list[int]) -> None:
    leaves = STREAM[:size]
    chunked = CompactRange()
    for chunk in _chunks(leaves, cuts):
        chunked.extend(iter(chunk))
    at_once = CompactRange()
    at_once.extend(leaves)
    assert chunked.size == at_once.size == size
    assert chunked.root() == at_once.root() == merkle.root(leaves) == TREE.root(size)
    assert chunked.hashes == at_once.hashes


@settings(max_examples=100, deadline=None)
@given(first=st.integers(0, 600), more=st.integers(0, 600))
def test_resuming_from_hashes_continues_the_same_tree(first: int, more: int) -> None:
    compact = CompactRange()
    compact.extend(STREAM[:first])
    resumed = CompactRange.from_hashes(compact.size, compact.hashes)
    resumed.extend(STREAM[first : first + more])
    assert resumed.size == first + more
    assert resumed.root() == TREE.root(first + more)


def test_copy_is_independent() -> None:
    compact = CompactRange()
    compact.extend(STREAM[:5])
    copy = compact.copy()
    copy.append(STREAM[5])
    assert compact.size == 5
    assert compact.root() == TREE.root(5)
    assert copy.root() == TREE.root(6)


def test_on_complete_reports_every_perfect_subtree_once() -> None:
    seen: list[tuple[int, int, Hash]] = []
    compact = CompactRange(on_complete=lambda level, index, h: seen.append((level, index, h)))
    compact.extend(STREAM[:99])
    for h in STREAM[99:300]:
        compact.append(h)
    expected = {
        (level, index, TREE.hash_at(level, index))
        for level in range(9)
        for index in range(300 >> level)
    }
    assert len(seen) == len(expected)
    assert set(seen) == expected
    assert compact.root() == TREE.root(300)
    # A subtree is reported as soon as its last leaf arrives, after its children.
    assert seen[:4] == [
        (0, 0, STREAM[0]),
        (0, 1, STREAM[1]),
        (1, 0, TREE.hash_at(1, 0)),
        (0, 2, STREAM[2]),
    ]


def test_on_complete_survives_resume() -> None:
    seen: list[tuple[int, int]] = []
    compact = CompactRange.from_hashes(
        3,
        [TREE.hash_at(1, 0), TREE.hash_at(0, 2)],
        on_complete=lambda lv, i, h: seen.append((lv, i)),
    )
    compact.append(STREAM[3])
    assert seen == [(0, 3), (1, 1), (2, 0)]
    assert compact.hashes == (TREE.hash_at(2, 0),)


BAD_RESUME = {
    "negative-size": (-1, []),
    "too-few-hashes": (3, [STREAM[0]]),
    "too-many-hashes": (4, [STREAM[0], STREAM[1]]),
    "hashes-for-empty": (0, [STREAM[0]]),
    "short-hash": (1, [Hash(b"\x00" * 31)]),
    "long-hash": (2, [Hash(b"\x00" * 33)]),
}


@pytest.mark.parametrize(("size", "hashes"), BAD_RESUME.values(), ids=BAD_RESUME.keys())
def test_from_hashes_rejects_inconsistent_state(size: int, hashes: list[Hash]) -> None:
    with pytest.raises(FormatError):
        CompactRange.from_hashes(size, hashes)


@pytest.mark.parametrize("reporting", [False, True], ids=["plain", "reporting"])
def test_bad_leaf_hash_is_rejected_and_earlier_leaves_are_kept(reporting: bool) -> None:
    compact = CompactRange(on_complete=(lambda lv, i, h: None) if reporting else None)
    with pytest.raises(LedgerError, match="32 bytes"):
        compact.extend([STREAM[0], STREAM[1], STREAM[2], Hash(b"short")])
    assert compact.size == 3
    assert compact.root() == TREE.root(3)
    with pytest.raises(LedgerError, match="32 bytes"):
        compact.append(Hash(b"\x00" * 33))
    assert compact.size == 3
    compact.append(STREAM[3])
    assert compact.root() == TREE.root(4)


def test_large_stream_matches_memory_tree() -> None:
    leaves = [Hash(hashlib.sha256(i.to_bytes(8, "little")).digest()) for i in range(70_000)]
    compact = CompactRange()
    compact.extend(leaves)
    assert compact.root() == merkle.MemoryTree(leaves).root() == merkle.root(leaves)
    assert len(compact.hashes) == (70_000).bit_count()
