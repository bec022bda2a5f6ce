"""The port through which a higher layer's rules join the audit.

`ledger` knows formats, signatures and trees, not what entries mean; `contracts` knows the
meaning. The composition root (the CLI) passes an `EntryRules` to `ledger.audit.audit`,
which hands it every entry that passed the ledger checks, log by log in seq order (logs
interleaved bundle by bundle), and asks for its last words at the end.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from ledger.audit.report import Finding
from ledger.entry import Entry

__all__ = ["EntryRules"]


class EntryRules(Protocol):
    """Rules applied to the entries of a bundle, in each log's seq order."""

    def apply(self, entry: Entry, entry_id: str) -> Iterable[Finding]:
        """Judge the next entry of its log; return what it (or entries it released) broke."""
        ...

    def unreadable(self, log: str, seq: int, entry_id: str) -> Iterable[Finding]:
        """The entry at `seq` failed the ledger checks: it exists but means nothing."""
        ...

    def finish(self) -> Iterable[Finding]:
        """Called once after the last entry: findings that only the whole can show."""
        ...
