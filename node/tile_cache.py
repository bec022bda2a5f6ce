"""A process-wide cache of stored hash tiles.

A hash tile is fixed by its log, level, index and width: once a tree has the leaves it
covers, its bytes never change (a partial tile of width W is the first W hashes of every
wider tile of the same place). So a tile read from a committed transaction can be kept and
served to every later reader of the process, and proofs, roots and resuming the tile
builder cost no database reads for tiles already seen. Tiles written by a transaction are
added only after it commits (`LogStore`): a rolled-back append must leave nothing behind.
The start-up check (`node.store_check`) and `rdh reindex` read the database, never this.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

__all__ = ["TileCache", "TileKey"]

#: (log id, level, index, width)
TileKey = tuple[str, int, int, int]


class TileCache:
    """A thread-safe LRU of tile bytes, at most `capacity` tiles (8 KiB each at most)."""

    def __init__(self, capacity: int = 4096) -> None:
        self._capacity = capacity
        self._tiles: OrderedDict[TileKey, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: TileKey) -> bytes | None:
        with self._lock:
            data = self._tiles.get(key)
            if data is None:
                self.misses += 1
                return None
            self._tiles.move_to_end(key)
            self.hits += 1
            return data

    def put(self, key: TileKey, data: bytes) -> None:
        with self._lock:
            self._tiles[key] = data
            self._tiles.move_to_end(key)
            while len(self._tiles) > self._capacity:
                self._tiles.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._tiles.clear()
