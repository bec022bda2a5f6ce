"""The fold: a pure, deterministic projection of entries from many logs into `State`.

Owns the order in which entries are applied and the checks every entry shares; the meaning
of each entry type is `contracts.rules`. Give it each log's entries in seq order, the logs
interleaved in any way (`Fold.apply` one at a time, or `fold(...)` for a batch: the same).

- An entry whose `refs` are not all known yet is *pending*, not an error: it waits, and
  every later entry of its log waits behind it (a log's entries change state in seq order).
  When the missing entry arrives, the waiting entries are applied. Entries whose refs never
  arrive stay in `Fold.pending` (the auditor reports them as notices).
- An applied entry that breaks a rule is a `Violation`; it changes no state but is *known*,
  so entries that reference it are judged (and fail the rule that needs what it would have
  created) instead of waiting forever.

Why the result does not depend on how logs are interleaved: a rule reads only state owned
by the entry's own log (changed by its earlier entries, applied in seq order) and objects
created by entries it references (known before it is applied; their creation facts never
change), and the state that several logs add to is keyed or summed (see `contracts.state`).
Rules that need cross-log facts cite them by reference: e.g. a `share.revenue` recorded by
a partner log references the `share.activate` entry of the agreement.

A log's writer (the node) uses `Fold.check` instead: an entry that breaks a rule, or cites
an unknown entry, is refused and nothing about it is recorded.

Checks shared by all entries: seq follows the previous entry of the log (`log.seq`); then
those that need no state, made by `contracts.view.read_entry` (seq 0 is a `log.genesis`, the
body fits its type's schema, the body's entry ids are in `refs`). The fold works on
`EntryView`s: `Fold.apply` reads the entry itself; an audit reads entries in its worker
processes and hands the views to `Fold.apply_view`.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from contracts.errors import ContractError, RuleViolation
from contracts.rules import RULES
from contracts.state import State
from contracts.view import EntryView, read_entry
from ledger.entry import Entry, entry_id

__all__ = ["Fold", "Pending", "Violation", "fold"]


@dataclass(frozen=True, slots=True)
class Violation:
    """An entry that broke a rule: where it is, which rule, and one sentence why."""

    log: str
    seq: int
    entry_id: str
    rule: str
    message: str


@dataclass(frozen=True, slots=True)
class Pending:
    """An entry not applied yet: it (or an earlier entry of its log) cites unknown entries."""

    log: str
    seq: int
    entry_id: str
    #: the entry's refs not known yet (empty if it only waits behind its log's earlier entry)
    missing: tuple[str, ...]


#: The `problem` of a stand-in for an entry that exists but failed the ledger's checks: it
#: takes its seq and is known (entries citing it are judged, not held back), but changes
#: nothing and is not judged.
_UNREADABLE = ("", "")


class Fold:
    """Apply entries to a `State`, holding back those whose references are not known yet."""

    def __init__(self) -> None:
        self.state = State()
        self._violations: list[Violation] = []
        self._known: set[str] = set()
        self._next: dict[str, int] = {}
        self._queues: dict[str, deque[EntryView]] = {}
        self._waiting: dict[str, list[str]] = {}  # unknown entry id -> logs blocked on it

    @property
    def violations(self) -> list[Violation]:
        """Every violation so far, by log and seq (the same whatever the order of logs)."""
        return sorted(self._violations, key=lambda v: (v.log, v.seq))

    @property
    def pending(self) -> list[Pending]:
        """Entries not applied yet, by log and seq."""
        out = []
        for log in sorted(self._queues):
            for view in self._queues[log]:
                missing = tuple(r for r in view.refs if r not in self._known)
                out.append(Pending(log=log, seq=view.seq, entry_id=view.id, missing=missing))
        return out

    def copy(self) -> Fold:
        """An independent deep copy: a write path tries a batch on a copy and keeps it (or
        not) as a whole, since a valid entry changes the state it is applied to."""
        return copy.deepcopy(self)

    def knows(self, entry_id: str) -> bool:
        """Whether the entry was applied (validly or not)."""
        return entry_id in self._known

    def check(self, entry: Entry, entry_id: str) -> list[Violation]:
        """For a log's writer: apply `entry` only if it breaks no rule, else record nothing.

        On a violation the fold is exactly as before (the entry is not known and its log's
        next seq is unchanged), so the writer can refuse the entry and store nothing. A writer
        cites only entries it has: unknown refs are a violation here (`refs.unknown`), not a
        wait. Check a batch on `copy()` to keep or drop it as a whole.
        """
        view = read_entry(entry, entry_id)
        if self._queues.get(view.log):
            message = "earlier entries of this log are still waiting for their references"
            return [Violation(view.log, view.seq, entry_id, "log.waiting", message)]
        missing = self._missing(view)
        if missing is not None:
            message = f"refs cites entry {missing}, which is not known"
            return [Violation(view.log, view.seq, entry_id, "refs.unknown", message)]
        violation = self._judge(view, self._next.get(view.log, 0))
        if violation is not None:
            return [violation]
        self._record(view)
        if self._waiting:  # entries of other logs it releases report in `violations`
            self._release(view.id, [])
        return []

    def apply_bytes(self, data: bytes) -> list[Violation]:
        """`apply` for entry bytes (parsed and hashed here)."""
        return self.apply(Entry.from_bytes(data), entry_id(data))

    def unreadable(self, log: str, seq: int, entry_id: str) -> list[Violation]:
        """Note that entry `seq` of `log` exists but could not be read or verified (the
        ledger audit reports why): it holds its place in the log and changes nothing."""
        return self.apply_view(EntryView(entry_id, log, seq, "", "", (), {}, (), _UNREADABLE))

    def apply(self, entry: Entry, entry_id: str) -> list[Violation]:
        """Apply the next entry of its log, or hold it back; return the violations found.

        The violations are of this entry and of any held-back entries it released.
        """
        return self.apply_view(read_entry(entry, entry_id))

    def apply_view(self, view: EntryView) -> list[Violation]:
        """`apply` for an entry already read by `contracts.view.read_entry` (an audit reads
        entries in its worker processes)."""
        out: list[Violation] = []
        if self._queues:
            queue = self._queues.get(view.log)
            if queue:
                queue.append(view)
                return out
        known = self._known
        for ref in view.refs:
            if ref not in known:
                self._queues[view.log] = deque([view])
                self._waiting.setdefault(ref, []).append(view.log)
                return out
        self._process(view, out)
        if self._waiting:
            self._release(view.id, out)
        return out

    def _missing(self, view: EntryView) -> str | None:
        known = self._known
        for ref in view.refs:
            if ref not in known:
                return ref
        return None

    def _release(self, arrived: str, out: list[Violation]) -> None:
        work = [arrived]
        while work:
            logs = self._waiting.pop(work.pop(), None)
            for log in logs or ():
                queue = self._queues[log]
                while queue:
                    view = queue[0]
                    missing = self._missing(view)
                    if missing is not None:
                        self._waiting.setdefault(missing, []).append(log)
                        break
                    queue.popleft()
                    self._process(view, out)
                    work.append(view.id)
                if not queue:
                    del self._queues[log]

    def _process(self, view: EntryView, out: list[Violation]) -> None:
        """Judge the entry (unless unreadable) and record it (as `_record`)."""
        log, seq = view.log, view.seq
        expected = self._next.get(log, 0)
        if view.problem is not _UNREADABLE:
            violation = self._judge(view, expected)
            if violation is not None:
                out.append(violation)
                self._violations.append(violation)
        if seq >= expected:
            self._next[log] = seq + 1
        self._known.add(view.id)

    def _record(self, view: EntryView) -> None:
        """The entry is known, and its log's next seq follows it."""
        if view.seq >= self._next.get(view.log, 0):
            self._next[view.log] = view.seq + 1
        self._known.add(view.id)

    def _judge(self, view: EntryView, expected: int) -> Violation | None:
        """Run the shared checks and the entry's rule: None (state changed) or the violation
        (state unchanged). `expected` is the log's next seq."""
        try:
            if view.seq != expected:
                raise RuleViolation("log.seq", f"seq {view.seq} is not the next seq, {expected}")
            if view.problem is not None:
                raise RuleViolation(*view.problem)
            RULES[view.type](self.state, view)
        except RuleViolation as e:
            return Violation(view.log, view.seq, view.id, e.rule, e.message)
        except ContractError as e:  # e.g. a sum of amounts beyond MAX_MINOR, before any change
            return Violation(view.log, view.seq, view.id, f"{view.type}.invalid", str(e))
        return None


def fold(entries: Iterable[tuple[Entry, str]]) -> Fold:
    """A new `Fold` with `entries` (each with its id) applied in the given order."""
    result = Fold()
    for entry, eid in entries:
        result.apply(entry, eid)
    return result
