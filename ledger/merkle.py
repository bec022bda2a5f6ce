"""RFC 6962 / RFC 9162 §2.1 Merkle trees: hashes, proofs and their verification.

This module owns the tree arithmetic: leaf and node hashes, the root of a tree of any size,
inclusion and consistency proofs (built from a `HashAt` callback, so the same code serves an
in-memory tree and stored tlog-tiles) and their verification with the RFC 9162 §2.1.3.2 and
§2.1.4.2 algorithms. Streaming roots live in `ledger.compact`, tiles in `ledger.tiles`.

A `hash_at(level, n)` callback returns the hash of the perfect subtree of ``2**level`` leaves
starting at leaf ``n * 2**level`` (level 0 gives the leaf hashes). Proof builders call it
O(log size) times and do no other per-leaf work.

Errors: a proof that does not verify raises `VerificationError`; asking a builder for a leaf
or subtree the tree does not have raises `LedgerError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice

from ledger.errors import LedgerError, VerificationError
from ledger.types import Hash

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "HashAt",
    "MemoryTree",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "root_from_inclusion",
    "tree_hash",
    "verify_consistency",
    "verify_inclusion",
]

#: Size in bytes of every hash in the tree.
HASH_SIZE = 32

#: Root of the empty tree: SHA-256 of the empty string.
EMPTY_ROOT = Hash(hashlib.sha256(b"").digest())

#: ``hash_at(level, n)``: hash of the perfect subtree of 2**level leaves from leaf n*2**level.
HashAt = Callable[[int, int], Hash]

_sha256 = hashlib.sha256
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_EXTEND_CHUNK = 1 << 16


def leaf_hash(data: bytes) -> Hash:
    """Return the RFC 6962 leaf hash ``SHA-256(0x00 || data)``."""
    return Hash(_sha256(_LEAF_PREFIX + data).digest())


def node_hash(left: Hash, right: Hash) -> Hash:
    """Return the RFC 6962 interior node hash ``SHA-256(0x01 || left || right)``."""
    return Hash(_sha256(_NODE_PREFIX + left + right).digest())


def root(leaf_hashes: Sequence[Hash]) -> Hash:
    """Return the Merkle tree hash (MTH) of a whole list of leaf hashes."""
    if not leaf_hashes:
        return EMPTY_ROOT
    level: list[bytes] = list(leaf_hashes)
    sha256 = _sha256
    while len(level) > 1:
        paired = [
            sha256(_NODE_PREFIX + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return Hash(level[0])


def _range_hash(start: int, end: int, hash_at: HashAt) -> Hash:
    """Return MTH of leaves ``[start, end)``; `start` must be aligned to a power of two >= the
    range, as every subtree of an RFC 6962 tree is."""
    pieces: list[Hash] = []
    length = end - start
    for level in range(length.bit_length() - 1, -1, -1):
        if length >> level & 1:
            pieces.append(hash_at(level, start >> level))
            start += 1 << level
    acc = pieces.pop()
    while pieces:
        acc = node_hash(pieces.pop(), acc)
    return acc


def _subtree_hash(level: int, index: int, size: int, hash_at: HashAt) -> Hash:
    """Return the hash of node (level, index) of the tree of `size`, which may be ragged."""
    start = index << level
    end = start + (1 << level)
    if end <= size:
        return hash_at(level, index)
    return _range_hash(start, size, hash_at)


def tree_hash(size: int, hash_at: HashAt) -> Hash:
    """Return the root of the tree made of the first `size` leaves, from perfect subtrees."""
    if size < 0:
        raise LedgerError(f"tree size {size} is negative.")
    if size == 0:
        return EMPTY_ROOT
    return _range_hash(0, size, hash_at)


def _path(level: int, index: int, size: int, hash_at: HashAt) -> list[Hash]:
    """Siblings of node (level, index) on its way up to the root of the tree of `size`."""
    proof: list[Hash] = []
    last = (size - 1) >> level
    while last:
        if index & 1:
            proof.append(hash_at(level, index - 1))
        elif index < last:
            proof.append(_subtree_hash(level, index + 1, size, hash_at))
        index >>= 1
        last >>= 1
        level += 1
    return proof


def inclusion_proof(*, index: int, size: int, hash_at: HashAt) -> list[Hash]:
    """Return the RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves.

    The proof lists sibling hashes nearest the leaf first.
    """
    if not 0 <= index < size:
        raise LedgerError(f"leaf index {index} is not in a tree of size {size}.")
    return _path(0, index, size, hash_at)


def consistency_proof(*, old_size: int, new_size: int, hash_at: HashAt) -> list[Hash]:
    """Return the RFC 9162 consistency proof from the tree of `old_size` to `new_size`.

    The proof is empty when ``old_size`` is 0 or equals ``new_size``.
    """
    if not 0 <= old_size <= new_size:
        raise LedgerError(f"cannot prove tree size {old_size} consistent with size {new_size}.")
    if old_size in (0, new_size):
        return []
    # The largest perfect subtree ending at old_size; the proof is its inclusion path in the
    # new tree, preceded by the subtree itself unless it is the whole old tree.
    level = (old_size & -old_size).bit_length() - 1
    index = (old_size - 1) >> level
    proof = [] if index == 0 else [hash_at(level, index)]
    proof.extend(_path(level, index, new_size, hash_at))
    return proof


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise VerificationError(f"{what} is not a {HASH_SIZE}-byte hash.")


def root_from_inclusion(*, leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]) -> Hash:
    """Return the root that an inclusion proof leads to (RFC 9162 §2.1.3.2 steps 1-5).

    Raises `VerificationError` if the proof cannot be a proof for this index and size.
    """
    if not 0 <= index < size:
        raise VerificationError(f"leaf index {index} is not in a tree of size {size}.")
    _check_hash(leaf_hash, "the leaf hash")
    fn, sn = index, size - 1
    r = leaf_hash
    sha256 = _sha256
    for p in proof:
        _check_hash(p, "an inclusion proof element")
        if sn == 0:
            raise VerificationError("the inclusion proof is too long for this index and size.")
        if fn & 1 or fn == sn:
            r = sha256(_NODE_PREFIX + p + r).digest()
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = sha256(_NODE_PREFIX + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("the inclusion proof is too short for this index and size.")
    return Hash(r)


def verify_inclusion(
    *, leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that `leaf_hash` is leaf `index` of the tree of `size` with `root`, or raise
    `VerificationError`."""
    _check_hash(root, "the root")
    computed = root_from_inclusion(leaf_hash=leaf_hash, index=index, size=size, proof=proof)
    if computed != root:
        raise VerificationError("the inclusion proof does not lead to the expected root.")


