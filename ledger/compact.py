"""Compact ranges: the root of a growing RFC 6962 tree in O(log n) memory.

A `CompactRange` holds only the hashes of the perfect subtrees on the right edge of the
tree of leaves ``[0, size)`` (one per set bit of `size`, largest first), so a stream of any
length can be folded into its Merkle root. It owns nothing else: proofs are in
`ledger.merkle`, tiles in `ledger.tiles`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

from ledger.errors import FormatError, LedgerError
from ledger.merkle import EMPTY_ROOT, HASH_SIZE, node_hash
from ledger.types import Hash

__all__ = ["CompactRange", "OnComplete"]

#: ``on_complete(level, index, hash)``: called whenever a perfect subtree of 2**level leaves
#: starting at leaf index*2**level becomes complete (level 0: every appended leaf).
OnComplete = Callable[[int, int, Hash], None]

_sha256 = hashlib.sha256
_NODE_PREFIX = b"\x01"
_NODE_HASHER = hashlib.sha256(_NODE_PREFIX)


class CompactRange:
    """The right edge of the tree of leaves ``[0, size)``: append leaves, read the root."""

    __slots__ = ("_hashes", "_on_complete", "_size")

    def __init__(self, *, on_complete: OnComplete | None = None) -> None:
        self._hashes: list[bytes] = []
        self._size = 0
        self._on_complete = on_complete

    @classmethod
    def from_hashes(
        cls, size: int, hashes: Sequence[Hash], *, on_complete: OnComplete | None = None
    ) -> CompactRange:
        """Resume from `size` and its right-edge perfect subtree hashes, largest first."""
        if size < 0:
            raise FormatError(f"tree size {size} is negative.")
        if len(hashes) != size.bit_count():
            raise FormatError(
                f"a tree of size {size} has {size.bit_count()} right-edge hashes, "
                f"not {len(hashes)}."
            )
        if any(len(h) != HASH_SIZE for h in hashes):
            raise FormatError(f"every right-edge hash must be {HASH_SIZE} bytes.")
        compact = cls(on_complete=on_complete)
        compact._hashes = [bytes(h) for h in hashes]
        compact._size = size
        return compact

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def hashes(self) -> tuple[Hash, ...]:
        """Right-edge perfect subtree hashes, largest (leftmost) first."""
        return tuple(Hash(h) for h in self._hashes)

    def append(self, leaf_hash: Hash) -> None:
        """Add one leaf hash."""
        if self._on_complete is not None:
            self._extend_reporting((leaf_hash,), self._on_complete)
            return
        if len(leaf_hash) != HASH_SIZE:
            raise LedgerError(f"a leaf hash must be {HASH_SIZE} bytes, not {len(leaf_hash)}.")
        stack = self._hashes
        h: bytes = leaf_hash
        n = self._size
        while n & 1:
            hasher = _NODE_HASHER.copy()
            hasher.update(stack.pop())
            hasher.update(h)
            h = hasher.digest()
            n >>= 1
        stack.append(h)
        self._size += 1

    def extend(self, leaf_hashes: Iterable[Hash]) -> None:
        """Add leaf hashes in order (amortised one node hash per leaf)."""
        if self._on_complete is not None:
            self._extend_reporting(leaf_hashes, self._on_complete)
            return
        stack = self._hashes
        pop, push = stack.pop, stack.append
        node = _NODE_HASHER.copy  # copying a primed hasher beats concatenating the prefix
        size = self._size
        try:
            h: bytes
            for h in leaf_hashes:
                if len(h) != HASH_SIZE:
                    raise LedgerError(f"a leaf hash must be {HASH_SIZE} bytes, not {len(h)}.")
                n = size
                while n & 1:
                    hasher = node()
                    hasher.update(pop())
                    hasher.update(h)
                    h = hasher.digest()
                    n >>= 1
                push(h)
                size += 1
        finally:
            self._size = size

    def _extend_reporting(self, leaf_hashes: Iterable[Hash], report: OnComplete) -> None:
        stack = self._hashes
        for h in leaf_hashes:
            if len(h) != HASH_SIZE:
                raise LedgerError(f"a leaf hash must be {HASH_SIZE} bytes, not {len(h)}.")
            index = self._size
            completed = [(0, index, h)]
            level = 0
            while index & 1:
                h = node_hash(Hash(stack.pop()), h)
                level += 1
                index >>= 1
                completed.append((level, index, h))
            stack.append(h)
            self._size += 1
            for level, index, h in completed:
                report(level, index, h)

    def root(self) -> Hash:
        """Return the Merkle tree hash of the leaves appended so far."""
        stack = self._hashes
        if not stack:
            return EMPTY_ROOT
        acc = stack[-1]
        for h in reversed(stack[:-1]):
            acc = _sha256(_NODE_PREFIX + h + acc).digest()
        return Hash(acc)

    def copy(self) -> CompactRange:
        """Return an independent copy (sharing the callback)."""
        other = CompactRange(on_complete=self._on_complete)
        other._hashes = list(self._hashes)
        other._size = self._size
        return other
