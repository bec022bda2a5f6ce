"""The contract rules as the audit's `ledger.audit.EntryRules`: every rule violation in a
bundle becomes a finding naming log, seq, entry id, rule and a plain sentence.

Entries whose references never arrive stay pending; at the end each is reported as a notice
(the bundle may simply not hold the log that has the referenced entry).
"""

from __future__ import annotations

from collections.abc import Iterable

from contracts.fold import Fold, Violation
from ledger.audit import Finding
from ledger.entry import Entry

__all__ = ["ContractRules"]


def _finding(violation: Violation) -> Finding:
    return Finding(
        rule=violation.rule,
        message=violation.message,
        log=violation.log,
        seq=violation.seq,
        entry_id=violation.entry_id,
    )


class ContractRules:
    """Folds a bundle's entries through the contract rules (see `contracts.fold`)."""

    def __init__(self) -> None:
        self.fold = Fold()

    def apply(self, entry: Entry, entry_id: str) -> Iterable[Finding]:
        violations = self.fold.apply(entry, entry_id)
        return [_finding(v) for v in violations] if violations else ()

    def unreadable(self, log: str, seq: int, entry_id: str) -> Iterable[Finding]:
        return [_finding(v) for v in self.fold.unreadable(log, seq, entry_id)]

    def finish(self) -> Iterable[Finding]:
        notices = []
        for pending in self.fold.pending:
            if pending.missing:
                what = "cites " + ", ".join(pending.missing) + ", not in this bundle"
            else:
                what = "waits behind an earlier entry of its log that cites an absent entry"
            notices.append(
                Finding(
                    rule="rules.pending",
                    message=f"the contract rules could not judge this entry: it {what}",
                    log=pending.log,
                    seq=pending.seq,
                    entry_id=pending.entry_id,
                    severity="notice",
                )
            )
        return notices