def verify_consistency(
    *,
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
) -> None:
    """Check that the tree of `new_size` with `new_root` extends the tree of `old_size` with
    `old_root` (RFC 9162 §2.1.4.2), or raise `VerificationError`.

    Equal sizes need an empty proof and equal roots; size 0 needs an empty proof and the
    empty-tree root.
    """
    _check_hash(old_root, "the old root")
    _check_hash(new_root, "the new root")
    if not 0 <= old_size <= new_size:
        raise VerificationError(f"tree size {old_size} cannot precede tree size {new_size}.")
    if old_size in (0, new_size):
        if proof:
            raise VerificationError("the consistency proof must be empty for these sizes.")
        if old_size == 0 and old_root != EMPTY_ROOT:
            raise VerificationError("the old root is not the root of the empty tree.")
        if old_size == new_size and old_root != new_root:
            raise VerificationError("trees of equal size have different roots.")
        return
    if not proof:
        raise VerificationError("the consistency proof is empty.")
    for p in proof:
        _check_hash(p, "a consistency proof element")
    path: list[bytes] = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    sha256 = _sha256
    for c in path[1:]:
        if sn == 0:
            raise VerificationError("the consistency proof is too long for these sizes.")
        if fn & 1 or fn == sn:
            fr = sha256(_NODE_PREFIX + c + fr).digest()
            sr = sha256(_NODE_PREFIX + c + sr).digest()
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = sha256(_NODE_PREFIX + sr + c).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("the consistency proof is too short for these sizes.")
    if fr != old_root:
        raise VerificationError("the consistency proof does not lead to the old root.")
    if sr != new_root:
        raise VerificationError("the consistency proof does not lead to the new root.")


