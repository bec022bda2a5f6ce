"""The contract state of everything the node stores: one `contracts.Fold`, caught up from
the database.

The stored entry bytes are the source of truth (DESIGN §2.10); this projection is rebuilt
from them whenever a process starts (and by `rdh reindex`), then kept up to date
incrementally: before every read and inside every write transaction it applies the entries
that other processes or sync stored since (`catch_up`: one query of the logs' sizes, then
only the new rows). Several server processes on one PostgreSQL database therefore each hold
their own projection and agree on it.

The write path checks the contract rules with `check`, inside the transaction that holds the
log's lock and after `catch_up`, so the rules see every stored entry. `Fold.check` leaves the
fold unchanged when an entry breaks a rule; the entries of a batch that passes are applied
at once and become part of the state when the transaction commits (`committed`). If the
transaction fails after that, or a batch breaks a rule after its first entries were applied,
the projection is dropped (`reset`) and rebuilt from the database by the next `catch_up`:
correct, and it costs a pass over the stored entries, which only a failing write or an
invalid multi-entry batch (an operator's) can cause.

All access goes through one lock: the fold is not thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from contracts.fold import Fold, Violation
from contracts.state import State
from ledger.entry import Entry
from node.db.driver import Sql
from node.errors import RuleRejected

__all__ = ["Projection", "TornBatch"]

_CHUNK = 2000
_ENTRIES = "SELECT id, data FROM entries WHERE log_id = ? AND seq >= ? AND seq < ? ORDER BY seq"


class TornBatch(Exception):  # noqa: N818 (what happened, not an error of the caller's)
    """A multi-entry batch broke a rule after some of its entries were applied: the
    projection must be rebuilt and the group retried without this batch."""

    def __init__(self, rejected: RuleRejected) -> None:
        super().__init__(str(rejected))
        self.rejected = rejected


class Projection:
    """A `Fold` over every entry stored in the node's database."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._fold = Fold()
        self._next: dict[str, int] = {}  # log id -> next seq to apply
        self.rebuilds = 0

    # -- keeping up ----------------------------------------------------------------------

    def catch_up(self, session: Session) -> int:
        """Apply every stored entry not applied yet; return how many. Hold `lock`."""
        applied = 0
        sql = Sql(session)
        for log_id, size in sql.all("SELECT id, size FROM logs"):
            start = self._next.get(log_id, 0)
            while start < size:
                stop = min(size, start + _CHUNK)
                rows = sql.all(_ENTRIES, (log_id, start, stop))
                for eid, data in rows:
                    self._fold.apply(Entry.from_verified_bytes(bytes(data)), eid)
                applied += len(rows)
                start = stop
                self._next[log_id] = start
        return applied

    def check(self, entries: Sequence[Entry]) -> None:
        """The write path's rule check of one batch of the node's own log (see module doc).

        Raises `RuleRejected` (the fold is unchanged) or `TornBatch` (it is not: `reset`).
        """
        for n, entry in enumerate(entries):
            violations = self._fold.check(entry, entry.id)
            if violations:
                first = violations[0]
                rejected = RuleRejected(
                    first.rule, f"entry {entry.seq} ({entry.type}): {first.message}"
                )
                if n:
                    raise TornBatch(rejected)
                raise rejected

    def committed(self, log_id: str, size: int) -> None:
        """The entries checked so far are durable: the log's next seq is `size`."""
        self._next[log_id] = size

    def reset(self) -> None:
        """Drop the state; the next `catch_up` rebuilds it from the database."""
        self._fold = Fold()
        self._next = {}
        self.rebuilds += 1

    # -- reading -------------------------------------------------------------------------

    @contextmanager
    def view(self, sessions: sessionmaker[Session]) -> Iterator[State]:
        """The state, caught up with the database, for as long as the block holds the lock."""
        with self.lock:
            with sessions.begin() as session:
                self.catch_up(session)
            yield self._fold.state

    @property
    def fold(self) -> Fold:
        """The fold itself (hold `lock`)."""
        return self._fold

    def violations(self) -> list[Violation]:
        """Rule violations found in stored entries (mirrored logs' entries are kept even when
        they break a rule, and flagged)."""
        with self.lock:
            return self._fold.violations
