"""Appending to the node's own log from many threads: rules checked, commits grouped.

Every write of the node (API requests, the scheduler, the CLI) goes through `Writer.append`.
Concurrent calls are grouped: the first caller to find no commit in progress becomes the
*leader*, takes every waiting batch (up to `max_group` entries) and appends them in one
transaction with `LogStore.append_group` (one lock, one checkpoint, one fsync); the others
wait for their outcome. With one request at a time this is a plain append; under load many
requests share one commit, which is what keeps single-entry appends fast on SQLite.

Each batch is checked on its own (statements, nonces, then the contract rules against the
`Projection`, caught up inside the locked transaction), and a refused batch gets its own
`RuleRejected` while the others go on. If the group's transaction fails, every batch in it
gets the error and the projection is rebuilt. The clock is the caller's (`clock`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from ledger.entry import Entry
from node.errors import UsageError
from node.own_log import AppendResult, EntryDraft
from node.projection import Projection, TornBatch
from node.store import LogStore

__all__ = ["Clock", "Writer"]

Clock = Callable[[], datetime]


@dataclass(slots=True)
class _Request:
    drafts: Sequence[EntryDraft]
    outcome: AppendResult | BaseException | None = None
    #: set when the outcome is known, or when this request is made the next leader
    wake: threading.Event = field(default_factory=threading.Event)
    lead: bool = False


class Writer:
    """Rule-checked, group-committed appends to `store`, keeping `projection` current."""

    def __init__(
        self, store: LogStore, projection: Projection, clock: Clock, *, max_group: int = 1000
    ) -> None:
        self.store = store
        self.projection = projection
        self.clock = clock
        self._max_group = max_group
        self._lock = threading.Lock()
        self._queue: list[_Request] = []
        self._leading = False
        self.commits = 0  # transactions made (for tests and benchmarks)

    def append(self, drafts: Sequence[EntryDraft]) -> AppendResult:
        """Append one batch (all or nothing); `RuleRejected` names the rule it breaks."""
        if not drafts:
            raise UsageError("there is nothing to append")
        request = _Request(drafts)
        with self._lock:
            self._queue.append(request)
            if not self._leading:
                self._leading = request.lead = True
        if not request.lead:
            request.wake.wait()  # each waiter has its own event: no thundering herd
        if request.outcome is None:  # woken as the next leader
            self._lead()
        outcome = request.outcome
        if isinstance(outcome, BaseException):
            raise outcome
        assert outcome is not None
        return outcome

    def _lead(self) -> None:
        """Commit what is queued (this request first), then hand the lead to the next one."""
        with self._lock:
            group = self._take()
        try:
            self._commit(group)
        finally:
            for request in group:
                request.wake.set()
            with self._lock:
                if self._queue:
                    following = self._queue[0]
                    following.lead = True
                    following.wake.set()
                else:
                    self._leading = False

    def commit_batches(
        self, batches: Sequence[Sequence[EntryDraft]]
    ) -> list[AppendResult | Exception]:
        """Append batches that arrived together (the writer process takes every write
        waiting in its pipe: `node.writer_process`), as few transactions as `max_group`
        allows; each batch's outcome, in order. Not to be mixed with concurrent `append`s."""
        requests = [_Request(drafts) for drafts in batches]
        pending = list(requests)
        while pending:
            self._commit(self._take_from(pending))
        outcomes: list[AppendResult | Exception] = []
        for request in requests:
            assert isinstance(request.outcome, AppendResult | Exception)  # _commit set it
            outcomes.append(request.outcome)
        return outcomes

    def _take(self) -> list[_Request]:
        """The waiting requests, oldest first, up to `max_group` entries (at least one)."""
        return self._take_from(self._queue)

    def _take_from(self, queue: list[_Request]) -> list[_Request]:
        """The first requests of `queue`, taken out, up to `max_group` entries (at least one)."""
        group: list[_Request] = []
        entries = 0
        while queue:
            size = len(queue[0].drafts)
            if group and entries + size > self._max_group:
                break
            group.append(queue.pop(0))
            entries += size
        return group

    def _commit(self, group: list[_Request]) -> None:
        """Commit the group; a batch that tears the projection is refused and the rest retried."""
        pending = list(group)
        try:
            while pending:
                torn = self._attempt(pending)
                if torn is None:
                    return
                pending.remove(torn)
        except Exception as e:  # the transaction failed: every batch in it gets the error
            for request in pending:
                request.outcome = e
        except BaseException as e:
            for request in pending:
                request.outcome = e
            raise

    def _attempt(self, group: list[_Request]) -> _Request | None:
        """One transaction for `group`; the request whose batch tore the projection, if any."""
        projection = self.projection
        torn: list[int] = []

        def locked(session: Session) -> None:
            projection.catch_up(session)

        def check(n: int, entries: Sequence[Entry]) -> None:
            try:
                projection.check(entries)
            except TornBatch:
                torn.append(n)
                raise

        with projection.lock:
            try:
                outcomes = self.store.append_group(
                    [request.drafts for request in group], self.clock(), check, locked=locked
                )
            except TornBatch as e:
                projection.reset()
                request = group[torn[0]]
                request.outcome = e.rejected
                return request
            except BaseException:
                projection.reset()
                raise
            for request, outcome in zip(group, outcomes, strict=True):
                request.outcome = outcome
            sizes = [o.size for o in outcomes if isinstance(o, AppendResult)]
            if sizes:
                projection.committed(self.store.log_id, max(sizes))
            self.commits += 1
        return None