class MemoryTree:
    """An in-memory append-only tree that keeps every perfect subtree hash.

    Level ``l`` is one bytearray of the 32-byte hashes of the complete subtrees of ``2**l``
    leaves, so `hash_at` is O(1), `append` is O(1) amortised and proofs are O(log n).
    Memory is about 64 bytes per leaf.
    """

    __slots__ = ("_levels",)

    def __init__(self, leaf_hashes: Iterable[Hash] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self.extend(leaf_hashes)

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self._levels[0]) // HASH_SIZE

    def __len__(self) -> int:
        return self.size

    def append(self, leaf_hash: Hash) -> int:
        """Add one leaf hash; return its index."""
        if len(leaf_hash) != HASH_SIZE:
            raise LedgerError(f"a leaf hash must be {HASH_SIZE} bytes, not {len(leaf_hash)}.")
        levels = self._levels
        index = len(levels[0]) // HASH_SIZE
        levels[0] += leaf_hash
        h: bytes = leaf_hash
        n, level = index, 0
        while n & 1:
            below = levels[level]
            left = below[-2 * HASH_SIZE : -HASH_SIZE]
            h = _sha256(_NODE_PREFIX + left + h).digest()
            level += 1
            n >>= 1
            if level == len(levels):
                levels.append(bytearray())
            levels[level] += h
        return index

    def extend(self, leaf_hashes: Iterable[Hash]) -> None:
        """Add many leaf hashes, computing the new interior nodes level by level in chunks."""
        it: Iterator[bytes] = iter(leaf_hashes)
        while chunk := list(islice(it, _EXTEND_CHUNK)):
            for h in chunk:
                if len(h) != HASH_SIZE:
                    raise LedgerError(f"a leaf hash must be {HASH_SIZE} bytes, not {len(h)}.")
            self._add(chunk)

    def _add(self, hashes: list[bytes]) -> None:
        levels = self._levels
        sha256, prefix = _sha256, _NODE_PREFIX
        level = 0
        while hashes:
            if level == len(levels):
                levels.append(bytearray())
            below = levels[level]
            pending = hashes
            if len(below) // HASH_SIZE % 2:
                pending = [bytes(below[-HASH_SIZE:]), *hashes]
            below += b"".join(hashes)
            pairs = iter(pending)
            hashes = [
                sha256(prefix + left + right).digest()
                for left, right in zip(pairs, pairs, strict=False)
            ]
            level += 1

    def hash_at(self, level: int, n: int) -> Hash:
        """Return the hash of the perfect subtree of 2**level leaves starting at n*2**level."""
        if level < 0 or n < 0 or level >= len(self._levels):
            raise LedgerError(f"the tree has no complete subtree at level {level} index {n}.")
        hashes = self._levels[level]
        start = n * HASH_SIZE
        if start + HASH_SIZE > len(hashes):
            raise LedgerError(f"the tree has no complete subtree at level {level} index {n}.")
        return Hash(bytes(hashes[start : start + HASH_SIZE]))

    def _size_or_current(self, size: int | None) -> int:
        current = self.size
        if size is None:
            return current
        if not 0 <= size <= current:
            raise LedgerError(f"tree size {size} is not between 0 and {current}.")
        return size

    def root(self, size: int | None = None) -> Hash:
        """Return the root of the first `size` leaves (default: all of them)."""
        return tree_hash(self._size_or_current(size), self.hash_at)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[Hash]:
        """Return the inclusion proof of leaf `index` in the tree of `size` (default: all)."""
        return inclusion_proof(index=index, size=self._size_or_current(size), hash_at=self.hash_at)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[Hash]:
        """Return the consistency proof from `old_size` to `new_size` (default: all)."""
        return consistency_proof(
            old_size=old_size, new_size=self._size_or_current(new_size), hash_at=self.hash_at
        )
