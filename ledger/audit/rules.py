"""The port through which a higher layer's rules join the audit.

`ledger` knows formats, signatures and trees, not what entries mean; `contracts` knows the
meaning. The composition root (the CLI) passes an `EntryRules` to `ledger.audit.audit`.

The rules work in two steps, so that the part that needs no state runs in parallel:

1. `reader(entry)`, in the audit's worker processes, next to the ledger's own
   checks of each entry (see `ledger.audit.entries`), for every entry that passed them. It
   is pure and picklable (a module-level function), and so is what it returns: a small
   value for step 2 (the entry's own checks done, its body parsed).
2. `apply(...)`, in the auditing process, with what `reader` returned for a run of entries
   of one log (an entry bundle), log by log in seq order (logs interleaved bundle by
   bundle): the checks that need the state. Entries that failed the ledger checks come as
   None.

`finish` is asked for the rules' last words at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from ledger.audit.report import Finding
from ledger.entry import Entry

__all__ = ["EntryReader", "EntryRules"]

#: Step 1: a pure, picklable function of a verified entry.
EntryReader = Callable[[Entry], Any]


class EntryRules(Protocol):
    """Rules applied to the entries of a bundle, in each log's seq order."""

    @property
    def reader(self) -> EntryReader:
        """The function the workers run on each verified entry (it never raises)."""
        ...

    def apply(self, log: str, start: int, ids: bytes, items: Sequence[Any]) -> Iterable[Finding]:
        """Judge entries `start`, `start + 1`, ... of `log`, the next of that log in seq order;
        return what they (or entries they released) broke.

        `items[k]` is what `reader` made of entry `start + k`, or None if that entry failed a
        ledger check (it holds its place but means nothing); `ids` holds the entries' 32-byte
        ids (leaf hashes), one after the other.
        """
        ...

    def finish(self) -> Iterable[Finding]:
        """Called once after the last entry: findings that only the whole can show."""
        ...
