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

Checks shared by all entries: seq follows the previous entry of the log (`log.seq`); seq 0
is a `log.genesis` (`log.genesis.first`); the type is one of DESIGN §5 and the body fits its
schema (`schema.<type>`); every entry id named in the body is in `refs` (`refs.missing`).
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from contracts.errors import ContractError, RuleViolation
from contracts.rules import RULES, Ctx
from contracts.schemas import BODY_SPECS
from contracts.state import State
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


@dataclass(frozen=True, slots=True)
class _Unreadable:
    """Stands in the queue for an entry that exists but failed the ledger's checks: it takes
    its seq and is known (entries citing it are judged, not held back), but changes nothing."""

    log: str
    seq: int
    refs: tuple[str, ...] = ()


_Item = Entry | _Unreadable


class Fold:
    """Apply entries to a `State`, holding back those whose references are not known yet."""

    def __init__(self) -> None:
        self.state = State()
        self._violations: list[Violation] = []
        self._known: set[str] = set()
        self._next: dict[str, int] = {}
        self._queues: dict[str, deque[tuple[_Item, str]]] = {}
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
            for entry, eid in self._queues[log]:
                missing = tuple(r for r in entry.refs if r not in self._known)
                out.append(Pending(log=log, seq=entry.seq, entry_id=eid, missing=missing))
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
        if self._queues.get(entry.log):
            message = "earlier entries of this log are still waiting for their references"
            return [Violation(entry.log, entry.seq, entry_id, "log.waiting", message)]
        missing = self._missing(entry)
        if missing is not None:
            message = f"refs cites entry {missing}, which is not known"
            return [Violation(entry.log, entry.seq, entry_id, "refs.unknown", message)]
        violation = self._judge(entry, entry_id)
        if violation is not None:
            return [violation]
        self._record(entry, entry_id)
        if self._waiting:  # entries of other logs it releases report in `violations`
            self._release(entry_id, [])
        return []

    def apply_bytes(self, data: bytes) -> list[Violation]:
        """`apply` for entry bytes (parsed and hashed here)."""
        return self.apply(Entry.from_bytes(data), entry_id(data))

    def unreadable(self, log: str, seq: int, entry_id: str) -> list[Violation]:
        """Note that entry `seq` of `log` exists but could not be read or verified (the
        ledger audit reports why): it holds its place in the log and changes nothing."""
        return self.apply(_Unreadable(log, seq), entry_id)

    def apply(self, entry: _Item, entry_id: str) -> list[Violation]:
        """Apply the next entry of its log, or hold it back; return the violations found.

        The violations are of this entry and of any held-back entries it released.
        """
        out: list[Violation] = []
        queue = self._queues.get(entry.log)
        if queue:
            queue.append((entry, entry_id))
            return out
        missing = self._missing(entry)
        if missing is not None:
            self._queues[entry.log] = deque([(entry, entry_id)])
            self._waiting.setdefault(missing, []).append(entry.log)
            return out
        self._process(entry, entry_id, out)
        if self._waiting:
            self._release(entry_id, out)
        return out

    def _missing(self, entry: _Item) -> str | None:
        known = self._known
        for ref in entry.refs:
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
                    entry, eid = queue[0]
                    missing = self._missing(entry)
                    if missing is not None:
                        self._waiting.setdefault(missing, []).append(log)
                        break
                    queue.popleft()
                    self._process(entry, eid, out)
                    work.append(eid)
                if not queue:
                    del self._queues[log]

    def _process(self, entry: _Item, eid: str, out: list[Violation]) -> None:
        if isinstance(entry, _Unreadable):
            self._record(entry, eid)
            return
        violation = self._judge(entry, eid)
        self._record(entry, eid)
        if violation is not None:
            self._violate(violation, out)

    def _record(self, entry: _Item, eid: str) -> None:
        self._next[entry.log] = max(self._next.get(entry.log, 0), entry.seq + 1)
        self._known.add(eid)

    def _judge(self, entry: Entry, eid: str) -> Violation | None:
        """Run the shared checks and the entry's rule: None (state changed) or the violation
        (state unchanged)."""
        expected = self._next.get(entry.log, 0)
        try:
            if entry.seq != expected:
                raise RuleViolation("log.seq", f"seq {entry.seq} is not the next seq, {expected}")
            if entry.seq == 0 and entry.type != "log.genesis":
                raise RuleViolation("log.genesis.first", "a log's first entry must be log.genesis")
            spec = BODY_SPECS.get(entry.type)
            if spec is None:
                raise RuleViolation("schema.type", f"{entry.type!r} is not an entry type")
            body = spec.load(entry.body)
            for name in spec.refs:
                _check_refs(entry, entry.body.get(name))
            RULES[entry.type](self.state, entry, Ctx(eid, body))
        except RuleViolation as e:
            return Violation(entry.log, entry.seq, eid, e.rule, e.message)
        except ContractError as e:  # e.g. a sum of amounts beyond MAX_MINOR, before any change
            return Violation(entry.log, entry.seq, eid, f"{entry.type}.invalid", str(e))
        return None

    def _violate(self, violation: Violation, out: list[Violation]) -> None:
        out.append(violation)
        self._violations.append(violation)


def _check_refs(entry: Entry, value: object) -> None:
    if value is None:
        return
    refs = entry.refs
    for item in value if isinstance(value, list) else (value,):
        if item not in refs:
            raise RuleViolation(
                "refs.missing", f"the body names entry {item} but refs does not list it"
            )


def fold(entries: Iterable[tuple[Entry, str]]) -> Fold:
    """A new `Fold` with `entries` (each with its id) applied in the given order."""
    result = Fold()
    for entry, eid in entries:
        result.apply(entry, eid)
    return result
